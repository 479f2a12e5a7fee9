"""The shared changeProduct budget: at most OPF_MAX_REQUESTS_PER_SECOND in any second, as OPF
receives them, across every worker on every machine.

The budget is N rows (RequestSlot). A sender books a free slot: it locks the one free the
earliest, holds it, and sleeps until its time; it then sends (change_product) and releases the
slot, which is free again one second after the answer came back. OPF received the request
between the booked time and the answer, so two requests on one slot reach OPF at least a second
apart, however late a loaded machine sent one of them, and no second at OPF holds more than N.
Works the same on SQLite (IMMEDIATE transactions serialize the bookings) and PostgreSQL (row
locks; SKIP LOCKED spreads concurrent senders over different slots).

A slot whose holder died (killed worker) is free again after HOLD_SECONDS past its time, longer
than any request may take (the OPF client's timeouts). Only bulk jobs book slots: an agent's own
change never waits behind a job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from .models import RequestSlot

SPACING = 1.0  # seconds between the answer to one request and the next request on its slot
RETRY_PAUSE = 0.005  # every slot was held or locked by another sender: look again soon
MAX_WAIT = 600.0


def budget() -> int:
    return settings.OPF_MAX_REQUESTS_PER_SECOND


def hold_seconds() -> float:
    # A token fetch, then up to two changeProduct requests (a resend after a refused token).
    return 3 * (settings.OPF_CONNECT_TIMEOUT + settings.OPF_READ_TIMEOUT) + 5.0


@dataclass(frozen=True)
class Booking:
    slot: int
    at: float  # Unix time: the request may leave from then on
    holder: str


# One statement, one round trip: take the free slot with the earliest time and hold it. On
# PostgreSQL SKIP LOCKED sends concurrent senders to different slots; SQLite runs one statement
# at a time. held_until = the booked time + the hold, so the booked time comes back with it.
_BOOK = """
UPDATE {table} SET holder = %s, held_until = {greatest}(%s, free_at) + %s
WHERE slot = (
    SELECT slot FROM {table} WHERE slot < %s AND (holder = '' OR held_until < %s)
    ORDER BY free_at, slot LIMIT 1 {lock}
)
RETURNING slot, held_until
"""


def _book_statement(vendor: str) -> str:
    postgres = vendor == "postgresql"
    return _BOOK.format(
        table=connection.ops.quote_name(RequestSlot._meta.db_table),
        greatest="GREATEST" if postgres else "MAX",
        lock="FOR UPDATE SKIP LOCKED" if postgres else "",
    )


def book(holder: str) -> Booking:
    """Hold the slot free the earliest and return when its request may be sent."""
    slots, hold = budget(), hold_seconds()
    statement = _book_statement(connection.vendor)
    give_up = time.monotonic() + MAX_WAIT
    while time.monotonic() < give_up:
        now = time.time()
        with connection.cursor() as cursor:
            cursor.execute(statement, [holder, now, hold, slots, now])
            row = cursor.fetchone()
        if row is not None:
            return Booking(row[0], row[1] - hold, holder)
        if not _ensure_slots(slots):
            time.sleep(RETRY_PAUSE)
    raise RuntimeError("No OPF request slot came free.")


def wait_for(booking: Booking) -> None:
    delay = booking.at - time.time()
    if delay > 0:
        time.sleep(delay)


def release(booking: Booking, *, answered_at: float | None = None) -> None:
    """The request was answered (or never sent): the slot is free a second after that."""
    answered_at = time.time() if answered_at is None else answered_at
    RequestSlot.objects.filter(pk=booking.slot, holder=booking.holder).update(
        holder="", free_at=max(answered_at, booking.at) + SPACING
    )


def _ensure_slots(slots: int) -> bool:
    """Create missing slot rows (first use, or a raised budget); True if any were missing."""
    if RequestSlot.objects.filter(slot__lt=slots).count() >= slots:
        return False
    RequestSlot.objects.bulk_create(
        [RequestSlot(slot=i) for i in range(slots)], ignore_conflicts=True
    )
    return True
