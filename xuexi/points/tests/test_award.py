"""The award service: rule set of the day, caps, idempotency, first N, windows, reversals."""

from __future__ import annotations

import datetime as dt
from copy import deepcopy

import pytest

from xuexi.accounts.tests.factories import UserFactory
from xuexi.points.models import Counter, LedgerEntry
from xuexi.points.selectors import progress_today, streak_days
from xuexi.points.services import points_award, points_reverse
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY_NOON = dt.datetime(2026, 3, 3, 12, 0, tzinfo=SH)


def award(member, rule, source, at=TUESDAY_NOON, **kwargs):
    return points_award(member=member, rule=rule, source_type="test", source_id=source, at=at,
                        **kwargs)  # fmt: skip


def test_an_award_pays_writes_one_entry_and_counts_it(rules):
    member = UserFactory.create()
    result = award(member, "login", "d1")
    assert (result.points, result.reason) == (1, "")
    entry = LedgerEntry.objects.get()
    assert (entry.points, entry.rule, entry.day, entry.ruleset) == (
        1,
        "login",
        TUESDAY_NOON.date(),
        rules,
    )
    assert Counter.objects.get(key="login").points == 1


def test_the_same_source_never_pays_twice(rules):
    member = UserFactory.create()
    assert award(member, "subscribe", "account-7").points == 1
    again = award(member, "subscribe", "account-7")
    assert again.points == 0
    assert again.duplicate
    assert LedgerEntry.objects.count() == 1


def test_a_daily_cap_holds_and_the_last_award_is_trimmed_to_fit(rules):
    member = UserFactory.create()
    paid = [award(member, "daily_quiz", f"q{n}", outcome="full").points for n in range(4)]
    assert paid == [2, 2, 1, 0]
    assert award(member, "daily_quiz", "q9", outcome="full").reason == "capped"


def test_rules_sharing_a_cap_share_it(rules):
    member = UserFactory.create()
    assert award(member, "chosen_reading", "a1", units=7).points == 8  # 1 article + 7 minutes
    assert award(member, "read_article", "a2").points == 1
    assert award(member, "chosen_reading", "a3", units=9).points == 3  # 12 - 9 left
    assert award(member, "read_article", "a4").reason == "capped"


def test_an_active_hour_doubles_the_points(rules):
    member = UserFactory.create()
    morning = dt.datetime(2026, 3, 3, 7, 0, tzinfo=SH)
    assert award(member, "read_article", "m", at=morning).points == 2
    assert award(member, "read_article", "n").points == 1


def test_only_the_first_games_of_a_day_score_by_index_and_outcome(rules):
    member = UserFactory.create()
    results = [
        award(member, "four_player", "g1", outcome="win").points,
        award(member, "four_player", "g2", outcome="win").points,
        award(member, "four_player", "g3", outcome="win").points,
    ]
    assert results == [3, 2, 0]
    other = UserFactory.create()
    assert award(other, "four_player", "h1", outcome="loss").points == 1


def test_a_weekday_window_pays_only_on_its_days(rules):
    member = UserFactory.create()
    monday = dt.datetime(2026, 3, 2, 12, 0, tzinfo=SH)
    assert award(member, "challenge_quiz", "c1", at=monday).reason == "not_today"
    assert award(member, "challenge_quiz", "c2").points == 3  # Tuesday


def test_a_weekly_cap_spans_the_days_of_a_week(rules):
    member = UserFactory.create()
    paid = [
        award(member, "sport", f"s{d}", at=TUESDAY_NOON + dt.timedelta(days=d)).points
        for d in range(4)
    ]
    assert paid == [1, 1, 0, 0]
    next_monday = dt.datetime(2026, 3, 9, 12, 0, tzinfo=SH)
    assert award(member, "sport", "s9", at=next_monday).points == 1


def test_the_day_is_the_day_in_shanghai(rules):
    member = UserFactory.create()
    late = dt.datetime(2026, 3, 3, 16, 30, tzinfo=dt.UTC)  # 00:30 on 4 March in Shanghai
    award(member, "login", "x", at=late)
    assert LedgerEntry.objects.get().day == dt.date(2026, 3, 4)


def test_the_rule_set_of_the_day_applies_never_a_later_one(rules):
    stricter = deepcopy(TEST_RULES)
    stricter["rules"][0]["points"] = 1
    stricter["rules"] = [r for r in stricter["rules"] if r["code"] != "subscribe"]
    later = install(stricter, dt.date(2026, 3, 10))
    member = UserFactory.create()
    assert award(member, "subscribe", "before").points == 1
    after = dt.datetime(2026, 3, 10, 12, 0, tzinfo=SH)
    assert award(member, "subscribe", "after", at=after).reason == "no_rule"
    assert award(member, "login", "after", at=after).points == 1
    assert LedgerEntry.objects.get(source_id="after").ruleset == later


def test_a_reversal_is_a_compensating_entry_and_frees_the_day(rules):
    member = UserFactory.create()
    award(member, "subscribe", "a")
    award(member, "subscribe", "b")
    entry = LedgerEntry.objects.get(source_id="a")
    reversal = points_reverse(actor=None, entry=entry, reason="误记")
    assert reversal.points == -1
    assert LedgerEntry.objects.count() == 3  # nothing edited or deleted
    assert Counter.objects.get(key="subscribe").points == 1
    with pytest.raises(Exception):  # noqa: B017, PT011 — the unique constraint refuses a second
        points_reverse(actor=None, entry=entry, reason="again")


def test_the_ledger_cannot_be_edited_or_deleted(rules):
    member = UserFactory.create()
    award(member, "login", "d")
    entry = LedgerEntry.objects.get()
    entry.points = 100
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.update(points=100)


def test_todays_progress_reads_the_counters(rules):
    member = UserFactory.create()
    award(member, "login", "d")
    award(member, "chosen_reading", "a", units=3)
    progress = progress_today(member, TUESDAY_NOON.date())
    assert progress is not None
    by_code = {rule.code: rule for rule in progress.rules}
    assert progress.total == 5
    assert (by_code["chosen_reading"].points, by_code["chosen_reading"].daily_cap) == (4, 12)
    assert by_code["challenge_quiz"].scores_today
    assert progress.daily_max == 1 + 12 + 5 + 5 + 10 + 2 + 2  # best weekday, every cap
    assert streak_days(member, TUESDAY_NOON.date()) == 1
