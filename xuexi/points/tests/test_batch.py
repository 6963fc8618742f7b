"""The batched path gives exactly the answers of ``points_award`` called once per request."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from xuexi.accounts.tests.factories import UserFactory
from xuexi.organizations.models import Organization
from xuexi.organizations.services import membership_place
from xuexi.points import batch
from xuexi.points.batch import AwardRequest, points_award_batch
from xuexi.points.models import Counter, LedgerEntry, RuleSet
from xuexi.points.services import counters_compare, points_award
from xuexi.points.tests.conftest import TEST_RULES, install
from xuexi.points.tests.test_properties import START, event

SH = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 3, 3, 12, 0, tzinfo=SH)


def request(member_id: int, rule: str, source: object, **kwargs: object) -> AwardRequest:
    return AwardRequest(member_id, rule, "event", str(source), kwargs.pop("at", NOON), **kwargs)  # type: ignore[arg-type]


class TestSameAnswersAsOneByOne(TestCase):
    """Members 0–2 are paid one call at a time, members 3–5 the same events in random batches:
    the awards, the ledgers and the counters must be the same."""

    def setUp(self) -> None:
        RuleSet.objects.all().delete()
        install(TEST_RULES, dt.date(2020, 1, 1))
        self.members = [UserFactory.create() for _ in range(6)]

    def ledger_of(self, member_index: int) -> list[tuple]:
        return sorted(
            LedgerEntry.objects.filter(member=self.members[member_index]).values_list(
                "rule", "points", "day", "at", "source_id", "ruleset_id"
            )
        )

    def counters_of(self, member_index: int) -> list[tuple]:
        return sorted(
            Counter.objects.filter(member=self.members[member_index])
            .exclude(points=0, occurrences=0)
            .values_list("period", "start", "key", "points", "occurrences")
        )

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(event, max_size=80), st.lists(st.integers(1, 30), min_size=1, max_size=8))
    def test_batches_answer_as_single_awards(self, events: list[tuple], cuts: list[int]) -> None:
        one_by_one, requests = [], []
        for member, rule, source, minute, units, outcome in events:
            at = START + dt.timedelta(minutes=minute)
            award = points_award(
                member=self.members[member],
                rule=rule,
                source_type="event",
                source_id=source,
                at=at,
                units=units,
                outcome=outcome,
            )
            one_by_one.append((award.rule, award.points, award.reason))
            requests.append(
                AwardRequest(
                    self.members[member + 3].pk, rule, "event", source, at, units=units,
                    outcome=outcome,
                )
            )  # fmt: skip
        batched, first, sizes = [], 0, iter(cuts * 10)
        while first < len(requests):
            size = next(sizes, 30)
            batched += points_award_batch(requests[first : first + size])
            first += size

        assert [(a.rule, a.points, a.reason) for a in batched] == one_by_one
        for index in range(3):
            assert self.ledger_of(index + 3) == self.ledger_of(index)
            assert self.counters_of(index + 3) == self.counters_of(index)
        paid_ids = {a.entry_id for a in batched if a.points}
        assert paid_ids == set(
            LedgerEntry.objects.filter(member__in=self.members[3:]).values_list("id", flat=True)
        )
        assert counters_compare() == []


pytestmark = pytest.mark.django_db


@pytest.fixture
def members(db):
    RuleSet.objects.all().delete()
    install(TEST_RULES, dt.date(2020, 1, 1))
    return [UserFactory.create() for _ in range(3)]


def test_a_replayed_batch_pays_nothing_and_writes_nothing(members):
    requests = [request(m.pk, "subscribe", n) for m in members for n in range(3)]
    first = points_award_batch(requests)
    assert [a.points for a in first] == [1, 1, 0] * 3  # the daily cap of 2
    entries, counters = LedgerEntry.objects.count(), list(Counter.objects.values_list())

    again = points_award_batch(requests)

    assert [a.reason for a in again] == ["duplicate", "duplicate", "capped"] * 3
    assert LedgerEntry.objects.count() == entries
    assert list(Counter.objects.values_list()) == counters


def test_the_same_source_twice_in_one_batch_pays_once(members):
    awards = points_award_batch([request(members[0].pk, "offline_activity", 7)] * 3)
    assert [(a.points, a.reason) for a in awards] == [(1, ""), (0, "duplicate"), (0, "duplicate")]


def test_entries_carry_the_member_s_current_organisation(members):
    root = Organization.objects.add_root({"name": "平台", "kind": "platform", "code": "T"})
    branch = Organization.objects.add_child(root, {"name": "支部", "kind": "branch", "code": "T-1"})
    membership_place(user=members[0], organization=branch)
    points_award_batch(
        [request(members[0].pk, "login", "d1"), request(members[1].pk, "login", "d1")]
    )
    assert dict(LedgerEntry.objects.values_list("member_id", "organization_id")) == {
        members[0].pk: branch.pk,
        members[1].pk: None,
    }


def test_requests_the_day_s_rules_refuse_are_answered_without_a_write(members):
    sunday_noon = dt.datetime(2026, 3, 8, 12, tzinfo=SH)  # challenge scores Tue, Fri, Sun only
    monday_noon = sunday_noon + dt.timedelta(days=1)
    awards = points_award_batch(
        [
            request(members[0].pk, "no_such_rule", 1),
            request(members[0].pk, "challenge_quiz", 1, at=monday_noon),
            request(members[0].pk, "challenge_quiz", 2, at=sunday_noon),
        ]
    )
    assert [(a.points, a.reason) for a in awards] == [(0, "no_rule"), (0, "not_today"), (3, "")]
    assert LedgerEntry.objects.count() == 1


def test_long_batches_are_cut_into_transactions_of_at_most_a_chunk(members, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 4)
    awards = points_award_batch([request(members[n % 3].pk, "subscribe", n) for n in range(10)])
    assert sum(a.points for a in awards) == 6  # 2 a member
    assert counters_compare() == []
