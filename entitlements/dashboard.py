"""The supervisors' dashboard on the admin index: reads only, four queries whatever the audit holds.

The figures of the last 30 days come from the aggregate kept as changes finish (DailyChangeStat,
see change_stats.py), never from the audit table; the open / overdue / unknown counts from the
few open changes (served by the outcome index, and on PostgreSQL by the partial unique index of
open changes).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from . import dashboard_charts as charts
from .change_stats import p95_ms
from .dashboard_charts import join_marks
from .forms import reason_label
from .models import DailyChangeStat, StatMeasure
from .outcomes import Outcome
from .selectors import open_counts

DAYS = 30  # the charts
WEEK = 7  # top reasons and busiest agents: today and the 6 days before
TOP = 5

# The chart's series, bottom to top: the outcomes a finished or waiting portal change can have.
CHART_OUTCOMES = (
    Outcome.COMPLETED,
    Outcome.CONFIRMED,
    Outcome.AWAITING_CONFIRMATION,
    Outcome.DECLINED,
    Outcome.REJECTED,
    Outcome.NOT_FOUND,
    Outcome.NOT_SENT,
    Outcome.OUTCOME_UNKNOWN,
)
PROVIDER_SERIES = "provider_change"


@dataclass
class DayFigures:
    """One day of the aggregate."""

    day: date
    outcomes: dict[str, int] = field(default_factory=dict)
    provider_changes: int = 0
    calls: int = 0
    errors: int = 0
    latency: dict[str, int] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return sum(self.outcomes.values()) + self.provider_changes

    @property
    def error_rate(self) -> float | None:
        """The share of changeProduct calls without a usable answer, None without calls."""
        return self.errors / self.calls if self.calls else None

    @property
    def p95_ms(self) -> float | None:
        return p95_ms(self.latency)

    def series(self) -> dict[str, int]:
        """The chart's stacked values: each outcome, then the changes made at the provider."""
        values = {outcome.value: self.outcomes.get(outcome.value, 0) for outcome in CHART_OUTCOMES}
        values[PROVIDER_SERIES] = self.provider_changes
        return values


def daily_figures(today: date, days: int = DAYS) -> list[DayFigures]:
    """The `days` days up to `today`, oldest first, days without changes included (one query)."""
    first = today - timedelta(days=days - 1)
    figures = {day: DayFigures(day) for day in (first + timedelta(days=n) for n in range(days))}
    rows = DailyChangeStat.objects.filter(
        day__gte=first,
        day__lte=today,
        measure__in=[
            StatMeasure.OUTCOME,
            StatMeasure.PROVIDER_CHANGE,
            StatMeasure.OPF_CALL,
            StatMeasure.OPF_ERROR,
            StatMeasure.OPF_LATENCY,
        ],
    ).values_list("day", "measure", "key", "count")
    outcome, provider, call, error = (
        m.value for m in (StatMeasure.OUTCOME, StatMeasure.PROVIDER_CHANGE, StatMeasure.OPF_CALL,
                          StatMeasure.OPF_ERROR)
    )  # fmt: skip
    for day, measure, key, count in rows:
        figure = figures[day]
        if measure == outcome:
            figure.outcomes[key] = count
        elif measure == provider:
            figure.provider_changes += count
        elif measure == call:
            figure.calls = count
        elif measure == error:
            figure.errors = count
        else:
            figure.latency[key] = count
    return list(figures.values())


def busiest(measure: StatMeasure, today: date, limit: int = TOP) -> list[tuple[str, int]]:
    """The `limit` reasons or agents with the most portal changes this week (one query)."""
    rows = (
        DailyChangeStat.objects.filter(measure=measure, day__gt=today - timedelta(days=WEEK))
        .values("key")
        .annotate(changes=Sum("count"))
        .filter(changes__gt=0)
        .order_by("-changes", "key")[:limit]
    )
    return [(row["key"], row["changes"]) for row in rows]


def _audit_url(**query) -> str:
    return f"{reverse('admin:entitlements_changeattempt_changelist')}?{urlencode(query)}"


def _day_url(audit_log: str, day: date) -> str:
    """The audit log of one day (the date filter's from / to)."""
    return f"{audit_log}?created_from={day:%Y-%m-%d}&created_to={day:%Y-%m-%d}"


def _open_links(counts: dict[str, int]) -> list[dict]:
    attention = reverse("admin:entitlements_changeattempt_attention")
    return [
        {
            "label": "Open",
            "help": "in flight or awaiting the provider's confirmation",
            "count": counts["in_flight"] + counts["awaiting"],
            "url": _audit_url(
                outcome__in=f"{Outcome.IN_FLIGHT},{Outcome.AWAITING_CONFIRMATION}",
                settlement="none",  # a settled change is no longer open (issue 10)
            ),
            "name": "open",
        },
        {
            "label": "Overdue",
            "help": "awaiting confirmation past the deadline",
            "count": counts["overdue"],
            "url": attention,
            "name": "overdue",
        },
        {
            "label": "Outcome unknown",
            "help": "to check in OPF and settle",
            "count": counts["unknown"],
            "url": _audit_url(outcome__exact=Outcome.OUTCOME_UNKNOWN, settlement="none"),
            "name": "unknown",
        },
    ]


def _latency_label(p95: float | None) -> str:
    if p95 is None:
        return "no calls"
    if math.isinf(p95):
        return f"over {charts.milliseconds(charts.LATENCY_TOP_MS)}"
    return f"≤ {charts.milliseconds(p95)}"


def _table_rows(days: list[DayFigures]) -> list[dict]:
    """The figures behind the charts, newest first: their text alternative."""
    audit_log = reverse("admin:entitlements_changeattempt_changelist")
    rows = []
    for figure in reversed(days):
        rate = figure.error_rate
        rows.append(
            {
                "day": figure.day,
                "series": list(figure.series().values()),
                "changes": figure.changes,
                "calls": figure.calls,
                "error_rate": "–" if rate is None else f"{rate:.1%}",
                "p95": _latency_label(figure.p95_ms),
                "url": _day_url(audit_log, figure.day),
            }
        )
    return rows


def _table_markup(rows: list[dict]) -> str:
    """The table's rows as HTML: built here, as the charts' marks are, since a template loop per
    cell (420 of them) would cost more than the page's queries."""
    cells = '<td class="dash-num">{}</td>'
    return join_marks(
        '<tr data-day="{}"><th scope="row"><a href="{}">{}</a></th>{}'
        '<td class="dash-num dash-total">{}</td>' + cells * 3 + "</tr>",
        (
            (
                f"{row['day']:%Y-%m-%d}", row["url"], f"{row['day']:%a %d %b}",
                join_marks(cells, ((n,) for n in row["series"])),
                row["changes"], row["calls"], row["error_rate"], row["p95"],
            )
            for row in rows
        ),
    )  # fmt: skip


def supervisor_dashboard(now: datetime | None = None) -> dict:
    """Everything the dashboard template shows, for a supervisor (four queries)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = daily_figures(today)
    week_from = today - timedelta(days=WEEK - 1)
    series = [(o.value, o.label) for o in CHART_OUTCOMES] + [
        (PROVIDER_SERIES, "made at the provider")
    ]
    table = _table_rows(days)
    return {
        "days": DAYS,
        "open": _open_links(open_counts(now)),
        "series": series,
        "outcome_chart": charts.outcome_chart(
            [
                (row["day"], dict(zip(dict(series), row["series"], strict=True)), row["url"])
                for row in reversed(table)
            ],
            dict(series),
        ),  # fmt: skip
        "error_chart": charts.rate_chart([(f.day, f.error_rate, f.calls) for f in days]),
        "latency_chart": charts.latency_chart([(f.day, f.p95_ms, f.calls) for f in days]),
        "table": table,
        "table_markup": _table_markup(table),
        "week_from": week_from,
        "reasons": [
            {"label": reason_label(code) or code or "(none)", "changes": n}
            for code, n in busiest(StatMeasure.REASON, today)
        ],
        "agents": [
            {
                "username": username,
                "changes": n,
                "url": _audit_url(actor_username=username, created_from=week_from),
            }
            for username, n in busiest(StatMeasure.AGENT, today)
        ],
    }
