from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xuexi.points import scoring
from xuexi.points.models import RuleSet

# A small rule set exercising every kind of rule the engine knows.
TEST_RULES: dict[str, Any] = {
    "ruleset": {"code": "test", "title": "测试规则", "effective_from": "2020-01-01"},
    "caps": {"reading": 12},
    "rules": [
        {"code": "login", "title": "登录", "points": 1, "daily_cap": 1},
        {"code": "chosen_reading", "title": "我要选读文章", "points": 1, "unit_points": 1,
         "cap_group": "reading"},
        {"code": "read_article", "title": "阅读文章", "points": 1, "cap_group": "reading",
         "multipliers": [{"start": "06:00", "end": "08:30", "factor": 2}]},
        {"code": "daily_quiz", "title": "每日答题", "by_outcome": {"full": 2, "partial": 1},
         "daily_cap": 5},
        {"code": "four_player", "title": "四人赛", "first_n": 2, "daily_cap": 5,
         "by_index": {"1": {"win": 3, "loss": 1}, "2": {"win": 2, "loss": 1}}},
        {"code": "challenge_quiz", "title": "挑战答题", "points": 3, "daily_cap": 10,
         "weekdays": [2, 5, 7]},
        {"code": "sport", "title": "强国运动", "points": 1, "weekly_cap": 2},
        {"code": "subscribe", "title": "订阅", "points": 1, "daily_cap": 2},
        {"code": "offline_activity", "title": "线下学习活动", "points": 1, "daily_cap": 20},
    ],
}  # fmt: skip


def install(data: dict[str, Any], effective_from: dt.date) -> RuleSet:
    spec = scoring.parse({**data, "ruleset": {**data["ruleset"], "effective_from": effective_from}})
    return RuleSet.objects.create(
        code=f"{spec.code}-{effective_from}",
        title=spec.title,
        effective_from=effective_from,
        data=spec.as_data(),
    )


@pytest.fixture
def rules(db: Any) -> RuleSet:
    """Only the test rule set is in force (the shipped default is removed for the test)."""
    RuleSet.objects.all().delete()
    return install(TEST_RULES, dt.date(2020, 1, 1))
