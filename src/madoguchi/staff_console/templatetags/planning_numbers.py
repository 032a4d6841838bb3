from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def count(value: float | None) -> str:
    """A rounded, thousands-separated number; "—" for none or beyond the horizon."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.0f}"


@register.filter
def percent(value: float | None) -> str:
    """A rate 0..1 as a percentage with one decimal; "—" for none (nobody to divide by)."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1%}"


@register.filter
def points(value: float | None) -> str:
    """A change in percentage points with its sign; "—" for none."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.1f}"
