"""Property-based proofs over random event streams (hypothesis).

Whatever members do, in whatever order and however often the same event is replayed:
no cap is ever exceeded, the ledger's sums equal the counters, and replaying changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from xuexi.accounts.tests.factories import UserFactory
from xuexi.points import scoring
from xuexi.points.models import Counter, LedgerEntry, RuleSet
from xuexi.points.services import counters_compare, points_award
from xuexi.points.tests.conftest import TEST_RULES, install

SH = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=SH)  # a Monday
SPEC = scoring.parse(TEST_RULES)

event = st.tuples(
    st.integers(0, 2),  # member
    st.sampled_from(sorted(SPEC.rules)),  # rule
    st.integers(0, 30),  # source: small, so the same source comes back often
    st.integers(0, 9 * 24 * 60 - 1),  # minute of the nine days from START
    st.integers(0, 20),  # units (minutes read)
    st.sampled_from(["win", "loss", "full", "partial", None]),
)


class TestEventStreams(TestCase):
    def setUp(self) -> None:
        RuleSet.objects.all().delete()
        install(TEST_RULES, dt.date(2020, 1, 1))
        self.members = [UserFactory.create() for _ in range(3)]

    def play(self, events: list[tuple]) -> None:
        for member, rule, source, minute, units, outcome in events:
            points_award(
                member=self.members[member],
                rule=rule,
                source_type="event",
                source_id=source,
                at=START + dt.timedelta(minutes=minute),
                units=units,
                outcome=outcome,
            )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(event, max_size=80))
    def test_caps_hold_sums_match_and_replays_change_nothing(self, events: list[tuple]) -> None:
        self.play(events)  # each example runs in its own rolled-back transaction

        per_day: dict[tuple[int, dt.date, str], int] = defaultdict(int)
        per_week: dict[tuple[int, dt.date, str], int] = defaultdict(int)
        for entry in LedgerEntry.objects.all():
            rule = SPEC.rules[entry.rule]
            key = f"group:{rule.cap_group}" if rule.cap_group else entry.rule
            per_day[(entry.member_id, entry.day, key)] += entry.points
            monday = entry.day - dt.timedelta(days=entry.day.weekday())
            per_week[(entry.member_id, monday, entry.rule)] += entry.points
            assert entry.points > 0
        for (_member, _day, key), points in per_day.items():
            cap = SPEC.caps[key[6:]] if key.startswith("group:") else SPEC.rules[key].daily_cap
            if cap is not None:
                assert points <= cap
        for (_member, _monday, code), points in per_week.items():
            weekly_cap = SPEC.rules[code].weekly_cap
            if weekly_cap is not None:
                assert points <= weekly_cap

        assert counters_compare() == []
        snapshot = list(LedgerEntry.objects.order_by("id").values_list("id", "points"))
        self.play(events)  # the same events again: every source has been paid or refused
        assert list(LedgerEntry.objects.order_by("id").values_list("id", "points")) == snapshot
        assert counters_compare() == []


@pytest.mark.django_db
def test_the_command_proves_the_counters_and_rebuilds_them(rules):
    member = UserFactory.create()
    for n in range(3):
        points_award(member=member, rule="subscribe", source_type="t", source_id=n,
                     at=START + dt.timedelta(hours=12))  # fmt: skip
    out = StringIO()
    call_command("points_counters", stdout=out)
    assert "一致" in out.getvalue()
    Counter.objects.filter(key="subscribe").update(points=99)
    with pytest.raises(Exception, match="不符"):
        call_command("points_counters", stdout=StringIO())
    call_command("points_counters", "--rebuild", stdout=StringIO())
    assert Counter.objects.get(key="subscribe").points == 2
    total = LedgerEntry.objects.aggregate(total=Sum("points"))["total"]
    assert total == 2
