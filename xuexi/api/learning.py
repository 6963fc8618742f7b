"""Learning sessions of API.md (Content, C13): start, heartbeats, finish.

Thin: the rules live in ``xuexi/content/sessions.py``. A session that is not the caller's
answers 404 (its existence is private); a closed one refuses heartbeats with 409
(``session_superseded``, ``session_expired``, ``session_closed``); a finish is answered once
and repeated as it was. Time comes from the server's clock only: nothing in these bodies is a
timestamp.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.content import sessions
from xuexi.content.models import Item
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import NotFound

router = Router(tags=["学习"])

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is invalid input, not a database error
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="学习会话 id")]


def _member(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


class SessionStartIn(Schema):
    item_id: int = Field(ge=1, le=MAX_ID)


class SessionStartOut(Schema):
    id: int
    heartbeat_every: int = Field(description="两次心跳之间的秒数")
    min_seconds: int = Field(description="有效学习所需的最短时长（秒）")
    # Extensions: what was started, and how long the session lives.
    item_id: int
    kind: str
    expires_in: int = Field(description="会话有效期（秒），过期后不再计时")


class HeartbeatIn(Schema):
    visible: bool = Field(
        description=(
            "自上次心跳以来页面一直可见（且音视频在播放）；false 表示这段时间不计，重新开始计时"
        )
    )
    position: float | None = Field(
        None,
        ge=0,
        le=sessions.POSITION_LIMIT,
        allow_inf_nan=False,
        description="音视频的播放位置（秒）；视频和音频必填",
    )


class SessionResultOut(Schema):
    valid: bool
    reason: str | None = Field(
        None, description="无效的原因：too_short、too_early、superseded、expired"
    )
    points_awarded: int
    # Extensions: what to tell the member, and the time the server verified.
    message: str
    verified_seconds: int


@router.post("/learning-sessions", response={201: SessionStartOut, **ERRORS})
def learning_session_start(request: HttpRequest, payload: SessionStartIn) -> Status[dict]:
    """Start reading or viewing a published item: closes the caller's open session (one at a
    time), answers the heartbeat rhythm and the minimum dwell. 429 past 30 starts a minute."""
    item = Item.objects.published().filter(pk=payload.item_id).first()
    if item is None:
        raise NotFound(_("找不到该内容，或它尚未发布。"))
    session = sessions.session_start(
        member=_member(request),
        item=item,
        ip=client_ip_from_request(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    rules = sessions.SessionRules.current()
    return Status(
        201,
        {
            "id": session.pk,
            "heartbeat_every": rules.heartbeat_every,
            "min_seconds": rules.min_seconds(item),
            "item_id": item.pk,
            "kind": item.kind,
            "expires_in": rules.ttl,
        },
    )


@router.post("/learning-sessions/{session_id}/heartbeats", response={204: None, **ERRORS})
def learning_session_heartbeat(
    request: HttpRequest, session_id: SessionId, payload: HeartbeatIn
) -> Status[None]:
    """One heartbeat: sent every ``heartbeat_every`` seconds while the item is visible (and the
    media plays). The server credits its own clock's time at the rhythm; nothing is answered."""
    sessions.session_heartbeat(
        member=_member(request),
        session_id=session_id,
        visible=payload.visible,
        position=payload.position,
    )
    return Status(204, None)


@router.post(
    "/learning-sessions/{session_id}/finish",
    response={200: SessionResultOut, **ERRORS},
    exclude_none=True,
)
def learning_session_finish(request: HttpRequest, session_id: SessionId) -> dict:
    """Close the session and judge it; a valid one pays through the day's rules. Asking again
    answers the same and pays nothing."""
    result = sessions.session_finish(member=_member(request), session_id=session_id)
    return {
        "valid": result.valid,
        "reason": result.reason or None,
        "points_awarded": result.points_awarded,
        "message": result.message,
        "verified_seconds": result.verified_seconds,
    }
