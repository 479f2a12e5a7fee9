"""The supervisor dashboard's daily counters, kept as change records finish."""

from django.db import models


class StatMeasure(models.TextChoices):
    """What one row of the dashboard's aggregate counts (see entitlements/change_stats.py)."""

    OUTCOME = "outcome", "portal changes by outcome"
    PROVIDER_CHANGE = "provider_change", "changes made at the provider"
    REASON = "reason", "portal changes by reason"
    AGENT = "agent", "portal changes by agent"
    OPF_CALL = "opf_call", "changeProduct calls"
    OPF_ERROR = "opf_error", "changeProduct calls without a usable answer"
    OPF_LATENCY = "opf_latency", "changeProduct calls by latency bucket"


class DailyChangeStat(models.Model):
    """The supervisors' dashboard aggregate: one counter per day, measure and key.

    Not part of the audit: kept in the transaction that finishes a change record, so it always
    agrees with ChangeAttempt, and rebuilt from it by `manage.py rebuild_dashboard_stats`.
    `day` is the change's created_at date in the portal's time zone; `key` is an outcome, a
    reason code, a username or a latency bucket's upper bound in ms ("" for plain counts).
    """

    day = models.DateField()
    measure = models.CharField(max_length=20, choices=StatMeasure.choices)
    key = models.CharField(max_length=150, blank=True)
    # Not a Positive field: a move between outcomes must never fail the audit's transaction.
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "daily change figure"
        constraints = [
            models.UniqueConstraint(fields=["day", "measure", "key"], name="daily_change_stat_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.key}: {self.count}"
