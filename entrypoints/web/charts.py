"""The overview's charts (rqledger.application.throughput) as the shapes of inline SVG: where each bar goes.

Only numbers are computed here; the markup is templates/rqledger/section_charts.html, so Jinja escapes every
task type's name in it. The SVGs hold no text: they stretch to their card's width (viewBox, no fixed size)
and the labels beside them are HTML, readable at any width. Each SVG's <title> says its numbers in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rqledger.application.throughput import Bucket, Charts, Durations

KINDS = ("finished", "failed", "canceled")
SLOT = 10  # viewBox units per bucket; each bar is 8 wide
HEIGHT = 100
TOP = 4  # room above the highest bar
SMALLEST = 1.5  # a bucket of one task stays visible beside a bucket of thousands
DURATION_TYPES = 12  # task types shown in the duration chart (those with most runs)


@dataclass(frozen=True)
class Bar:
    x: int
    bucket: Bucket
    segments: tuple[tuple[str, float, float], ...]  # (outcome, y, height), stacked from the bottom


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    peak: int  # most tasks in one bucket
    totals: dict[str, int]
    width: int
    height: int = HEIGHT


def bar_chart(buckets: Sequence[Bucket]) -> BarChart:
    """Bars stacked finished, failed, canceled from the bottom, scaled to the busiest bucket."""
    peak = max((b.total for b in buckets), default=0)
    scale = (HEIGHT - TOP) / peak if peak else 0.0
    bars = []
    for index, bucket in enumerate(buckets):
        y, segments = float(HEIGHT), []
        for kind in KINDS:
            count = getattr(bucket, kind)
            if count:
                height = max(count * scale, SMALLEST)
                y = max(y - height, 0.0)
                segments.append((kind, round(y, 2), round(height, 2)))
        bars.append(Bar(index * SLOT + 1, bucket, tuple(segments)))
    totals = {kind: sum(getattr(b, kind) for b in buckets) for kind in KINDS}
    return BarChart(bars, peak, totals, len(buckets) * SLOT)


@dataclass(frozen=True)
class DurationRow:
    durations: Durations
    p50_width: float  # percent of the slowest p95 shown
    p95_width: float


def duration_rows(found: Sequence[Durations], shown: int = DURATION_TYPES) -> list[DurationRow]:
    rows = list(found[:shown])
    slowest = max((d.p95 for d in rows), default=0.0)

    def width(seconds: float) -> float:
        return round(max(seconds / slowest * 100, 0.5), 2) if slowest else 0.5

    return [DurationRow(d, width(d.p50), width(d.p95)) for d in rows]


def seconds(value: float) -> str:
    """A duration as people read it: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def overview(charts: Charts) -> dict:
    """What section_charts.html draws."""
    return {"charts": charts, "hour": bar_chart(charts.hour), "day": bar_chart(charts.day),
            "durations": duration_rows(charts.durations), "more_types": max(len(charts.durations) - DURATION_TYPES, 0)}
