"""Learning sessions under concurrent requests, on PostgreSQL (row locks for real): finishes
racing for one session pay once; starts racing for one member leave one open session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.models import Item, LearningSession, SessionState
from xuexi.content.sessions import (
    HeartbeatResult,
    SessionResult,
    session_finish,
    session_heartbeat,
    session_start,
)
from xuexi.content.tests.factories import make_item, make_site
from xuexi.core.errors import Conflict
from xuexi.core.testing import POSTGRESQL_RACES, race
from xuexi.core.time import now
from xuexi.points import scoring
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import install

pytestmark = POSTGRESQL_RACES

RACERS = 12


@pytest.fixture
def member(settings: Any) -> User:
    settings.LEARNING_STARTS_PER_MINUTE = 10 * RACERS
    RuleSet.objects.all().delete()
    spec = next(s for s in scoring.shipped() if s.code == "2021")
    install(spec.as_data(), spec.effective_from)
    return UserFactory.create()


@pytest.fixture
def items(member: User) -> list[Item]:
    column = make_site().column
    return [make_item(column, title=f"文章 {n}") for n in range(RACERS)]


def test_simultaneous_finishes_of_one_session_pay_once(member, items):
    # A session that has read for three minutes (its heartbeats happened before the race).
    session = LearningSession.objects.create(
        member=member,
        item=items[0],
        started_at=now() - dt.timedelta(minutes=3),
        last_beat_at=now(),
        beats=12,
        verified_seconds=180,
    )

    results, errors = race(lambda n: session_finish(member=member, session_id=session.pk), RACERS)

    assert errors == []
    assert {(r.valid, r.points_awarded) for r in results} == {(True, 1 + 3)}
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert sum(e.points for e in LedgerEntry.objects.filter(member=member)) == 4
    session.refresh_from_db()
    assert (session.state, session.points_awarded) == (SessionState.VALID, 4)


def test_simultaneous_starts_leave_one_open_session(member, items):
    session_start(member=member, item=items[0])  # an open session the racers all supersede

    results, errors = race(lambda n: session_start(member=member, item=items[n]), RACERS)

    assert errors == []
    assert len(results) == RACERS
    open_sessions = LearningSession.objects.filter(member=member, state=SessionState.OPEN)
    assert open_sessions.count() == 1
    assert (
        LearningSession.objects.filter(
            member=member, state=SessionState.INVALID, reason="superseded"
        ).count()
        == RACERS
    )


def test_heartbeats_racing_a_finish_never_add_time_after_the_verdict(member, items):
    session = LearningSession.objects.create(
        member=member,
        item=items[0],
        started_at=now() - dt.timedelta(minutes=2),
        last_beat_at=now() - dt.timedelta(seconds=15),
        beats=8,
        verified_seconds=105,
    )

    def work(n: int) -> Any:
        if n == 0:
            return session_finish(member=member, session_id=session.pk)
        try:
            return session_heartbeat(member=member, session_id=session.pk, visible=True)
        except Exception as exc:  # a beat after the finish is refused (409)
            return exc

    results, errors = race(work, RACERS)

    assert errors == []
    beats = [r for r in results if not isinstance(r, SessionResult)]
    assert len(beats) == RACERS - 1
    refused = [r for r in beats if isinstance(r, Conflict)]
    assert all(r.code == "session_closed" for r in refused)
    assert all(isinstance(r, HeartbeatResult) for r in beats if r not in refused)
    session.refresh_from_db()
    assert session.state == SessionState.VALID
    # Whatever ran before the finish was counted in the verdict, and nothing after it.
    paid = sum(e.points for e in LedgerEntry.objects.filter(member=member))
    assert paid == 1 + session.verified_seconds // 60
    assert session.points_awarded == paid
