"""The member's points routes of API.md (C4): today's progress, totals, the ledger."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.errors import ValidationFailed
from xuexi.core.pagination import paginate
from xuexi.core.time import business_day
from xuexi.points import scoring
from xuexi.points.context_processors import MemberPoints
from xuexi.points.selectors import ledger_of, progress_today
from xuexi.points.views import safe_link

router = Router(tags=["积分"])


def _member(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


class RuleProgressOut(Schema):
    code: str
    title: str
    points: int
    daily_cap: int | None
    weekly_cap: int | None = None
    # Extensions: this week's points (for weekly caps), where to earn it, whether it scores today.
    week_points: int
    link: str
    scores_today: bool


class TodayOut(Schema):
    date: dt.date
    total: int
    daily_max: int
    rules: list[RuleProgressOut]


class SummaryOut(Schema):
    today: int
    last_30_days: int
    this_year: int
    total: int
    streak_days: int
    level: int
    # Extensions: the total at which the next level begins (null at the top) and today's maximum.
    next_level_points: int | None
    daily_max: int


class LedgerEntryOut(Schema):
    id: int
    rule: str
    points: int
    source_type: str
    source_id: str
    at: dt.datetime
    note: str
    day: dt.date  # extension: the Asia/Shanghai day the entry counts for


class LedgerPage(Schema):
    items: list[LedgerEntryOut]
    next_cursor: str | None


@router.get("/me/points/today", response={200: TodayOut, **ERRORS})
def points_today(request: HttpRequest) -> dict:
    """Today's progress per rule of the day's set (the 学习积分 page)."""
    day = business_day()
    progress = progress_today(_member(request), day)
    if progress is None:  # no rule set in force: nothing can be earned today
        return {"date": day, "total": 0, "daily_max": 0, "rules": []}
    return {
        "date": progress.date,
        "total": progress.total,
        "daily_max": progress.daily_max,
        "rules": [
            {
                "code": rule.code,
                "title": rule.title,
                "points": rule.points,
                "daily_cap": rule.daily_cap,
                "weekly_cap": rule.weekly_cap,
                "week_points": rule.week_points,
                "link": safe_link(rule.link),
                "scores_today": rule.scores_today,
            }
            for rule in progress.rules
        ],
    }


@router.get("/me/points/summary", response={200: SummaryOut, **ERRORS})
def points_summary(request: HttpRequest) -> dict:
    """Totals: today, the last 30 days (today included), this year, all time; streak, level."""
    points = MemberPoints(_member(request), business_day())
    return {
        "today": points.today,
        "last_30_days": points.last_30_days,
        "this_year": points.this_year,
        "total": points.total,
        "streak_days": points.streak_days,
        "level": points.level,
        "next_level_points": points.next_level_points,
        "daily_max": points.daily_max,
    }


@router.get("/me/points/ledger", response={200: LedgerPage, **ERRORS})
def points_ledger(
    request: HttpRequest,
    rule: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    """The member's ledger, newest first; ``since``/``until`` are Asia/Shanghai days, inclusive."""
    if rule and rule not in scoring.RULE_CODES:
        raise ValidationFailed({"rule": _("没有这个积分项目。")})
    if since and until and since > until:
        raise ValidationFailed({"since": _("开始日期不能晚于结束日期。")})
    entries = ledger_of(_member(request))
    if rule:
        entries = entries.filter(rule=rule)
    if since:
        entries = entries.filter(day__gte=since)
    if until:
        entries = entries.filter(day__lte=until)
    try:
        page = paginate(entries, cursor=cursor, limit=limit, field="at")
    except (DjangoValidationError, TypeError, ValueError, OverflowError) as exc:
        # A cursor that decodes but does not hold a time and an id (only a forged one does).
        raise ValidationFailed({"cursor": _("分页游标无效。")}) from exc
    return {
        "items": [
            {
                "id": entry.pk,
                "rule": entry.rule,
                "points": entry.points,
                "source_type": entry.source_type,
                "source_id": entry.source_id,
                "at": entry.at,
                "note": entry.note,
                "day": entry.day,
            }
            for entry in page.items
        ],
        "next_cursor": page.next_cursor,
    }
