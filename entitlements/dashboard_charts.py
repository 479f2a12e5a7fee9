"""The dashboard's charts as geometry for inline SVG: the template draws it, CSS colours it.

Drawn on the server (no script, no library, nothing from a CDN), in a fixed coordinate space
scaled by the browser (viewBox). Colours are CSS classes (dashboard.css), so both admin themes
apply; each mark has a <title>, and the template adds the figures as a table.
"""

import html
import math
from collections.abc import Iterable
from datetime import date

from django.utils.safestring import SafeString, mark_safe

from .change_stats import LATENCY_BUCKETS_MS

# The wide chart and the two drawn side by side: each sized for its place, so text keeps its size.
WIDE, NARROW, HEIGHT = 720, 420, 170
LEFT, RIGHT, TOP, BOTTOM = 52, 22, 10, 22
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BASELINE = TOP + PLOT_HEIGHT
LATENCY_TOP_MS = LATENCY_BUCKETS_MS[-1]  # beyond it the buckets cannot tell


def join_marks(template: str, rows: Iterable[tuple], separator: str = "") -> SafeString:
    """format_html_join, fast: each text escaped (numbers and marks built here are kept).

    The page draws some 500 marks; Django's escape per value cost more than its queries.
    """
    return mark_safe(
        separator.join(
            template.format(
                *(
                    v if isinstance(v, SafeString | int | float) else html.escape(str(v))
                    for v in row
                )
            )
            for row in rows
        )
    )


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^n at or above `value` (at least 1): the axis' top."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def milliseconds(ms: float) -> str:
    return f"{ms:g} ms" if ms < 1000 else f"{ms / 1000:g} s"


def _height(value: float, top: float) -> float:
    return round(value / top * PLOT_HEIGHT, 1)


def _frame(days: list[date], top: float, label, width: int) -> dict:
    """What every chart shares: its size, the slot of each day and its axes (the y ticks, a
    day label every week) as SVG marks."""
    slot = (width - LEFT - RIGHT) / max(len(days), 1)
    ticks = join_marks(
        '<line class="dash-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
        '<text class="dash-axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">'
        "{}</text>",
        (
            (LEFT, width - RIGHT, y, y, LEFT - 6, y, label(top * share))
            for share in (0, 0.5, 1)
            for y in [round(BASELINE - _height(top * share, top), 1)]
        ),
    )
    # Labelled from the newest day back, so today always has one.
    x_labels = join_marks(
        '<text class="dash-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (round(LEFT + (i + 0.5) * slot, 1), HEIGHT - 6, f"{day:%d %b}")
            for i, day in enumerate(days)
            if (len(days) - 1 - i) % 7 == 0
        ),
    )
    return {
        "width": width,
        "height": HEIGHT,
        "slot": slot,
        "bar_width": round(slot * 0.7, 1),
        "axes": ticks + x_labels,
    }


def _bar_x(frame: dict, index: int) -> float:
    return round(LEFT + index * frame["slot"] + frame["slot"] * 0.15, 1)


def outcome_chart(days: list[tuple[date, dict[str, int], str]], labels: dict[str, str]) -> dict:
    """Stacked bars: each day's changes by series (outcome, made at the provider), linked to
    that day's audit log."""
    top = nice_ceiling(max((sum(values.values()) for _day, values, _url in days), default=0))
    frame = _frame([day for day, _values, _url in days], top, lambda v: f"{v:g}", WIDE)
    bars = []
    for index, (day, values, url) in enumerate(days):
        x, y, segments = _bar_x(frame, index), BASELINE, []
        for key, count in values.items():
            if count:
                height = _height(count, top)
                y = round(y - height, 1)
                segments.append((key, x, y, frame["bar_width"], height))
        total = sum(values.values())
        parts = ", ".join(f"{n} {labels[key]}" for key, n in values.items() if n)
        title = f"{day:%a %d %b}: {total} change(s)" + (f": {parts}" if parts else "")
        bars.append({"url": url, "title": title, "segments": segments})
    marks = join_marks(
        '<a href="{}" class="dash-day"><title>{}</title>{}</a>',
        ((bar["url"], bar["title"], join_marks(_SEGMENT, bar["segments"])) for bar in bars),
    )
    return {**frame, "bars": bars, "marks": marks}


_SEGMENT = '<rect class="dash-s-{}" x="{}" y="{}" width="{}" height="{}"></rect>'


def rate_chart(days: list[tuple[date, float | None, int]]) -> dict:
    """Bars: the share of changeProduct calls without a usable answer, per day (in %)."""
    top = nice_ceiling(max((rate * 100 for _d, rate, _n in days if rate is not None), default=0))
    frame = _frame([day for day, _rate, _calls in days], top, lambda v: f"{v:g}%", NARROW)
    bars = []
    for index, (day, rate, calls) in enumerate(days):
        if rate is None:
            continue
        height = _height(rate * 100, top)
        title = f"{day:%a %d %b}: {rate:.1%} of {calls} call(s) without a usable answer"
        bars.append((_bar_x(frame, index), round(BASELINE - height, 1), frame["bar_width"],
                     height, title))  # fmt: skip
    marks = join_marks(
        '<rect class="dash-error" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        bars,
    )
    return {**frame, "marks": marks}


def latency_chart(days: list[tuple[date, float | None, int]]) -> dict:
    """A line through each day's p95 latency (bucket upper bound); days without calls break it.
    A p95 beyond the last bucket is drawn at the top and marked as such."""
    finite = [p95 for _d, p95, _n in days if p95 is not None and not math.isinf(p95)]
    slowest = LATENCY_TOP_MS if any(p95 == math.inf for _d, p95, _n in days) else 0
    top = nice_ceiling(max([*finite, slowest], default=0))
    frame = _frame([day for day, _p95, _calls in days], top, milliseconds, NARROW)
    lines, line, points = [], [], []
    for index, (day, p95, calls) in enumerate(days):
        if p95 is None:
            if line:
                lines.append((" ".join(line),))
            line = []
            continue
        over = math.isinf(p95)
        x = round(LEFT + (index + 0.5) * frame["slot"], 1)
        y = round(BASELINE - _height(min(p95, top), top), 1)
        line.append(f"{x},{y}")
        said = f"over {milliseconds(LATENCY_TOP_MS)}" if over else f"≤ {milliseconds(p95)}"
        css = "dash-point dash-over" if over else "dash-point"
        points.append((css, x, y, f"{day:%a %d %b}: p95 {said} ({calls} calls)"))
    if line:
        lines.append((" ".join(line),))
    marks = join_marks('<polyline class="dash-line" points="{}"></polyline>', lines)
    marks += join_marks(
        '<circle class="{}" cx="{}" cy="{}" r="3"><title>{}</title></circle>', points
    )
    return {**frame, "marks": marks}
