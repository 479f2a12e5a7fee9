"""Gauges read when Prometheus scrapes, from the database (so every process agrees on them).

Each source is a callable returning metric families; it runs once per scrape in the answering
process, so it must stay cheap: indexed COUNTs over the few open rows, never a table scan.
Extension point: a later feature (bulk job progress) calls `register_source(fn)` from its
AppConfig.ready().
"""

import logging
from collections.abc import Callable, Iterable

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from entitlements.selectors import open_counts

log = logging.getLogger("careportal.metrics")

Source = Callable[[], Iterable[GaugeMetricFamily]]


def change_gauges() -> Iterable[GaugeMetricFamily]:
    counts = open_counts()  # the dashboard's figures, read the same way
    in_flight, awaiting = counts["in_flight"], counts["awaiting"]
    described = [
        ("open", "Changes in flight or awaiting the provider's confirmation", in_flight + awaiting),
        ("in_flight", "Changes sent to OPF whose answer is not recorded yet", in_flight),
        ("awaiting_confirmation", "Changes OPF answered 202 to, not yet confirmed", awaiting),
        ("overdue", "Changes awaiting confirmation past CONFIRMATION_DEADLINE", counts["overdue"]),
        ("outcome_unknown", "Changes of unknown outcome", counts["unknown"]),
    ]
    for name, documentation, value in described:
        yield GaugeMetricFamily(f"careportal_changes_{name}", documentation, value=value)


_sources: list[Source] = [change_gauges]


def register_source(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


class DatabaseGauges(Collector):
    """Every registered source; one that fails (database down) is left out of this scrape and
    careportal_metrics_source_up says so."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "careportal_metrics_source_up",
            "1 when the gauges of this source could be read at this scrape",
            labels=["source"],
        )
        for source in _sources:
            try:
                families = list(source())
            except DatabaseError as exc:
                log.warning("metrics source %s failed (%s)", source.__name__, type(exc).__name__)
                up.add_metric([source.__name__], 0)
                continue
            up.add_metric([source.__name__], 1)
            yield from families
        yield up
