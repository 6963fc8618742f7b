"""Server-verified learning sessions (C3, C13; SECURITY S22): reading an article or playing a
video or audio programme is a session that the server issues, times and judges.

The rules, all on the server's clock (``xuexi.core.time.now``; a client's timestamps are never
read):

- **One open session per member.** Starting a session closes the member's open one as invalid
  (``superseded``; ``expired`` if it was past its lifetime): a second tab or device stops the
  first, whose later heartbeats are refused (409) and whose finish answers "superseded".
  Starts for one member queue on his user row; the partial unique constraint
  ``one_open_session_per_member`` is the backstop.
- **Heartbeats at the rhythm.** The page beats every ``heartbeat_every`` seconds while the item
  is visible (and the media plays). A visible beat credits the time since the last credited
  beat, at most one interval plus the tolerance: a long gap (tab hidden, phone asleep) credits
  one interval, never the whole gap. A beat arriving sooner than half an interval after the
  last credited one is not credited (a script flooding gains nothing; the time stays on the
  clock for the next beat at the rhythm) and is logged for the integrity review. Credits are
  whole seconds and the fraction is carried on ``last_beat_at``, so ``verified_seconds`` never
  exceeds the wall time since the start.
- **Hidden time is not learning time.** A beat with ``visible=False`` (sent when the page
  becomes visible again, or media resumes after a pause or a seek) credits nothing and
  restarts the clock, and sets the media position baseline.
- **Media must really play.** For video and audio a beat must carry the position; it is
  credited only if the position advanced plausibly — forward by no more than the wall time
  since the last credited beat plus the tolerance, and not past the item's duration — and by
  at most what it advanced. A jump (a seek, or a forged position) is not credited and resets
  the baseline; a position that does not move (paused, or at the end) is not credited.
- **Finishing judges once.** ``session_finish`` closes the session: invalid when the wall time
  since the start is below the minimum dwell (``too_early``), when the verified time is
  (``too_short``), or past the lifetime (``expired``); valid otherwise, and then every rule the
  item's kind maps to is paid through ``points_award`` with the source
  ``("learning_session", session.id)``. A second finish answers the stored verdict and pays
  nothing. Every invalid outcome is logged on ``xuexi.integrity`` and kept on the row
  (``state``, ``reason``) for the integrity review (``selectors.invalid_sessions``).

Settings (read with these defaults; docs/configuration.md, "Learning sessions"):
``LEARNING_HEARTBEAT_SECONDS`` 15, ``LEARNING_HEARTBEAT_TOLERANCE`` 5,
``LEARNING_MIN_SECONDS`` 60 (articles), ``LEARNING_MEDIA_MIN_SECONDS`` 180 and
``LEARNING_MEDIA_MIN_SHARE`` 0.8 (media: the lesser of 180 s and 80 % of the duration),
``LEARNING_SESSION_TTL`` 7200, ``LEARNING_STARTS_PER_MINUTE`` 30.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xuexi.accounts.models import User
from xuexi.content.models import Item, ItemKind, ItemStatus, LearningSession, SessionState
from xuexi.content.services import history_touch
from xuexi.core import ratelimit
from xuexi.core.errors import Conflict, NotFound
from xuexi.core.time import now
from xuexi.points.services import points_award

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

integrity_log = logging.getLogger("xuexi.integrity")

SOURCE_TYPE = "learning_session"

# What a valid session pays, by the item's kind. Every rule gets one occurrence and the
# verified whole minutes as units; the day's rule set decides what they are worth
# (``chosen_reading``: 1 per article + 1 per minute; ``article_time``: 1 per 4 minutes in
# 2019-01; …). Rules absent from the day's set answer ``no_rule`` and pay nothing.
RULES_BY_KIND: dict[str, tuple[str, ...]] = {
    ItemKind.ARTICLE: ("chosen_reading", "read_article", "article_time"),
    ItemKind.VIDEO: ("watch_video", "video_time", "watch_listen"),
    ItemKind.AUDIO: ("watch_video", "video_time", "watch_listen"),
}

# Stable reason codes of an invalid session, with what the member is told.
TOO_SHORT = "too_short"
TOO_EARLY = "too_early"
SUPERSEDED = "superseded"
EXPIRED = "expired"
REASONS: dict[str, StrOrPromise] = {
    TOO_SHORT: gettext_lazy("学习时间不足，本次不计分。"),
    TOO_EARLY: gettext_lazy("还没有达到规定的学习时长，不能提前结束，本次不计分。"),
    SUPERSEDED: gettext_lazy("您已在其他页面或设备开始了新的学习，本次学习已停止，不计分。"),
    EXPIRED: gettext_lazy("学习会话已过期，本次不计分。"),
}

# A heartbeat's fate (``Beat.verdict``): only ``credited`` adds time.
CREDITED = "credited"
RESUMED = "resumed"  # visible=False: nothing credited, the clock restarts
EARLY = "early"  # faster than half the rhythm: not credited, logged
IMPLAUSIBLE = "implausible"  # media position jumped: not credited, baseline reset, logged
STALLED = "stalled"  # media position did not move: not credited
NO_POSITION = "no_position"  # a media beat without a position: not credited

EARLY_SHARE = 0.5  # a visible beat sooner than this share of the interval is "too fast"
STALL_SECONDS = 1.0  # media must advance at least this much for a beat to count
POSITION_LIMIT = 10**7  # seconds; positions beyond are refused by the API, clamped here


@dataclass(frozen=True)
class SessionRules:
    """The configurable numbers of the validity rules (settings, read per call)."""

    heartbeat_every: int = 15
    tolerance: int = 5
    article_min_seconds: int = 60
    media_min_seconds: int = 180
    media_min_share: float = 0.8
    ttl: int = 7200
    starts_per_minute: int = 30

    @classmethod
    def current(cls) -> SessionRules:
        return cls(
            heartbeat_every=max(1, int(_setting("LEARNING_HEARTBEAT_SECONDS", 15))),
            tolerance=max(0, int(_setting("LEARNING_HEARTBEAT_TOLERANCE", 5))),
            article_min_seconds=max(1, int(_setting("LEARNING_MIN_SECONDS", 60))),
            media_min_seconds=max(1, int(_setting("LEARNING_MEDIA_MIN_SECONDS", 180))),
            media_min_share=float(_setting("LEARNING_MEDIA_MIN_SHARE", 0.8)),
            ttl=max(60, int(_setting("LEARNING_SESSION_TTL", 7200))),
            starts_per_minute=max(1, int(_setting("LEARNING_STARTS_PER_MINUTE", 30))),
        )

    @property
    def credit_cap(self) -> int:
        """The most one beat can credit: one interval plus the tolerance."""
        return self.heartbeat_every + self.tolerance

    def min_seconds(self, item: Item) -> int:
        """The minimum verified dwell for ``item``: articles ``article_min_seconds``; video and
        audio the lesser of ``media_min_seconds`` and ``media_min_share`` of the duration (a
        short clip is valid once most of it has played), ``media_min_seconds`` when the
        duration is unknown."""
        if item.kind == ItemKind.ARTICLE:
            return self.article_min_seconds
        if item.duration <= 0:
            return self.media_min_seconds
        share = max(1, math.ceil(item.duration * self.media_min_share))
        return min(self.media_min_seconds, share)


def _setting(name: str, default: float) -> float:
    value: float = getattr(settings, name, default)
    return value


# --- pure rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Beat:
    """What one heartbeat does to a session: ``credit`` whole seconds added, the new credit
    clock (``last_beat_at``) and media position (``None``: unchanged), and why."""

    verdict: str
    credit: int
    clock: dt.datetime
    position: int | None


def beat_judge(
    *,
    rules: SessionRules,
    media: bool,
    duration: int,
    clock: dt.datetime,
    position_before: int,
    moment: dt.datetime,
    visible: bool,
    position: float | None,
) -> Beat:
    """Judge one heartbeat (pure). ``clock`` is the instant up to which time has been credited
    (the start, or ``last_beat_at``); ``moment`` the server's now."""
    new_position = None
    if media and position is not None:
        new_position = int(min(max(position, 0), POSITION_LIMIT))
    if not visible:
        return Beat(RESUMED, 0, moment, new_position)
    gap = max(0.0, (moment - clock).total_seconds())
    if gap < rules.heartbeat_every * EARLY_SHARE:
        return Beat(EARLY, 0, clock, None)
    window = min(gap, float(rules.credit_cap))
    if media:
        if position is None:
            return Beat(NO_POSITION, 0, moment, None)
        advanced = position - position_before
        beyond_end = duration > 0 and position > duration + rules.tolerance
        if advanced > gap + rules.tolerance or beyond_end:
            return Beat(IMPLAUSIBLE, 0, moment, new_position)
        if 0 <= advanced < STALL_SECONDS:
            return Beat(STALLED, 0, moment, new_position)
        if advanced > 0:
            # At most what played; one second of slack for the whole-second baseline.
            window = min(window, advanced + 1)
    credit = int(window)
    if gap <= rules.credit_cap and credit == int(gap):
        # At the rhythm: carry the fraction of a second to the next beat.
        next_clock = clock + dt.timedelta(seconds=credit)
    else:
        # A long gap, or less played than elapsed: the rest is not learning time.
        next_clock = moment
    return Beat(CREDITED, credit, next_clock, new_position)


def finish_judge(
    *,
    rules: SessionRules,
    started_at: dt.datetime,
    verified_seconds: int,
    min_seconds: int,
    moment: dt.datetime,
) -> str:
    """The reason an open session finishing at ``moment`` is invalid, or ``""`` (pure)."""
    elapsed = (moment - started_at).total_seconds()
    if elapsed >= rules.ttl:
        return EXPIRED
    if elapsed < min_seconds:
        return TOO_EARLY
    if verified_seconds < min_seconds:
        return TOO_SHORT
    return ""


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionResult:
    """A finished session's verdict (the same on every later finish)."""

    valid: bool
    reason: str
    points_awarded: int
    verified_seconds: int = 0

    @property
    def message(self) -> str:
        """What the member is told, in the active language."""
        if not self.valid:
            return str(REASONS.get(self.reason, _("本次学习无效，不计分。")))
        if self.points_awarded:
            return _("本次学习有效，获得 %(n)d 分。") % {"n": self.points_awarded}
        return _("本次学习有效。今日相关积分已达上限，本次未增加积分。")


@dataclass(frozen=True)
class HeartbeatResult:
    verdict: str
    credited: int
    verified_seconds: int


def _result(session: LearningSession) -> SessionResult:
    return SessionResult(
        valid=session.state == SessionState.VALID,
        reason=session.reason,
        points_awarded=session.points_awarded,
        verified_seconds=session.verified_seconds,
    )


def _refusal(session: LearningSession) -> Conflict:
    """Why a closed session takes no more heartbeats (409)."""
    if session.reason == SUPERSEDED:
        return Conflict(
            _("您已在其他页面或设备开始了新的学习，本页不再计时。"),
            code="session_superseded",
            reason=session.reason,
        )
    if session.reason == EXPIRED:
        return Conflict(
            _("学习会话已过期，请刷新页面重新开始。"), code="session_expired", reason=EXPIRED
        )
    return Conflict(_("本次学习已经结束。"), code="session_closed", reason=session.reason)


def _log_invalid(session: LearningSession, moment: dt.datetime) -> None:
    """One line per invalid outcome on ``xuexi.integrity``, after the commit."""
    fields = {
        "session": session.pk,
        "member": session.member_id,
        "item": session.item_id,
        "reason": session.reason,
        "verified_seconds": session.verified_seconds,
        "wall_seconds": int((moment - session.started_at).total_seconds()),
        "beats": session.beats,
        "ip": session.ip or "",
    }
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    transaction.on_commit(
        lambda: integrity_log.warning(
            "learning session invalid %s", text, extra={"learning_session": fields}
        )
    )


def _close_invalid(session: LearningSession, reason: str, moment: dt.datetime) -> None:
    session.state = SessionState.INVALID
    session.reason = reason
    session.finished_at = moment
    session.points_awarded = 0
    session.save(update_fields=["state", "reason", "finished_at", "points_awarded"])
    _log_invalid(session, moment)


def _locked(member: User, session_id: int) -> LearningSession:
    """The member's session, row-locked; ``NotFound`` for anyone else's (existence is private)."""
    session = (
        LearningSession.objects.select_for_update()
        .select_related("item")
        .filter(pk=session_id, member=member)
        .first()
    )
    if session is None:
        raise NotFound(_("找不到该学习记录。"))
    return session


def _is_past_ttl(session: LearningSession, rules: SessionRules, moment: dt.datetime) -> bool:
    return (moment - session.started_at).total_seconds() >= rules.ttl


# --- services ------------------------------------------------------------------------------------


def session_start(
    *, member: User, item: Item, ip: str | None = None, user_agent: str = ""
) -> LearningSession:
    """Open a session of ``item`` for ``member``, closing his open one (``superseded``, or
    ``expired`` past its lifetime), and record the visit in his reading history.

    Raises ``Conflict`` (``item_not_published``) for an item not published, ``RateLimited``
    past ``LEARNING_STARTS_PER_MINUTE`` starts a minute. One transaction holding the member's
    row lock, so starts racing for one member run one after the other and one open session
    remains (the last); ``one_open_session_per_member`` is the backstop, and a start it
    refuses looks again.
    """
    if item.status != ItemStatus.PUBLISHED or not item.published_at or item.published_at > now():
        raise Conflict(_("该内容尚未发布或已撤回。"), code="item_not_published")
    rules = SessionRules.current()
    ratelimit.hit(
        ratelimit.Limit(
            key=f"learning-start:{member.pk}",
            count=rules.starts_per_minute,
            seconds=60,
            message=_("开始学习过于频繁，请稍后再试。"),
        )
    )
    attempts = 3
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                # The member's row is the mutex of his starts: racing starts queue here, and
                # each then sees (and supersedes) the session the one before it opened.
                User.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()
                moment = now()
                open_sessions = LearningSession.objects.select_for_update().filter(
                    member=member, state=SessionState.OPEN
                )
                for previous in open_sessions:
                    reason = EXPIRED if _is_past_ttl(previous, rules, moment) else SUPERSEDED
                    _close_invalid(previous, reason, moment)
                session = LearningSession.objects.create(
                    member=member,
                    item=item,
                    started_at=moment,
                    ip=ip or None,
                    user_agent=(user_agent or "")[:200],
                )
        except IntegrityError:
            # A session opened outside this path between our look and our insert
            # (``one_open_session_per_member``): look again, and supersede that one.
            if attempt == attempts - 1:
                raise
            continue
        # Outside the member's lock: the item's read count is a hot row for a popular item.
        history_touch(member=member, item=item)
        return session
    raise AssertionError("unreachable")  # pragma: no cover


def session_heartbeat(
    *, member: User, session_id: int, visible: bool, position: float | None = None
) -> HeartbeatResult:
    """Count one heartbeat of the member's open session (see the module docstring).

    Raises ``NotFound`` for a session that is not the member's, ``Conflict`` for a closed one
    (``session_superseded``, ``session_expired``, ``session_closed``); a beat past the
    session's lifetime closes it as ``expired`` first. The session row is locked for the beat.
    """
    rules = SessionRules.current()
    refusal: Conflict | None = None
    beat: Beat | None = None
    with transaction.atomic():
        session = _locked(member, session_id)
        moment = now()
        if session.state != SessionState.OPEN:
            refusal = _refusal(session)
        elif _is_past_ttl(session, rules, moment):
            _close_invalid(session, EXPIRED, moment)
            refusal = _refusal(session)
        else:
            item = session.item
            beat = beat_judge(
                rules=rules,
                media=item.kind != ItemKind.ARTICLE,
                duration=item.duration,
                clock=session.last_beat_at or session.started_at,
                position_before=session.position,
                moment=moment,
                visible=visible,
                position=position,
            )
            session.beats += 1
            session.verified_seconds += beat.credit
            session.last_beat_at = beat.clock
            if beat.position is not None:
                session.position = beat.position
            session.save(update_fields=["beats", "verified_seconds", "last_beat_at", "position"])
            if beat.verdict in (EARLY, IMPLAUSIBLE):
                _log_suspicious_beat(session, beat.verdict, rules)
    if refusal is not None or beat is None:
        raise refusal or Conflict()
    return HeartbeatResult(beat.verdict, beat.credit, session.verified_seconds)


def _log_suspicious_beat(session: LearningSession, verdict: str, rules: SessionRules) -> None:
    """The first too-fast or implausible beat of a session goes to the integrity log (once per
    session and verdict: a flooding script must not flood the log too). The session's
    ``beats`` against its wall time shows the rest."""
    if ratelimit.take_once(f"learning-beat-{verdict}:{session.pk}", rules.ttl):
        integrity_log.info(
            "learning session %s beat session=%s member=%s item=%s beats=%s",
            verdict,
            session.pk,
            session.member_id,
            session.item_id,
            session.beats,
        )


def session_finish(*, member: User, session_id: int) -> SessionResult:
    """Judge and close the member's session; pay it when valid (see the module docstring).

    Idempotent: a closed session answers its stored verdict and pays nothing more. Raises
    ``NotFound`` for a session that is not the member's. One transaction with the session row
    locked, the awards inside it: two finishes racing pay once.
    """
    rules = SessionRules.current()
    with transaction.atomic():
        session = _locked(member, session_id)
        if session.state != SessionState.OPEN:
            return _result(session)
        moment = now()
        item = session.item
        reason = finish_judge(
            rules=rules,
            started_at=session.started_at,
            verified_seconds=session.verified_seconds,
            min_seconds=rules.min_seconds(item),
            moment=moment,
        )
        if reason:
            _close_invalid(session, reason, moment)
            return _result(session)
        minutes = session.verified_seconds // 60
        paid = 0
        for rule in RULES_BY_KIND.get(item.kind, ()):
            award = points_award(
                member=member,
                rule=rule,
                source_type=SOURCE_TYPE,
                source_id=session.pk,
                at=moment,
                occurrences=1,
                units=minutes,
                note=item.title,
            )
            paid += award.points
        session.state = SessionState.VALID
        session.reason = ""
        session.finished_at = moment
        session.points_awarded = paid
        session.save(update_fields=["state", "reason", "finished_at", "points_awarded"])
    return _result(session)


def sessions_expire(*, at: dt.datetime | None = None) -> int:
    """Close every open session past its lifetime as ``expired`` (for a periodic job; a start
    or a beat also expires the one it meets). Returns how many were closed."""
    rules = SessionRules.current()
    moment = at or now()
    cutoff = moment - dt.timedelta(seconds=rules.ttl)
    closed = 0
    stale = LearningSession.objects.filter(state=SessionState.OPEN, started_at__lte=cutoff)
    for session_id in stale.values_list("pk", flat=True).iterator(chunk_size=1000):
        with transaction.atomic():
            session = (
                LearningSession.objects.select_for_update()
                .filter(pk=session_id, state=SessionState.OPEN)
                .first()
            )
            if session is not None:
                _close_invalid(session, EXPIRED, moment)
                closed += 1
    return closed
