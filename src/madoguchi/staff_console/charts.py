"""Server-rendered SVG charts: no JavaScript, no external files; each has a title and a summary.

Pages show the same numbers in a table next to each chart, so nothing depends on seeing colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 56


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str
    dashed: bool = False


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _frame(
    title: str, summary: str, body: list[str], labels: Sequence[str], top: float, unit: str
) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ccc"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#333">'
            f"{value:,.0f}</text>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{TOP - 10}" font-size="11" fill="#333">{escape(unit)}</text>'
    )
    step = max(1, math.ceil(len(labels) / 12))
    slot = plot_w / max(1, len(labels))
    for index, label in enumerate(labels):
        if index % step:
            continue
        x = LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
            f'fill="#333">{escape(label)}</text>'
        )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text inside is escaped above


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = LEFT
    for item in series:
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        parts.append(
            f'<line x1="{x}" y1="{HEIGHT - 14}" x2="{x + 22}" y2="{HEIGHT - 14}" '
            f'stroke="{item.color}" stroke-width="4"{dash}/>'
            f'<text x="{x + 28}" y="{HEIGHT - 10}" font-size="12" fill="#222">'
            f"{escape(item.name)}</text>"
        )
        x += 40 + 13 * len(item.name)
    return parts


def bar_chart(
    *, title: str, summary: str, labels: Sequence[str], series: Sequence[Series], unit: str
) -> SafeString:
    """Grouped bars, one group per label."""
    top = _nice_max(max((v for s in series for v in s.values if math.isfinite(v)), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.8 / max(1, len(series))
    body = []
    for s_index, item in enumerate(series):
        for index, value in enumerate(item.values):
            height = plot_h * max(0.0, min(value, top)) / top
            x = LEFT + slot * index + slot * 0.1 + bar * s_index
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{item.color}"/>'
            )
    return _frame(title, summary, body + _legend(series), labels, top, unit)


def line_chart(
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    threshold: float | None = None,
    threshold_label: str = "",
) -> SafeString:
    """Lines, one per series; an optional horizontal threshold (a target) in red."""
    finite = [v for s in series for v in s.values if math.isfinite(v)]
    top = _nice_max(max([*finite, threshold or 0.0], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = []
    for item in series:
        points = []
        for index, value in enumerate(item.values):
            shown = top if not math.isfinite(value) else min(max(value, 0.0), top)
            points.append(
                f"{LEFT + slot * (index + 0.5):.1f},{TOP + plot_h - plot_h * shown / top:.1f}"
            )
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{item.color}" '
            f'stroke-width="3"{dash}/>'
        )
    if threshold is not None:
        y = TOP + plot_h - plot_h * min(threshold, top) / top
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#b00020" '
            f'stroke-width="2" stroke-dasharray="3 3"/>'
            f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#b00020">{escape(threshold_label)}</text>'
        )
    return _frame(title, summary, body + _legend(series), labels, top, unit)
