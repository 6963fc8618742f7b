"""Writing the audit log. Services call ``audit_record`` inside their own transaction, so an
action and its record commit or roll back together."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from xuexi.core.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_label: str = "",
    organization: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry. ``target`` fills type, id and label unless they are given."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type or (target._meta.model_name or "" if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        organization=organization,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip=ip or None,
    )
