"""The audit's hash chain: one seal per audit fact, and the chain's head (docs/audit.md)."""

from django.db import models

from .changes import AuditQuerySet


class Seal(models.Model):
    """One link of the audit's hash chain (entitlements/audit_chain.py, docs/audit.md).

    Each audit fact (a change record created or finished, a notification delivery kept, ...) is
    sealed in the transaction that writes it: `content` is its canonical serialisation and
    `hash` = SHA-256(prev_hash + content), so editing, deleting, inserting or reordering any
    sealed fact breaks the chain from there on. Append-only: on PostgreSQL triggers refuse
    every UPDATE and DELETE (migration 0008_audit_seals).
    """

    sequence = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=40)
    subject_table = models.CharField(max_length=63)
    subject_pk = models.BigIntegerField()
    sealed_at = models.DateTimeField(db_index=True)
    content = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["subject_table", "subject_pk", "sequence"], name="seal_subject"),
        ]

    def __str__(self) -> str:
        return f"seal {self.sequence} {self.kind} {self.subject_table}:{self.subject_pk}"

    def save(self, *args, **kwargs):
        raise PermissionError("Seals are written only by entitlements.audit_chain.seal().")

    def delete(self, *args, **kwargs):
        raise PermissionError("Seals are never deleted.")


class ChainHead(models.Model):
    """The chain's newest link, one row: the lock every sealing transaction takes in turn."""

    sequence = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head {self.sequence} {self.hash}"
