"""The member's points pages: 学习积分 (today's progress per rule) and 积分明细 (the ledger)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from xuexi.accounts.models import User
from xuexi.core.time import business_day
from xuexi.points import scoring
from xuexi.points.context_processors import MemberPoints
from xuexi.points.selectors import RuleProgress, ledger_of, progress_today, ruleset_in_force

LEDGER_PAGE_SIZE = 20

# Rules one earns by answering questions: their button says 去答题, every other 去看看.
QUIZ_RULES = frozenset(
    {"daily_quiz", "weekly_quiz", "special_quiz", "challenge_quiz", "four_player", "duel"}
)

# Titles for ledger entries whose rule is absent from today's rule set (an older set's rule).
# Source strings stay Chinese; templates translate them ({% translate title %}).
RULE_TITLES: dict[str, str] = {
    "login": gettext_noop("登录"),
    "read_article": gettext_noop("阅读文章"),
    "article_time": gettext_noop("文章学习时长"),
    "chosen_reading": gettext_noop("我要选读文章"),
    "watch_video": gettext_noop("视听学习"),
    "video_time": gettext_noop("视听学习时长"),
    "watch_listen": gettext_noop("我要视听学习"),
    "daily_quiz": gettext_noop("每日答题"),
    "weekly_quiz": gettext_noop("每周答题"),
    "special_quiz": gettext_noop("专项答题"),
    "challenge_quiz": gettext_noop("挑战答题"),
    "four_player": gettext_noop("四人赛"),
    "duel": gettext_noop("双人对战"),
    "subscribe": gettext_noop("订阅"),
    "favourite": gettext_noop("收藏"),
    "share": gettext_noop("分享"),
    "comment": gettext_noop("发表观点"),
    "local_channel": gettext_noop("本地频道"),
    "sport": gettext_noop("强国运动"),
    "offline_activity": gettext_noop("线下学习活动"),
}

# The ledger's date ranges: key, label, how many days before today the range starts.
LEDGER_RANGES: list[tuple[str, str, int | None]] = [
    ("today", gettext_noop("今天"), 0),
    ("7d", gettext_noop("近7天"), 6),
    ("30d", gettext_noop("近30天"), 29),
    ("all", gettext_noop("全部"), None),
]


@dataclass(frozen=True)
class RuleRow:
    """One line of 学习积分: a rule with what the member earned against its cap today."""

    code: str
    title: str
    points: int
    daily_cap: int | None
    weekly_cap: int | None
    week_points: int
    link: str
    scores_today: bool
    is_quiz: bool
    done: bool
    percent: int


def safe_link(link: str) -> str:
    """A rule's ``link`` if it is a path on this site; anything else (another host, a script
    URL typed into a rule set) is dropped."""
    return link if link.startswith("/") and not link.startswith("//") else ""


def rule_row(rule: RuleProgress) -> RuleRow:
    daily_done = rule.daily_cap is not None and rule.points >= rule.daily_cap
    weekly_done = rule.weekly_cap is not None and rule.week_points >= rule.weekly_cap
    if rule.daily_cap:
        percent = rule.points * 100 // rule.daily_cap
    elif rule.weekly_cap:
        percent = rule.week_points * 100 // rule.weekly_cap
    else:
        percent = 0
    return RuleRow(
        code=rule.code,
        title=rule.title,
        points=rule.points,
        daily_cap=rule.daily_cap,
        weekly_cap=rule.weekly_cap,
        week_points=rule.week_points,
        link=safe_link(rule.link),
        scores_today=rule.scores_today,
        is_quiz=rule.code in QUIZ_RULES,
        done=daily_done or weekly_done,
        percent=max(0, min(100, percent)),
    )


def _member(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """学习积分: today's total against the daily maximum, level and streak, then every rule of
    today's set with its progress and the way to earn it (去看看 / 去答题)."""
    member = _member(request)
    day = business_day()
    progress = progress_today(member, day)
    rows = [rule_row(rule) for rule in progress.rules] if progress else []
    # Rules that score on other weekdays only go last, greyed.
    rows.sort(key=lambda row: not row.scores_today)
    points = MemberPoints(
        member,
        day,
        today=progress.total if progress else None,
        daily_max=progress.daily_max if progress else None,
    )
    return render(
        request,
        "points/today.html",
        {
            "progress": progress,
            "rows": rows,
            "member_points": points,
            "shell_current_tab": "me",
        },
    )


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """积分明细: the member's ledger entries newest first, by rule and date range, with his
    totals (today, 30 days, this year, all time), streak and level."""
    member = _member(request)
    day = business_day()
    found = ruleset_in_force(day)
    spec = found[1] if found else None
    titles = dict(RULE_TITLES)
    if spec is not None:
        titles.update({code: rule.title for code, rule in spec.rules.items()})

    range_key = request.GET.get("range", "all")
    days_back = {key: back for key, _label, back in LEDGER_RANGES}
    if range_key not in days_back:
        range_key = "all"
    rule = request.GET.get("rule", "")
    if rule not in scoring.RULE_CODES:
        rule = ""

    entries = ledger_of(member)
    if rule:
        entries = entries.filter(rule=rule)
    back = days_back[range_key]
    if back is not None:
        entries = entries.filter(day__gte=day - dt.timedelta(days=back))
    entries = entries.order_by("-at", "-id").only(
        "id", "rule", "points", "day", "at", "source_type", "note"
    )
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for entry in page.object_list:
        happened = business_day(entry.at)
        rows.append(
            {
                "entry": entry,
                "title": titles.get(entry.rule, entry.rule),
                "happened": happened,
                # A correction made later counts for the day of the entry it corrects.
                "counts_for": entry.day if entry.day != happened else None,
            }
        )

    rule_choices = [(code, titles[code]) for code in (spec.rules if spec else ())]
    if rule and rule not in dict(rule_choices):
        rule_choices.append((rule, titles.get(rule, rule)))

    points = MemberPoints(member, day, daily_max=spec.daily_max() if spec else 0)
    points.periods  # noqa: B018 — today, 30 days and this year in one read, before the top bar
    filters: dict[str, Any] = {"range": range_key if range_key != "all" else "", "rule": rule}
    return render(
        request,
        "points/ledger.html",
        {
            "page": page,
            "rows": rows,
            "range": range_key,
            "ranges": [
                (
                    key,
                    label,
                    urlencode({k: v for k, v in {"range": key, "rule": rule}.items() if v}),
                )
                for key, label, _back in LEDGER_RANGES
            ],
            "rule": rule,
            "rule_choices": rule_choices,
            "querystring": urlencode({k: v for k, v in filters.items() if v}),
            "filtered": bool(rule) or range_key != "all",
            "today": day,
            "yesterday": day - dt.timedelta(days=1),
            "member_points": points,
            "shell_current_tab": "me",
        },
    )
