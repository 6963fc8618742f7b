"""A member's points wherever a member page shows them: the top bar's ``今日 x/y`` chip, 我的,
the 学习积分 and 积分明细 pages (and ``/me/points/summary``).

``MemberPoints`` reads each figure only when it is first asked for, so a page that shows only
the chip pays for one indexed read of today's counters (the day's maximum is cached), and a
page that shows nothing pays for nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache, cached_property
from typing import Any

from django.core.cache import cache as shared_cache
from django.db.models import Q, Sum
from django.http import HttpRequest

from xuexi.accounts.models import User
from xuexi.core.time import business_day
from xuexi.points.models import Counter, CounterPeriod
from xuexi.points.selectors import (
    LEVEL_THRESHOLDS,
    RULESET_CACHE_SECONDS,
    level_of,
    points_total,
    ruleset_in_force,
    streak_days,
)


def daily_max_on(day: dt.date) -> int:
    """The most a member can earn on ``day`` under its rule set (0 when no set is in force).

    Cached as long as the rule set itself: a new set only ever governs future days."""
    key = f"points:daily-max:{day.isoformat()}"
    value = shared_cache.get(key)
    if value is None:
        found = ruleset_in_force(day)
        value = found[1].daily_max() if found else 0
        shared_cache.set(key, value, RULESET_CACHE_SECONDS)
    return int(value)


class MemberPoints:
    """One member's points as of ``day`` (Asia/Shanghai); every figure read on first use.

    A view that has already read a figure (today's progress reads the total) passes it in, so
    the page does not read it twice.
    """

    def __init__(
        self,
        member: User,
        day: dt.date,
        *,
        today: int | None = None,
        daily_max: int | None = None,
    ) -> None:
        self.member = member
        self.day = day
        if today is not None:
            self.__dict__["today"] = today
        if daily_max is not None:
            self.__dict__["daily_max"] = daily_max

    @cached_property
    def today(self) -> int:
        if "periods" in self.__dict__:
            return self.periods["today"]
        return self._sum_days(self.day, self.day)["today"]

    @cached_property
    def daily_max(self) -> int:
        return daily_max_on(self.day)

    @property
    def percent(self) -> int:
        """Today's share of the daily maximum, 0–100 (for the ring and the bars)."""
        if not self.daily_max:
            return 0
        return min(100, round(self.today * 100 / self.daily_max))

    @property
    def first_of_year(self) -> dt.date:
        return self.day.replace(month=1, day=1)

    @property
    def first_of_30_days(self) -> dt.date:
        return self.day - dt.timedelta(days=29)

    def _sum_days(self, first: dt.date, last: dt.date) -> dict[str, int]:
        """Today, the last 30 days and this year from the day counters, in one read."""
        sums = (
            Counter.objects.filter(
                member=self.member, period=CounterPeriod.DAY, start__gte=first, start__lte=last
            )
            .exclude(key__startswith="group:")
            .aggregate(
                today=Sum("points", filter=Q(start=self.day)),
                last_30_days=Sum("points", filter=Q(start__gte=self.first_of_30_days)),
                this_year=Sum("points", filter=Q(start__gte=self.first_of_year)),
            )
        )
        return {name: int(value or 0) for name, value in sums.items()}

    @cached_property
    def periods(self) -> dict[str, int]:
        sums = self._sum_days(min(self.first_of_30_days, self.first_of_year), self.day)
        self.__dict__.setdefault("today", sums["today"])
        return sums

    @property
    def last_30_days(self) -> int:
        return self.periods["last_30_days"]

    @property
    def this_year(self) -> int:
        return self.periods["this_year"]

    @cached_property
    def total(self) -> int:
        return points_total(self.member)

    @cached_property
    def streak_days(self) -> int:
        return streak_days(self.member, self.day)

    @property
    def level(self) -> int:
        return level_of(self.total)

    @property
    def next_level_points(self) -> int | None:
        """The total at which the next level begins (None at the top level)."""
        level = self.level
        return LEVEL_THRESHOLDS[level] if level < len(LEVEL_THRESHOLDS) else None

    @property
    def to_next_level(self) -> int | None:
        threshold = self.next_level_points
        return None if threshold is None else max(0, threshold - self.total)

    @property
    def level_percent(self) -> int:
        """How far the member is from his level's threshold to the next one, 0–100."""
        threshold = self.next_level_points
        if threshold is None:
            return 100
        if self.level == 0:  # corrections took the total below zero
            return 0
        floor = LEVEL_THRESHOLDS[self.level - 1]
        return min(100, max(0, round((self.total - floor) * 100 / (threshold - floor))))


def member_points(request: HttpRequest) -> dict[str, Callable[[], MemberPoints | None]]:
    """``member_points``: the signed-in member's ``MemberPoints`` for today, or None.

    A callable (cached per request), so pages that never show points never build it; a view
    may put its own ``MemberPoints`` in its context instead, already holding what it read."""

    @cache
    def points() -> MemberPoints | None:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return MemberPoints(user, business_day())

    return {"member_points": points}
