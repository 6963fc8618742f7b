"""Template filters for masked personal data: ``{% load masking %}{{ phone|mask_phone }}``."""

from __future__ import annotations

from django import template

from xuexi.core import masking

register = template.Library()


@register.filter
def mask_phone(value: object) -> str:
    """``13812341234`` → ``138****1234``; empty values stay empty."""
    return masking.mask_phone(str(value)) if value else ""


@register.filter
def mask_name(value: object) -> str:
    """``张三丰`` → ``张**``; empty values stay empty."""
    return masking.mask_name(str(value)) if value else ""
