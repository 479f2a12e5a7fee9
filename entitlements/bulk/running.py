"""One worker's share of a running job: BULK_CONCURRENCY threads, each claiming the next item,
sending it through the change service and recording what became of it.

Exactly once, whatever is killed when:
- an item is claimed by a state transition in the database (PostgreSQL: FOR UPDATE SKIP LOCKED,
  so two workers never claim the same one; SQLite: one worker, IMMEDIATE transactions), with a
  lease the runner's heartbeat renews;
- change_product writes the audit record (naming the job) before OPF is called, so a claim whose
  lease ran out (its worker died) is settled from that record: none -> nothing was sent, the item
  is pending again; in flight or unknown -> it may have reached OPF: Needs attention, never
  resent (reconcile_changes turns the record into "outcome unknown"); finished -> its outcome.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from ..exceptions import ChangeRefused, StaleEntitlement
from ..models import ChangeAttempt
from ..opf import OpfError
from ..outcomes import Outcome
from . import throttle
from .models import (
    OPEN_ITEM_STATES,
    RUNNING_STATES,
    BulkJob,
    BulkJobItem,
    EventKind,
    ItemState,
    JobState,
)
from .planning import REASONS
from .states import transition

log = logging.getLogger(__name__)

IDLE_PAUSE = 0.5  # seconds between looks when the only open items are other workers'
UNSETTLED = (Outcome.IN_FLIGHT, Outcome.OUTCOME_UNKNOWN)
ABANDONED = (
    "The worker sending this change stopped before OPF's answer was recorded; OPF may have "
    "received it, so the job never resends it. A supervisor reconciles it."
)


def lease_seconds() -> int:
    return settings.BULK_LEASE_SECONDS


def is_current(job_id: int, generation: int) -> bool:
    return BulkJob.objects.filter(
        pk=job_id, generation=generation, state__in=RUNNING_STATES
    ).exists()


class Runner:
    """Work on one job until it stops running, has nothing left for us, or `until` (monotonic)."""

    def __init__(self, job_id: int, generation: int, *, until: float) -> None:
        self.job_id, self.generation, self.until = job_id, generation, until
        self.token = uuid.uuid4().hex
        self.stopping = threading.Event()
        self.renewed = time.monotonic()

    def run(self) -> bool:
        """Returns True while the job is still running (its next task should look again)."""
        job = (
            BulkJob.objects.select_related("target_product", "created_by")
            .filter(pk=self.job_id, generation=self.generation, state__in=RUNNING_STATES)
            .first()
        )
        if job is None:
            return False
        getattr(job.created_by, "sso_identity", None)  # read once, not by every thread
        self.job = job
        recover_abandoned(job.pk)
        heartbeat = threading.Thread(target=self._heartbeat, name=f"bulk-{job.pk}-heartbeat")
        senders = [
            threading.Thread(target=self._send_loop, name=f"bulk-{job.pk}-sender-{n}")
            for n in range(settings.BULK_CONCURRENCY)
        ]
        for thread in [heartbeat, *senders]:
            thread.start()
        for thread in senders:
            thread.join()
        self.stopping.set()
        heartbeat.join()
        # Our threads are done: whatever they still hold is settled now, not after the lease.
        for item in BulkJobItem.objects.filter(
            job_id=job.pk, state=ItemState.CLAIMED, claimed_by=self.token
        ):
            settle_claim(item)
        return advance(job.pk, self.generation)

    # --- threads ---------------------------------------------------------------------------

    def _send_loop(self) -> None:
        try:
            while not self.stopping.is_set() and time.monotonic() < self.until:
                reset_queries()  # DEBUG keeps every query of a connection; a job runs long
                item = claim_next(self.job, self.generation, self.token)
                if item is not None:
                    if not self._send_safely(item):
                        return  # the next task of the chain tries again, not this loop
                elif not recover_abandoned(self.job_id):
                    if not advance(self.job_id, self.generation):
                        return  # paused, cancelled or finished
                    time.sleep(IDLE_PAUSE)  # others' items are still being sent
        except Exception:
            log.exception("bulk job %s: sender stopped", self.job_id)
        finally:
            connection.close()

    def _send_safely(self, item: BulkJobItem) -> bool:
        try:
            self._send(item)
        except Exception:
            # A bug or a database error of ours: settle the item from its audit record.
            log.exception("bulk job %s: item %s failed", self.job_id, item.pk)
            settle_claim(item)
            return False
        return True

    def _heartbeat(self) -> None:
        try:
            while not self.stopping.wait(lease_seconds() / 3):
                try:
                    BulkJobItem.objects.filter(
                        job_id=self.job_id, state=ItemState.CLAIMED, claimed_by=self.token
                    ).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
                    self.renewed = time.monotonic()
                except Exception:
                    log.exception("bulk job %s: heartbeat failed", self.job_id)
        finally:
            connection.close()

    def _lease_held(self, claimed: float) -> bool:
        return time.monotonic() - max(claimed, self.renewed) < lease_seconds() / 2

    # --- one item ------------------------------------------------------------------------

    def _send(self, item: BulkJobItem) -> None:
        # Imported here: the admin pages import this module, and need no OPF client.
        from ..services import change_product, get_opf_client

        claimed = time.monotonic()
        entitlement = item.entitlement  # read with the claim
        if (entitlement.version, entitlement.product_id) != (
            item.planned_version,
            item.planned_product_id,
        ):
            finish(item, ItemState.SKIPPED, "changed_since_plan", REASONS["changed_since_plan"])
            return
        # A fresh token first (cached: no request), so no token fetch holds the slot. Without
        # one, the change service records the change as not sent, as for an agent.
        with contextlib.suppress(OpfError):
            get_opf_client().tokens.get_token()
        booking = throttle.book(self.token)
        try:
            throttle.wait_for(booking)
            if not self._lease_held(claimed):
                # Our claim may have lapsed (heartbeat failing): leave it to another worker.
                release(item)
                self.stopping.set()
                return
            job = self.job
            attempt = change_product(
                entitlement=entitlement,
                new_product=job.target_product,
                user=job.created_by,
                reason_code=job.reason_code,
                comment=job.comment,
                expected_version=item.planned_version,
                bulk_job=job,
            )
        except StaleEntitlement:
            finish(item, ItemState.SKIPPED, "changed_since_plan", REASONS["changed_since_plan"])
        except ChangeRefused as exc:
            finish(item, ItemState.SKIPPED, "refused", str(exc))
        else:
            finish_with_attempt(item, attempt)
        finally:
            throttle.release(booking)


# --- the item's state transitions -----------------------------------------------------------


# One statement, one round trip: take the job's next pending item (its first batch only while
# that runs) if the job is still in this generation. PostgreSQL: SKIP LOCKED, so concurrent
# workers take different items; SQLite runs one statement at a time.
_CLAIM = """
UPDATE {items} SET state = %s, claimed_by = %s, claimed_at = %s, lease_until = %s
WHERE id = (
    SELECT i.id FROM {items} i JOIN {jobs} j ON j.id = i.job_id
    WHERE i.job_id = %s AND i.state = %s AND j.generation = %s
      AND (j.state = %s OR (j.state = %s AND i.position <= j.first_batch))
    ORDER BY i.position LIMIT 1 {lock}
)
RETURNING id
"""


def claim_next(job: BulkJob, generation: int, token: str) -> BulkJobItem | None:
    """Take the next pending item of the job (its first batch only, while that runs)."""
    now = timezone.now()
    statement = _CLAIM.format(
        items=connection.ops.quote_name(BulkJobItem._meta.db_table),
        jobs=connection.ops.quote_name(BulkJob._meta.db_table),
        lock="FOR UPDATE OF i SKIP LOCKED" if connection.vendor == "postgresql" else "",
    )
    lease_until = now + timedelta(seconds=lease_seconds())
    with connection.cursor() as cursor:
        cursor.execute(statement, [
            ItemState.CLAIMED, token, now, lease_until, job.pk, ItemState.PENDING, generation,
            JobState.RUNNING, JobState.RUNNING_FIRST_BATCH,
        ])  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return None
    return BulkJobItem.objects.select_related("entitlement").get(pk=row[0])


def finish(item: BulkJobItem, state: ItemState, outcome: str, detail: str, attempt=None) -> bool:
    """Record the item's end, if it is still ours (a lapsed claim was settled by another)."""
    changes = {"state": state, "outcome": outcome, "detail": detail}
    if attempt is not None:
        changes["attempt"] = attempt
    return bool(
        BulkJobItem.objects.filter(
            pk=item.pk, state=ItemState.CLAIMED, claimed_by=item.claimed_by
        ).update(**changes, finished_at=timezone.now(), lease_until=None)
    )


def finish_with_attempt(item: BulkJobItem, attempt: ChangeAttempt) -> bool:
    if attempt.outcome in UNSETTLED:
        detail = attempt.detail if attempt.outcome == Outcome.OUTCOME_UNKNOWN else ABANDONED
        return finish(item, ItemState.NEEDS_ATTENTION, attempt.outcome, detail, attempt)
    return finish(item, ItemState.DONE, attempt.outcome, attempt.opf_message, attempt)


def release(item: BulkJobItem) -> None:
    """Back to pending: nothing was sent for this claim."""
    BulkJobItem.objects.filter(pk=item.pk, state=ItemState.CLAIMED).update(
        state=ItemState.PENDING, claimed_by="", claimed_at=None, lease_until=None
    )


def settle_claim(item: BulkJobItem) -> None:
    """Settle a claim nobody works on any more, from the audit record its change left (if any)."""
    attempt = (
        ChangeAttempt.objects.filter(
            bulk_job_id=item.job_id, entitlement_id=item.entitlement_id, pk__gt=item.attempt_id or 0
        )
        .order_by("-pk")
        .first()
    )
    if attempt is None:
        release(item)  # the audit record is written before OPF is called: nothing was sent
    else:
        finish_with_attempt(item, attempt)


def recover_abandoned(job_id: int) -> int:
    """Settle the claims of workers that stopped renewing their lease (killed, frozen)."""
    with transaction.atomic():
        lapsed = list(
            BulkJobItem.objects.filter(
                job_id=job_id, state=ItemState.CLAIMED, lease_until__lt=timezone.now()
            ).select_for_update(skip_locked=True, of=("self",))[:100]
        )
        for item in lapsed:
            log.warning("bulk job %s: item %s abandoned by %s", job_id, item.pk, item.claimed_by)
            settle_claim(item)
    return len(lapsed)


def advance(job_id: int, generation: int) -> bool:
    """Pause after the first batch, finish at the end; True while the job goes on running."""
    job = BulkJob.objects.filter(pk=job_id, generation=generation).first()
    if job is None or job.state not in RUNNING_STATES:
        return False
    open_items = BulkJobItem.objects.filter(job_id=job_id, state__in=OPEN_ITEM_STATES)
    if job.state == JobState.RUNNING_FIRST_BATCH:
        open_items = open_items.filter(position__lte=job.first_batch)
    if open_items.exists():
        return True
    if job.state == JobState.RUNNING_FIRST_BATCH and job.qualifying_count > job.first_batch:
        to_state, kind = JobState.PAUSED, EventKind.FIRST_BATCH_DONE
        detail = f"The first {job.first_batch} ran; review them, then resume for the rest."
    else:
        to_state, kind, detail = JobState.FINISHED, EventKind.FINISHED, ""
    transition(
        job, from_states=[job.state], to_state=to_state, kind=kind, detail=detail,
        generation=generation,
    )  # fmt: skip
    return False
