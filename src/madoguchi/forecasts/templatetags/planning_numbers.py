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
