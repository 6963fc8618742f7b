"""Template filters of the report pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.6667 → "66.7%"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def figure(value: float | int | None) -> str:
    """A count or an average: whole numbers without decimals, averages with one."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"
