"""Attempts under concurrent requests, on PostgreSQL (row locks for real): finishes racing for
one attempt pay once; answers racing for one question grade it once; revives racing for one
round revive it once; timeouts racing an answer leave one verdict."""

from __future__ import annotations

from typing import Any

import pytest

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import Conflict
from xuexi.core.testing import POSTGRESQL_RACES, race
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import rulesets_install_default
from xuexi.quizzes.models import AttemptQuestion, WrongAnswer
from xuexi.quizzes.services import (
    attempt_answer,
    attempt_finish,
    attempt_revive,
    attempt_start,
    attempt_timeout,
)
from xuexi.quizzes.tests.factories import bank, right_answer, wrong_answer

pytestmark = POSTGRESQL_RACES

RACERS = 10


@pytest.fixture
def member(db: Any) -> User:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    bank(20)
    return UserFactory.create()


def rows(attempt_id: int) -> list[AttemptQuestion]:
    return list(
        AttemptQuestion.objects.filter(attempt_id=attempt_id).select_related("version", "question")
    )


def test_simultaneous_finishes_of_one_attempt_pay_once(member):
    attempt = attempt_start(member=member, kind="daily")
    for row in rows(attempt.pk):
        attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                       answer=right_answer(row.version, row.question.type))  # fmt: skip

    results, errors = race(lambda n: attempt_finish(member=member, attempt_id=attempt.pk), RACERS)

    assert errors == []
    assert {(r.score, r.correct_count, r.points_awarded) for r in results} == {(100, 5, 5)}
    assert LedgerEntry.objects.filter(member=member, rule="daily_quiz").count() == 1


def test_simultaneous_answers_to_one_question_grade_it_once(member):
    attempt = attempt_start(member=member, kind="daily")
    row = rows(attempt.pk)[0]
    wrong = wrong_answer(row.version, row.question.type)

    results, errors = race(
        lambda n: attempt_answer(
            member=member, attempt_id=attempt.pk, question_id=row.pk, answer=wrong
        ),
        RACERS,
    )

    assert len(results) == 1
    assert len(errors) == RACERS - 1
    assert all(isinstance(e, Conflict) and e.code == "already_answered" for e in errors)
    assert WrongAnswer.objects.get(member=member, question_id=row.question_id).times_wrong == 1


def test_simultaneous_revives_revive_a_round_once(member):
    attempt = attempt_start(member=member, kind="challenge")
    row = rows(attempt.pk)[0]
    attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                   answer=wrong_answer(row.version, row.question.type))  # fmt: skip

    results, errors = race(lambda n: attempt_revive(member=member, attempt_id=attempt.pk), RACERS)

    assert len(results) == 1
    assert all(isinstance(e, Conflict) and e.code == "not_revivable" for e in errors)
    assert len(rows(attempt.pk)) == 2


def test_a_timeout_racing_answers_leaves_one_verdict(member):
    attempt = attempt_start(member=member, kind="challenge")
    row = rows(attempt.pk)[0]
    right = right_answer(row.version, row.question.type)

    def work(n: int) -> Any:
        if n % 2:
            return attempt_timeout(member=member, attempt_id=attempt.pk, question_id=row.pk)
        return attempt_answer(
            member=member, attempt_id=attempt.pk, question_id=row.pk, answer=right
        )

    results, errors = race(work, RACERS)

    assert len(results) == 1
    assert all(isinstance(e, Conflict) for e in errors)
    graded = AttemptQuestion.objects.get(pk=row.pk)
    assert graded.correct is results[0].correct
    issued = AttemptQuestion.objects.filter(attempt=attempt).count()
    assert issued == (2 if results[0].correct else 1)  # a right answer issued the next one
