"""Small helpers for text shown to people in either language."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext


def enumeration(items: Iterable[object]) -> str:
    """Items joined the way the active language lists them: 甲、乙、丙 in Chinese, "A, B, C" in
    English (the separator is a translatable string)."""
    return pgettext("list separator", "、").join(str(item) for item in items)
