"""Caps and idempotency under concurrent requests, on PostgreSQL (row locks for real)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core import testing
from xuexi.points.batch import AwardRequest, points_award_batch
from xuexi.points.models import Counter, LedgerEntry, RuleSet
from xuexi.points.services import Award, points_award
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = testing.POSTGRESQL_RACES

SH = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 3, 3, 12, 0, tzinfo=SH)
RACERS = 50


def race(work: Callable[[int], Award]) -> list[Award]:
    """Run ``work(n)`` for n in 0..49 at the same moment, each in its own thread and session;
    no racer may fail."""
    results, errors = testing.race(work, RACERS)
    assert errors == []
    return results


@pytest.fixture
def member():
    RuleSet.objects.all().delete()
    install(TEST_RULES, dt.date(2020, 1, 1))
    return UserFactory.create()


def test_fifty_simultaneous_awards_of_a_capped_rule_pay_exactly_the_cap(member):
    results = race(
        lambda n: points_award(
            member=member, rule="subscribe", source_type="account", source_id=n, at=NOON
        )
    )
    assert sum(r.points for r in results) == 2  # the daily cap
    assert LedgerEntry.objects.filter(member=member).count() == 2
    assert Counter.objects.get(member=member, key="subscribe").points == 2


def test_fifty_simultaneous_awards_with_the_same_source_make_one_entry(member):
    results = race(
        lambda n: points_award(
            member=member,
            rule="offline_activity",
            source_type="activity",
            source_id="42",
            at=NOON,
        )
    )
    assert [r.points for r in results if r.points] == [1]
    assert sum(1 for r in results if r.duplicate) == RACERS - 1
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_a_shared_cap_holds_when_two_rules_race(member):
    results = race(
        lambda n: points_award(
            member=member,
            rule="chosen_reading" if n % 2 else "read_article",
            source_type="article",
            source_id=n,
            units=2,
            at=NOON,
        )
    )
    assert sum(r.points for r in results) == 12  # the reading group's cap
    assert Counter.objects.get(member=member, key="group:reading").points == 12


def test_batches_and_single_awards_racing_for_one_cap_pay_exactly_the_cap(member):
    """Half the racers award one at a time, half in batches spanning two members (both orders):
    caps hold for both members, and nobody deadlocks."""
    other = UserFactory.create()

    def work(n: int) -> Award:
        if n % 2:
            return points_award(
                member=member, rule="subscribe", source_type="account", source_id=n, at=NOON
            )
        pair = (other, member) if n % 4 else (member, other)
        awards = points_award_batch(
            [
                AwardRequest(m.pk, "subscribe", "account", f"{n}-{k}", NOON)
                for k in range(3)
                for m in pair
            ]
        )
        return Award("subscribe", sum(a.points for a in awards))

    race(work)
    for someone in (member, other):
        assert sum(LedgerEntry.objects.filter(member=someone).values_list("points", flat=True)) == 2
        assert Counter.objects.get(member=someone, key="subscribe").points == 2


def test_fifty_simultaneous_batches_with_the_same_source_make_one_entry(member):
    request = AwardRequest(member.pk, "offline_activity", "activity", "42", NOON)
    results = race(lambda n: points_award_batch([request])[0])
    assert [r.points for r in results if r.points] == [1]
    assert sum(1 for r in results if r.duplicate) == RACERS - 1
    assert LedgerEntry.objects.filter(member=member).count() == 1
