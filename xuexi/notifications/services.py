"""Notifying members. Live pushes go out after commit, so a rolled-back write never shows."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from xuexi.notifications.consumers import user_group


def notify_user(*, user_id: int, payload: dict[str, Any]) -> None:
    """Push ``payload`` to every open page of the member once the transaction commits."""

    def push() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "member.event", "payload": payload}
            )

    transaction.on_commit(push, robust=True)
