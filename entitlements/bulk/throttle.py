"""The shared changeProduct budget: at most OPF_MAX_REQUESTS_PER_SECOND in any second, as OPF
receives them, across every worker on every machine.

The budget is N rows (RequestSlot), each holding the time of its latest request. A sender
locks the slot whose time is oldest, books the later of "now" and "that time + WINDOW" on it,
commits, and sleeps until the booked time. Each slot's bookings are WINDOW apart, so no window
of WINDOW seconds holds more than N requests, whatever the number of senders. Works the same on
SQLite (IMMEDIATE transactions serialize the bookings) and PostgreSQL (row locks; SKIP LOCKED
spreads concurrent senders over different slots).

WINDOW is a little more than one second: a request reaches OPF a few milliseconds after its
booked time (the audit record is written first), and not always the same few, so the margin
keeps a late request and an early one from meeting in the same second at OPF. Only bulk jobs
book slots: an agent's own change never waits behind a job.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction

from .models import RequestSlot

# One second plus the spread between booking a slot and OPF reading the request.
WINDOW = 1.0 + 0.05
# A full round of booking attempts found every slot locked (PostgreSQL): try again soon.
RETRY_PAUSE = 0.002
MAX_TRIES = 10_000


def budget() -> int:
    return settings.OPF_MAX_REQUESTS_PER_SECOND


def book_slot() -> float:
    """Book the next free send time (Unix time) under the shared budget and return it."""
    slots = budget()
    for _ in range(MAX_TRIES):
        with transaction.atomic():
            slot = (
                RequestSlot.objects.select_for_update(skip_locked=True)
                .filter(slot__lt=slots)
                .order_by("sent_at", "slot")
                .first()
            )
            if slot is not None:
                at = max(time.time(), slot.sent_at + WINDOW)
                RequestSlot.objects.filter(pk=slot.pk).update(sent_at=at)
                return at
        if not _ensure_slots(slots):
            time.sleep(RETRY_PAUSE)  # all locked by other senders right now
    raise RuntimeError("No OPF request slot could be booked.")


def wait_for_slot() -> float:
    """Book a slot and sleep until its time; return the time it was booked for."""
    at = book_slot()
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)
    return at


def _ensure_slots(slots: int) -> bool:
    """Create missing slot rows (first use, or a raised budget); True if any were missing."""
    if RequestSlot.objects.filter(slot__lt=slots).count() >= slots:
        return False
    RequestSlot.objects.bulk_create(
        [RequestSlot(slot=i) for i in range(slots)], ignore_conflicts=True
    )
    return True
