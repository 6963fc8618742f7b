"""Reads about points: the rule set in force, today's progress, totals, the ledger."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from xuexi.accounts.models import User
from xuexi.points import scoring
from xuexi.points.models import Counter, CounterPeriod, LedgerEntry, RuleSet

RULESET_CACHE_SECONDS = 60

# Process memory, not the shared cache: every award asks, and a round trip to Redis plus a
# JSON parse per call cost more than the award's own writes (docs/benchmarks.md, Points).
# Parsed specs are kept by rule set id for good (a stored rule set is never edited: a change
# is a new set); the set in force on a day for a minute, the same bound as before — a new set
# only ever takes effect from a future date, so a cached answer is never wrong for a day that
# has begun. ``ruleset_cache_clear`` empties both (on every save or delete of a rule set in
# this process, and between tests).
_specs: dict[int, scoring.RuleSetSpec] = {}
_in_force: dict[dt.date, tuple[float, RuleSet | None]] = {}
_cache_lock = threading.Lock()


def ruleset_cache_clear(**_signal: object) -> None:
    with _cache_lock:
        _specs.clear()
        _in_force.clear()


def ruleset_spec(ruleset: RuleSet) -> scoring.RuleSetSpec:
    """The parsed rules of a stored rule set (parsed once per process)."""
    spec = _specs.get(ruleset.pk)
    if spec is None:
        spec = scoring.parse(ruleset.data)
        with _cache_lock:
            _specs[ruleset.pk] = spec
    return spec


def ruleset_in_force(day: dt.date) -> tuple[RuleSet, scoring.RuleSetSpec] | None:
    """The rule set whose ``effective_from`` is the latest on or before ``day``, with its
    parsed rules; one indexed read per day and process a minute, nothing otherwise."""
    cached = _in_force.get(day)
    if cached is not None and cached[0] > time.monotonic():
        ruleset = cached[1]
    else:
        ruleset = (
            RuleSet.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
        )
        with _cache_lock:
            _in_force[day] = (time.monotonic() + RULESET_CACHE_SECONDS, ruleset)
    if ruleset is None:
        return None
    return ruleset, ruleset_spec(ruleset)


@dataclass(frozen=True)
class RuleProgress:
    code: str
    title: str
    points: int
    daily_cap: int | None
    weekly_cap: int | None
    week_points: int
    link: str
    scores_today: bool


@dataclass(frozen=True)
class TodayProgress:
    date: dt.date
    total: int
    daily_max: int
    rules: list[RuleProgress]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def progress_today(member: User, day: dt.date) -> TodayProgress | None:
    """The 我的积分 page: each rule of the day's set with what the member earned against its cap.
    Two indexed reads of the counters."""
    found = ruleset_in_force(day)
    if found is None:
        return None
    _ruleset, spec = found
    today = dict(
        Counter.objects.filter(member=member, period=CounterPeriod.DAY, start=day).values_list(
            "key", "points"
        )
    )
    week = dict(
        Counter.objects.filter(
            member=member, period=CounterPeriod.WEEK, start=week_start(day)
        ).values_list("key", "points")
    )
    rules = [
        RuleProgress(
            code=rule.code,
            title=rule.title,
            points=today.get(rule.code, 0),
            daily_cap=spec.daily_cap_of(rule),
            weekly_cap=rule.weekly_cap,
            week_points=week.get(rule.code, 0),
            link=rule.link,
            scores_today=rule.scores_on(day),
        )
        for rule in spec.rules.values()
    ]
    total = sum(points for key, points in today.items() if not key.startswith("group:"))
    return TodayProgress(date=day, total=total, daily_max=spec.daily_max(), rules=rules)


def points_between(member: User, first: dt.date, last: dt.date) -> int:
    """Points of the member's days from ``first`` to ``last`` inclusive (counters, per rule)."""
    total = (
        Counter.objects.filter(
            member=member, period=CounterPeriod.DAY, start__gte=first, start__lte=last
        )
        .exclude(key__startswith="group:")
        .aggregate(total=Sum("points"))["total"]
    )
    return int(total or 0)


def points_total(member: User) -> int:
    total = LedgerEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"]
    return int(total or 0)


def streak_days(member: User, day: dt.date) -> int:
    """Consecutive days up to ``day`` (or up to yesterday, if nothing yet today) with points."""
    days = set(
        Counter.objects.filter(
            member=member, period=CounterPeriod.DAY, points__gt=0, start__lte=day
        )
        .exclude(key__startswith="group:")
        .values_list("start", flat=True)
        .distinct()
    )
    cursor = day if day in days else day - dt.timedelta(days=1)
    streak = 0
    while cursor in days:
        streak += 1
        cursor -= dt.timedelta(days=1)
    return streak


# Levels by total points: a member's level is the highest whose threshold he has reached.
LEVEL_THRESHOLDS = (0, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


def level_of(total: int) -> int:
    return sum(1 for threshold in LEVEL_THRESHOLDS if total >= threshold)


def ledger_of(member: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(member=member)
