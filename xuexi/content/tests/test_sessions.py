"""Learning sessions (C3, C13; SECURITY S22): the server times, judges and pays once.

The clock is the server's (time-machine moves it); every validity rule of
``xuexi/content/sessions.py`` has a test here, and the points a valid session pays are checked
under the shipped 2021, 2019 and 2023 rule sets.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content import sessions
from xuexi.content.models import (
    Column,
    Item,
    ItemKind,
    ItemStatus,
    LearningSession,
    ReadingHistory,
    SessionState,
)
from xuexi.content.selectors import invalid_sessions, session_open_of
from xuexi.content.sessions import (
    SessionRules,
    beat_judge,
    finish_judge,
    session_finish,
    session_heartbeat,
    session_start,
    sessions_expire,
)
from xuexi.content.tests.factories import make_item, make_site
from xuexi.core.errors import Conflict, NotFound, RateLimited
from xuexi.organizations.services import membership_place
from xuexi.points import scoring
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import install

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)  # outside any 2019 active-hours window
EVERY = 15  # the default heartbeat rhythm
RULES = SessionRules()  # the defaults, for the pure tests


def shipped(code: str) -> scoring.RuleSetSpec:
    return next(spec for spec in scoring.shipped() if spec.code == code)


def use_shipped(code: str) -> RuleSet:
    """Only the shipped rule set ``code`` is in force (from its own date)."""
    RuleSet.objects.all().delete()
    spec = shipped(code)
    return install(spec.as_data(), spec.effective_from)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def rules_2021(db: Any) -> RuleSet:
    return use_shipped("2021")


@pytest.fixture
def column(db: Any) -> Column:
    return make_site().column


@pytest.fixture
def member(rules_2021: RuleSet) -> User:
    return UserFactory.create()


@pytest.fixture
def article(clock: Any, column: Column) -> Item:
    return make_item(column, title="新时代的乡村振兴")


@pytest.fixture
def video(clock: Any, column: Column) -> Item:
    return make_item(column, title="乡村振兴纪录片", kind=ItemKind.VIDEO, duration=600)


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[..., Any]:
    """``with committed(): ...`` runs the after-commit side effects (the integrity log)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def start(member: User, item: Item) -> LearningSession:
    return session_start(member=member, item=item, ip="10.0.0.8", user_agent="pytest")


def beat(
    member: User, session: LearningSession, *, visible: bool = True, position: float | None = None
) -> sessions.HeartbeatResult:
    return session_heartbeat(
        member=member, session_id=session.pk, visible=visible, position=position
    )


def read_for(clock: Any, member: User, session: LearningSession, seconds: int) -> None:
    """Beat at the rhythm while the page is visible for ``seconds``."""
    for _ in range(seconds // EVERY):
        clock.shift(EVERY)
        beat(member, session)


def watch_for(
    clock: Any, member: User, session: LearningSession, seconds: int, start_at: int = 0
) -> int:
    """Play media for ``seconds`` from ``start_at``, beating with the position; returns it."""
    position = start_at
    beat(member, session, visible=False, position=position)  # playing starts: the baseline
    for _ in range(seconds // EVERY):
        clock.shift(EVERY)
        position += EVERY
        beat(member, session, position=position)
    return position


def fresh(session: LearningSession) -> LearningSession:
    return LearningSession.objects.get(pk=session.pk)


def ledger(member: User) -> dict[str, int]:
    return {
        entry.rule: entry.points
        for entry in LedgerEntry.objects.filter(member=member, source_type="learning_session")
    }


# --- valid sessions ------------------------------------------------------------------------------


def test_a_minute_of_visible_reading_at_the_rhythm_is_valid_and_pays_chosen_reading(
    clock, member, article
):
    session = start(member, article)
    read_for(clock, member, session, 60)

    result = session_finish(member=member, session_id=session.pk)

    assert (result.valid, result.reason, result.verified_seconds) == (True, "", 60)
    # 2021: 1 per valid article + 1 per minute.
    assert result.points_awarded == 2
    assert ledger(member) == {"chosen_reading": 2}
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.source_type, entry.source_id) == ("learning_session", str(session.pk))
    assert entry.note == "新时代的乡村振兴"
    stored = fresh(session)
    assert (stored.state, stored.points_awarded, stored.finished_at) == (
        SessionState.VALID,
        2,
        dt.datetime(2026, 3, 3, 10, 1, tzinfo=SH),
    )
    assert result.message == "本次学习有效，获得 2 分。"


def test_longer_reading_pays_per_verified_minute_up_to_the_daily_cap(clock, member, column):
    first = start(member, make_item(column, title="一"))
    read_for(clock, member, first, 5 * 60 + 10)
    assert session_finish(member=member, session_id=first.pk).points_awarded == 1 + 5

    second = start(member, make_item(column, title="二"))
    read_for(clock, member, second, 10 * 60)
    result = session_finish(member=member, session_id=second.pk)
    assert result.valid
    assert result.points_awarded == 12 - 6  # the rest of the day's cap of 12

    third = start(member, make_item(column, title="三"))
    read_for(clock, member, third, 60)
    capped = session_finish(member=member, session_id=third.pk)
    assert (capped.valid, capped.points_awarded) == (True, 0)
    assert "上限" in capped.message


def test_starting_a_session_records_the_visit_in_the_reading_history(clock, member, article):
    start(member, article)
    start(member, article)
    history = ReadingHistory.objects.get(member=member, item=article)
    assert history.visits == 2
    assert Item.objects.get(pk=article.pk).read_count == 2


def test_the_session_keeps_the_client_address_and_agent(clock, member, article):
    session = fresh(start(member, article))
    assert (session.ip, session.user_agent, session.state) == ("10.0.0.8", "pytest", "open")
    assert session.started_at == TUESDAY


# --- invalid sessions ----------------------------------------------------------------------------


def test_finishing_before_the_minimum_dwell_is_too_early_and_pays_nothing(
    clock, member, article, committed, caplog
):
    session = start(member, article)
    read_for(clock, member, session, 45)

    with caplog.at_level(logging.WARNING, logger="xuexi.integrity"), committed():
        result = session_finish(member=member, session_id=session.pk)

    assert (result.valid, result.reason, result.points_awarded) == (False, "too_early", 0)
    assert result.message == "还没有达到规定的学习时长，不能提前结束，本次不计分。"
    assert ledger(member) == {}
    assert (fresh(session).state, fresh(session).reason) == ("invalid", "too_early")
    [record] = [r for r in caplog.records if r.name == "xuexi.integrity"]
    assert f"session={session.pk}" in record.getMessage()
    assert "reason=too_early" in record.getMessage()


def test_too_little_verified_time_is_too_short_even_after_a_long_wait(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 30)
    clock.shift(5 * 60)  # the page stayed open but sent nothing: not verified

    result = session_finish(member=member, session_id=session.pk)

    assert (result.valid, result.reason, result.points_awarded) == (False, "too_short", 0)
    assert result.message == "学习时间不足，本次不计分。"
    assert ledger(member) == {}


def test_heartbeats_faster_than_the_rhythm_are_not_credited(clock, member, article, caplog):
    session = start(member, article)
    clock.shift(EVERY)
    assert beat(member, session).verdict == "credited"
    clock.shift(2)
    with caplog.at_level(logging.INFO, logger="xuexi.integrity"):
        early = beat(member, session)
        clock.shift(1)
        beat(member, session)
    assert (early.verdict, early.credited, early.verified_seconds) == ("early", 0, EVERY)
    # Logged once for the session, not once per beat.
    assert len([r for r in caplog.records if "early" in r.getMessage()]) == 1
    stored = fresh(session)
    assert (stored.beats, stored.verified_seconds) == (3, EVERY)


def test_a_flood_of_heartbeats_never_credits_more_than_the_wall_time(clock, member, article):
    session = start(member, article)
    for _ in range(600):  # ten a second for a minute
        clock.shift(0.1)
        beat(member, session)
    stored = fresh(session)
    assert stored.beats == 600
    assert stored.verified_seconds <= 60
    result = session_finish(member=member, session_id=session.pk)
    assert result.verified_seconds <= 60


def test_hidden_heartbeats_credit_nothing(clock, member, article):
    session = start(member, article)
    for _ in range(8):
        clock.shift(EVERY)
        assert beat(member, session, visible=False).credited == 0
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.reason, result.verified_seconds) == (False, "too_short", 0)


def test_a_long_gap_credits_one_interval_only(clock, member, article):
    session = start(member, article)
    clock.shift(EVERY)
    beat(member, session)
    clock.shift(10 * 60)  # the phone slept
    late = beat(member, session)
    assert late.credited == EVERY + RULES.tolerance
    assert late.verified_seconds == EVERY + EVERY + RULES.tolerance


def test_time_hidden_between_two_visible_stretches_is_not_learning_time(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 30)
    clock.shift(10 * 60)  # tab hidden
    beat(member, session, visible=False)  # visible again: the clock restarts
    read_for(clock, member, session, 30)
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.verified_seconds) == (True, 60)


def test_a_second_session_supersedes_the_first_which_then_refuses_beats_and_pays_nothing(
    clock, member, column, committed, caplog
):
    first = start(member, make_item(column, title="一"))
    read_for(clock, member, first, 60)
    with caplog.at_level(logging.WARNING, logger="xuexi.integrity"), committed():
        second = start(member, make_item(column, title="二"))

    assert (fresh(first).state, fresh(first).reason) == ("invalid", "superseded")
    assert session_open_of(member) == second
    assert "reason=superseded" in caplog.records[-1].getMessage()
    clock.shift(EVERY)
    with pytest.raises(Conflict) as refused:
        beat(member, first)
    assert refused.value.code == "session_superseded"
    assert "其他页面或设备" in str(refused.value.message)

    result = session_finish(member=member, session_id=first.pk)
    assert (result.valid, result.reason, result.points_awarded) == (False, "superseded", 0)
    assert ledger(member) == {}
    assert LearningSession.objects.filter(member=member, state="open").count() == 1


def test_finishing_twice_answers_the_same_and_pays_once(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 90)
    first = session_finish(member=member, session_id=session.pk)
    clock.shift(60)
    again = session_finish(member=member, session_id=session.pk)

    assert first == again
    assert first.points_awarded == 2
    assert LedgerEntry.objects.filter(member=member).count() == 1
    with pytest.raises(Conflict) as refused:
        beat(member, session)
    assert refused.value.code == "session_closed"


def test_an_invalid_verdict_is_also_final(clock, member, article):
    session = start(member, article)
    clock.shift(20)
    assert session_finish(member=member, session_id=session.pk).reason == "too_early"
    clock.shift(120)
    assert session_finish(member=member, session_id=session.pk).reason == "too_early"
    assert ledger(member) == {}


def test_someone_elses_session_is_not_found(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 60)
    other = UserFactory.create()

    with pytest.raises(NotFound):
        beat(other, session)
    with pytest.raises(NotFound):
        session_finish(member=other, session_id=session.pk)
    with pytest.raises(NotFound):
        session_finish(member=member, session_id=session.pk + 1000)

    stored = fresh(session)
    assert (stored.state, stored.beats) == ("open", 4)
    assert LedgerEntry.objects.filter(member=other).count() == 0
    assert session_finish(member=member, session_id=session.pk).valid


def test_a_session_past_its_lifetime_expires_on_its_next_heartbeat(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 60)
    clock.shift(RULES.ttl)

    with pytest.raises(Conflict) as refused:
        beat(member, session)

    assert refused.value.code == "session_expired"
    assert (fresh(session).state, fresh(session).reason) == ("invalid", "expired")
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.reason) == (False, "expired")


def test_finishing_past_the_lifetime_is_expired_even_with_enough_time(clock, member, article):
    session = start(member, article)
    read_for(clock, member, session, 120)
    clock.shift(RULES.ttl)
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.reason, result.points_awarded) == (False, "expired", 0)
    assert result.message == "学习会话已过期，本次不计分。"


def test_a_new_start_closes_a_stale_open_session_as_expired(clock, member, column):
    stale = start(member, make_item(column))
    clock.shift(RULES.ttl + 1)
    start(member, make_item(column))
    assert fresh(stale).reason == "expired"


def test_the_periodic_expiry_closes_only_stale_open_sessions(clock, member, column):
    stale = start(member, make_item(column))
    clock.shift(RULES.ttl - 60)
    other = UserFactory.create()
    recent = start(other, make_item(column))
    clock.shift(61)
    assert sessions_expire() == 1
    assert (fresh(stale).state, fresh(stale).reason) == ("invalid", "expired")
    assert fresh(recent).state == "open"


@pytest.mark.parametrize("status", [ItemStatus.DRAFT, ItemStatus.WITHDRAWN])
def test_an_unpublished_item_cannot_be_learned(clock, member, column, status):
    item = make_item(column, published=False)
    Item.objects.filter(pk=item.pk).update(status=status)
    item.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        start(member, item)
    assert refused.value.code == "item_not_published"
    assert not LearningSession.objects.exists()


def test_an_item_scheduled_for_later_cannot_be_learned_yet(clock, member, column):
    item = make_item(column)
    Item.objects.filter(pk=item.pk).update(published_at=TUESDAY + dt.timedelta(hours=1))
    item.refresh_from_db()
    with pytest.raises(Conflict):
        start(member, item)


def test_starts_are_rate_limited_per_member(clock, member, article, settings, locmem_cache):
    settings.LEARNING_STARTS_PER_MINUTE = 3
    for _ in range(3):
        start(member, article)
    with pytest.raises(RateLimited) as refused:
        start(member, article)
    assert refused.value.retry_after > 0
    start(UserFactory.create(), article)  # another member is not limited by him
    clock.shift(61)
    start(member, article)


# --- media ---------------------------------------------------------------------------------------


def test_watching_a_video_with_a_plausible_position_is_valid(clock, member, video):
    session = start(member, video)
    watch_for(clock, member, session, 180)
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.verified_seconds) == (True, 180)
    # 2021: 视听学习 1 per video, 视听学习时长 1 per minute; no 我要视听学习 that year.
    assert ledger(member) == {"watch_video": 1, "video_time": 3}
    assert result.points_awarded == 4


def test_a_position_that_jumps_ahead_of_the_clock_is_not_credited(clock, member, video, caplog):
    session = start(member, video)
    beat(member, session, visible=False, position=0)
    clock.shift(EVERY)
    with caplog.at_level(logging.INFO, logger="xuexi.integrity"):
        jumped = beat(member, session, position=200)
    assert (jumped.verdict, jumped.credited) == ("implausible", 0)
    assert any("implausible" in r.getMessage() for r in caplog.records)
    # The jump is the new baseline: playing on from there counts again.
    clock.shift(EVERY)
    assert beat(member, session, position=215).credited == EVERY
    assert fresh(session).position == 215


def test_a_position_past_the_end_of_the_media_is_not_credited(clock, member, column):
    clip = make_item(column, kind=ItemKind.AUDIO, duration=30)
    session = start(member, clip)
    beat(member, session, visible=False, position=25)
    clock.shift(EVERY)
    assert beat(member, session, position=40).verdict == "implausible"


def test_a_position_that_does_not_move_is_not_credited(clock, member, video):
    session = start(member, video)
    beat(member, session, visible=False, position=30)
    clock.shift(EVERY)
    assert beat(member, session, position=30).verdict == "stalled"
    clock.shift(EVERY)
    assert beat(member, session, position=30.4).verdict == "stalled"
    assert fresh(session).verified_seconds == 0


def test_media_beats_without_a_position_are_not_credited(clock, member, video):
    session = start(member, video)
    clock.shift(EVERY)
    assert beat(member, session).verdict == "no_position"
    assert fresh(session).verified_seconds == 0


def test_media_credits_no_more_than_the_position_advanced(clock, member, video):
    session = start(member, video)
    beat(member, session, visible=False, position=0)
    clock.shift(EVERY)
    assert beat(member, session, position=6).credited == 7  # 6 s played, 1 s of slack


def test_a_short_clip_is_valid_once_most_of_it_has_played(clock, member, column):
    clip = make_item(column, kind=ItemKind.VIDEO, duration=60)
    assert RULES.min_seconds(clip) == 48
    session = start(member, clip)
    watch_for(clock, member, session, 45)
    clock.shift(5)  # the clip ends at 50 s: a beat now would be too fast for the rhythm
    assert beat(member, session, position=50).verdict == "early"
    clock.shift(3)  # so the page holds the last beat until half an interval has passed
    assert beat(member, session, position=50).credited == 6  # 5 s played, 1 s of slack
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.verified_seconds) == (True, 51)


def test_a_video_stopped_early_is_too_short(clock, member, video):
    session = start(member, video)
    watch_for(clock, member, session, 90)
    clock.shift(120)  # paused
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.reason) == (False, "too_short")


# --- points under other years' rules -------------------------------------------------------------


def test_under_the_2019_march_rules_an_article_pays_read_article_and_article_time(member, column):
    use_shipped("2019-03")
    with time_machine.travel(dt.datetime(2019, 4, 2, 10, 0, tzinfo=SH), tick=False) as clock:
        item = make_item(column)
        session = start(member, item)
        read_for(clock, member, session, 5 * 60)
        result = session_finish(member=member, session_id=session.pk)
    # 阅读文章 1; 文章学习时长 1 per 2 full minutes → 2; no 我要选读文章 in 2019.
    assert ledger(member) == {"read_article": 1, "article_time": 2}
    assert result.points_awarded == 3


def test_under_the_2019_march_rules_a_video_pays_per_three_minutes(member, column):
    use_shipped("2019-03")
    with time_machine.travel(dt.datetime(2019, 4, 2, 10, 0, tzinfo=SH), tick=False) as clock:
        item = make_item(column, kind=ItemKind.VIDEO, duration=900)
        session = start(member, item)
        watch_for(clock, member, session, 7 * 60)
        result = session_finish(member=member, session_id=session.pk)
    assert ledger(member) == {"watch_video": 1, "video_time": 2}
    assert result.points_awarded == 3


def test_under_the_2019_january_rules_active_hours_double_the_points(member, column):
    use_shipped("2019-01")
    morning = dt.datetime(2019, 2, 12, 7, 0, tzinfo=SH)  # 06:00–08:30 counts double
    with time_machine.travel(morning, tick=False) as clock:
        item = make_item(column)
        session = start(member, item)
        read_for(clock, member, session, 5 * 60)
        result = session_finish(member=member, session_id=session.pk)
    # 阅读文章 1 × 2; 文章学习时长 1 per 4 full minutes × 2.
    assert ledger(member) == {"read_article": 2, "article_time": 2}
    assert result.points_awarded == 4


def test_under_the_2023_rules_media_pays_watch_listen(member, column):
    use_shipped("2023-06")
    with time_machine.travel(dt.datetime(2023, 6, 6, 10, 0, tzinfo=SH), tick=False) as clock:
        item = make_item(column, kind=ItemKind.AUDIO, duration=900)
        session = start(member, item)
        watch_for(clock, member, session, 4 * 60)
        result = session_finish(member=member, session_id=session.pk)
    # 我要视听学习: 1 per valid programme + 1 per minute; 视听学习 rules are gone.
    assert ledger(member) == {"watch_listen": 1 + 4}
    assert result.points_awarded == 5


def test_without_a_rule_set_a_valid_session_pays_nothing(clock, member, article):
    RuleSet.objects.all().delete()
    session = start(member, article)
    read_for(clock, member, session, 60)
    result = session_finish(member=member, session_id=session.pk)
    assert (result.valid, result.points_awarded) == (True, 0)


# --- settings and pure rules ---------------------------------------------------------------------


def test_the_settings_change_the_rhythm_and_the_minimum(clock, member, article, settings):
    settings.LEARNING_HEARTBEAT_SECONDS = 10
    settings.LEARNING_MIN_SECONDS = 30
    rules = SessionRules.current()
    assert (rules.heartbeat_every, rules.min_seconds(article)) == (10, 30)
    session = start(member, article)
    for _ in range(3):
        clock.shift(10)
        beat(member, session)
    assert session_finish(member=member, session_id=session.pk).valid


def test_the_minimum_for_media_is_the_lesser_of_three_minutes_and_most_of_the_duration():
    def media(duration: int) -> Item:
        return Item(kind=ItemKind.VIDEO, duration=duration)

    assert RULES.min_seconds(Item(kind=ItemKind.ARTICLE)) == 60
    assert RULES.min_seconds(media(0)) == 180  # duration unknown
    assert RULES.min_seconds(media(100)) == 80
    assert RULES.min_seconds(media(3600)) == 180
    assert RULES.min_seconds(media(1)) == 1


def test_the_fraction_of_a_second_is_carried_to_the_next_beat():
    start_at = TUESDAY
    first = beat_judge(
        rules=RULES,
        media=False,
        duration=0,
        clock=start_at,
        position_before=0,
        moment=start_at + dt.timedelta(seconds=15.6),
        visible=True,
        position=None,
    )
    assert (first.credit, first.clock) == (15, start_at + dt.timedelta(seconds=15))
    second = beat_judge(
        rules=RULES,
        media=False,
        duration=0,
        clock=first.clock,
        position_before=0,
        moment=start_at + dt.timedelta(seconds=30.5),
        visible=True,
        position=None,
    )
    assert second.credit == 15  # 15.5 s since the credited instant
    assert second.clock == start_at + dt.timedelta(seconds=30)


def test_the_finish_verdicts_in_order():
    def verdict(elapsed: int, verified: int) -> str:
        return finish_judge(
            rules=RULES,
            started_at=TUESDAY,
            verified_seconds=verified,
            min_seconds=60,
            moment=TUESDAY + dt.timedelta(seconds=elapsed),
        )

    assert verdict(59, 59) == "too_early"
    assert verdict(60, 59) == "too_short"
    assert verdict(60, 60) == ""
    assert verdict(RULES.ttl, 600) == "expired"


# --- the integrity review's selector -------------------------------------------------------------


def test_invalid_sessions_lists_the_refused_ones_newest_first(clock, member, column):
    other = UserFactory.create()
    a = start(member, make_item(column))
    clock.shift(10)
    session_finish(member=member, session_id=a.pk)  # too early
    b = start(member, make_item(column))
    read_for(clock, member, b, 60)
    session_finish(member=member, session_id=b.pk)  # valid
    c = start(other, make_item(column))
    clock.shift(90)
    session_finish(member=other, session_id=c.pk)  # too short

    assert list(invalid_sessions()) == [c, a]
    assert list(invalid_sessions(reason="too_early")) == [a]
    assert list(invalid_sessions(member=other)) == [c]
    assert list(invalid_sessions(since=TUESDAY + dt.timedelta(seconds=30))) == [c]
    assert list(invalid_sessions(until=TUESDAY + dt.timedelta(seconds=30))) == [a]


def test_invalid_sessions_can_be_narrowed_to_an_organisations_subtree(clock, column, personas):
    RuleSet.objects.all().delete()
    inside, outside = personas["member"], personas["member_b"]
    refused = {}
    for person in (inside, outside):
        session = start(person, make_item(column))
        clock.shift(10)
        session_finish(member=person, session_id=session.pk)
        refused[person.pk] = session
    county_a = personas["orgs"]["county_a"]
    assert list(invalid_sessions(organization=county_a)) == [refused[inside.pk]]
    membership_place(user=outside, organization=personas["orgs"]["branch_a"])
    assert set(invalid_sessions(organization=county_a)) == set(refused.values())
