"""The demo's 30 days of points: the counters match the ledger, no cap is exceeded, a share of
members never learned, the demo accounts have a streak, and seeding again changes nothing.

The demo is seeded once for the module (organisations, then points: ~7 s on SQLite) inside a
transaction rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count, Max, Sum

from xuexi.accounts.models import User
from xuexi.core.time import business_day
from xuexi.organizations import demo as organizations_demo
from xuexi.points import demo
from xuexi.points.models import Counter, LedgerEntry
from xuexi.points.selectors import ruleset_in_force, streak_days, week_start
from xuexi.points.services import counters_compare

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[demo.PointsDemoSummary]:
    with django_db_blocker.unblock(), transaction.atomic():
        organizations_demo.demo_seed()
        summary = demo.points_demo_seed()
        # Fire PostgreSQL's deferred foreign-key checks of the half-million rows once, here:
        # otherwise each test's teardown checks them again inside its rolled-back savepoint.
        connection.check_constraints()
        yield summary
        transaction.set_rollback(True)


def test_the_demo_writes_thirty_days_up_to_yesterday_and_nothing_today(
    seeded: demo.PointsDemoSummary,
) -> None:
    today = business_day()
    assert seeded.entries > 50_000
    assert seeded.first_day == today - dt.timedelta(days=demo.DEMO_DAYS)
    assert seeded.last_day == today - dt.timedelta(days=1)
    assert not LedgerEntry.objects.filter(day__gte=today).exists()
    assert not Counter.objects.filter(start__gte=today, period="day").exists()


def test_the_counters_match_the_ledger(seeded: demo.PointsDemoSummary) -> None:
    assert counters_compare() == []


def test_no_member_day_exceeds_any_cap_of_the_rule_set_in_force(
    seeded: demo.PointsDemoSummary,
) -> None:
    """Recomputed from the ledger alone: per rule, per shared cap group, per week, first N,
    the day's maximum — under the rule set in force on each day."""
    specs = {}
    rows = LedgerEntry.objects.values("member_id", "day", "rule").annotate(
        points=Sum("points"), entries=Count("id")
    )
    groups: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    weeks: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    days: dict[tuple[int, dt.date], int] = defaultdict(int)
    checked = 0
    for row in rows.iterator(chunk_size=5000):
        day = row["day"]
        if day not in specs:
            found = ruleset_in_force(day)
            assert found is not None
            specs[day] = found[1]
        spec = specs[day]
        rule = spec.rule(row["rule"])
        assert rule is not None, row
        assert rule.scores_on(day), row
        if rule.cap_group:
            groups[(row["member_id"], day, rule.cap_group)] += row["points"]
        elif rule.daily_cap is not None:
            assert row["points"] <= rule.daily_cap, row
        if rule.weekly_cap is not None:
            weeks[(row["member_id"], week_start(day), rule.code)] += row["points"]
        if rule.first_n is not None:
            assert row["entries"] <= rule.first_n, row
        days[(row["member_id"], day)] += row["points"]
        checked += 1
    assert checked > 10_000
    for (_member, day, group), points in groups.items():
        assert points <= specs[day].caps[group]
    for (_member, week, code), points in weeks.items():
        rule = specs[max(d for d in specs if week_start(d) == week)].rule(code)
        assert rule is not None
        assert rule.weekly_cap is not None
        assert points <= rule.weekly_cap
    for (_member, day), points in days.items():
        assert 0 < points <= specs[day].daily_max()
    assert not LedgerEntry.objects.filter(points__lte=0).exists()


def test_about_fifteen_percent_of_registered_members_never_learned(
    seeded: demo.PointsDemoSummary,
) -> None:
    registered = {learner.member_id for learner in demo.demo_learners()}
    learned = set(LedgerEntry.objects.values_list("member_id", flat=True).distinct())
    assert learned <= registered  # nobody pre-listed, nobody outside the province
    share = len(registered - learned) / len(registered)
    assert 0.11 <= share <= 0.19
    assert (seeded.registered, seeded.learners) == (len(registered), len(learned))


def test_members_learn_on_a_varying_share_of_days_with_varying_rules(
    seeded: demo.PointsDemoSummary,
) -> None:
    active_days = [
        row["days"]
        for row in LedgerEntry.objects.values("member_id").annotate(
            days=Count("day", distinct=True)
        )
    ]
    assert min(active_days) <= 3
    assert max(active_days) == demo.DEMO_DAYS
    assert sum(days >= 25 for days in active_days) > len(active_days) * 0.15
    rules = set(LedgerEntry.objects.values_list("rule", flat=True).distinct())
    assert {"login", "chosen_reading", "watch_video", "video_time", "daily_quiz"} <= rules
    assert {"weekly_quiz", "special_quiz", "four_player", "duel", "comment"} <= rules


def test_an_entry_counts_for_the_members_current_organisation_on_an_asia_shanghai_day(
    seeded: demo.PointsDemoSummary,
) -> None:
    entry = LedgerEntry.objects.select_related("member").order_by("id").first()
    assert entry is not None
    current = entry.member.memberships.get(ended_at__isnull=True)
    assert entry.organization_id == current.organization_id
    assert business_day(entry.at) == entry.day
    assert not LedgerEntry.objects.filter(organization__isnull=True).exists()


def test_the_demo_member_and_his_branch_admin_have_a_ten_day_streak(
    seeded: demo.PointsDemoSummary,
) -> None:
    for phone in demo.STREAK_PHONES:
        member = User.objects.get(phone=phone)
        assert streak_days(member, business_day()) == demo.STREAK_DAYS


def test_seeding_again_changes_nothing(seeded: demo.PointsDemoSummary) -> None:
    def state() -> tuple[object, ...]:
        return (
            LedgerEntry.objects.aggregate(n=Count("id"), p=Sum("points"), last=Max("id")),
            Counter.objects.aggregate(n=Count("id"), p=Sum("points"), o=Sum("occurrences")),
        )

    before = state()
    assert demo.points_demo_seed() == seeded
    assert state() == before


def test_a_members_days_are_the_same_for_the_same_seed() -> None:
    learners = [
        demo._Learner(n, organizations_demo.member_phone(n), 1, dt.date(2020, 1, 1), 0)
        for n in range(1, 21)
    ]
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(30)]

    def history(seed: int) -> list[object]:
        return [list(demo._member_days(learner, days, seed=seed)) for learner in learners]

    assert history(7) == history(7)
    assert history(7) != history(8)
