"""Cursor (keyset) pagination for API lists: ``{"items", "next_cursor"}`` (API.md).

The cursor is an opaque, URL-safe token holding the sort key of the last row served, so pages
stay stable while rows are added and cost one indexed range query however deep one goes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from xuexi.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed({"cursor": _("分页游标无效。")}) from exc
    if not isinstance(values, list):
        raise ValidationFailed({"cursor": _("分页游标无效。")})
    return values


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed(
            {"limit": _("每页数量须在 1 到 %(max)s 之间。") % {"max": MAX_LIMIT}}
        )
    return limit


def paginate(
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int | None,
    field: str = "id",
    ascending: bool = False,
) -> Page[M]:
    """One page of ``queryset`` ordered by ``field`` (newest/highest first unless ``ascending``),
    then by ``id`` the same way.

    ``field`` must be a non-null column; ``id`` breaks ties so no row is skipped or repeated.
    """
    size = clamp_limit(limit)
    sign, after = ("", "gt") if ascending else ("-", "lt")
    keyed_by_id = field == "id"
    ordered = (
        queryset.order_by(f"{sign}id")
        if keyed_by_id
        else queryset.order_by(f"{sign}{field}", f"{sign}id")
    )
    if cursor:
        values = _decode(cursor)
        if len(values) != (1 if keyed_by_id else 2):
            raise ValidationFailed({"cursor": _("分页游标无效。")})
        if keyed_by_id:
            ordered = ordered.filter(**{f"id__{after}": values[0]})
        else:
            ordered = ordered.filter(
                Q(**{f"{field}__{after}": values[0]})
                | Q(**{field: values[0], f"id__{after}": values[1]})
            )
    rows = list(ordered[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode([last.pk] if keyed_by_id else [getattr(last, field), last.pk])
    return Page(items=rows, next_cursor=next_cursor)
