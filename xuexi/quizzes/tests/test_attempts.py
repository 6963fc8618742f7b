"""Every quiz kind's rules, timers on the server, idempotent finish, the points paid, and that
no start ever carries an answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import time_machine

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from xuexi.core.time import now
from xuexi.points.models import LedgerEntry
from xuexi.quizzes import services
from xuexi.quizzes.models import AttemptQuestion, AttemptState, WrongAnswer
from xuexi.quizzes.services import (
    attempt_answer,
    attempt_finish,
    attempt_questions,
    attempt_revive,
    attempt_start,
)
from xuexi.quizzes.tests.factories import bank, paper, right_answer, wrong_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return UserFactory.create()


def answer_all(member, attempt, *, right=True, rows=None):
    results = []
    for row in rows or AttemptQuestion.objects.filter(attempt=attempt).select_related(
        "version", "question"
    ):
        make = right_answer if right else wrong_answer
        results.append(attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                                      answer=make(row.version, row.question.type)))  # fmt: skip
    return results


def test_a_start_never_carries_an_answer(member):
    bank(12)
    attempt = attempt_start(member=member, kind="daily")
    payload = json.dumps([dataclasses.asdict(q) for q in attempt_questions(attempt)], default=str)
    for row in AttemptQuestion.objects.filter(attempt=attempt).select_related("version"):
        assert json.dumps(row.version.answer, ensure_ascii=False) not in payload
        assert row.version.explanation not in payload
    assert '"answer"' not in payload
    assert '"explanation"' not in payload


def test_daily_gives_five_and_avoids_recent_questions(member):
    questions = bank(12)
    seen: set[int] = set()
    for _ in range(2):
        attempt = attempt_start(member=member, kind="daily")
        asked = set(
            AttemptQuestion.objects.filter(attempt=attempt).values_list("question_id", flat=True)
        )
        assert len(asked) == 5
        assert not asked & seen  # 12 in the bank: the second set avoids the first five
        seen |= asked
    third = attempt_start(member=member, kind="daily")  # only 2 unseen left: filled with seen
    assert AttemptQuestion.objects.filter(attempt=third).count() == 5
    assert len(questions) == 12


def test_daily_pays_by_the_day_s_rule_once(member):
    bank(12)
    attempt = attempt_start(member=member, kind="daily")
    results = answer_all(member, attempt)
    assert all(r.correct for r in results)
    assert results[0].correct_answer
    assert results[0].explanation
    first = attempt_finish(member=member, attempt_id=attempt.pk)
    again = attempt_finish(member=member, attempt_id=attempt.pk)
    assert (first.score, first.correct_count, first.points_awarded) == (
        100,
        5,
        5,
    )  # 2021: 1 a right answer
    assert again == first
    assert LedgerEntry.objects.filter(member=member, rule="daily_quiz").count() == 1


def test_a_second_daily_set_pays_only_up_to_the_cap(member):
    bank(12)
    for _ in range(2):
        attempt = attempt_start(member=member, kind="daily")
        answer_all(member, attempt)
        result = attempt_finish(member=member, attempt_id=attempt.pk)
    assert result.points_awarded == 0  # the cap of 5 is reached
    assert sum(LedgerEntry.objects.filter(member=member).values_list("points", flat=True)) == 5


def test_wrong_answers_go_to_the_wrong_answer_book(member):
    bank(8)
    attempt = attempt_start(member=member, kind="daily")
    results = answer_all(member, attempt, right=False)
    assert not any(r.correct for r in results)
    assert WrongAnswer.objects.filter(member=member).count() == 5
    assert attempt_finish(member=member, attempt_id=attempt.pk).points_awarded == 0


def test_answers_out_of_place_are_refused_and_change_nothing(member):
    bank(8)
    other = UserFactory.create()
    attempt = attempt_start(member=member, kind="daily")
    foreign = attempt_start(member=other, kind="daily")
    row = AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")[0]
    foreign_row = AttemptQuestion.objects.filter(attempt=foreign)[0]
    good = right_answer(row.version, row.question.type)
    with pytest.raises(NotFound):  # a question of another attempt
        attempt_answer(
            member=member, attempt_id=attempt.pk, question_id=foreign_row.pk, answer=good
        )
    with pytest.raises(NotFound):  # another member's attempt
        attempt_answer(member=other, attempt_id=attempt.pk, question_id=row.pk, answer=good)
    with pytest.raises(ValidationFailed):  # malformed
        attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk, answer="A")
    assert not AttemptQuestion.objects.filter(answered_at__isnull=False).exists()
    attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk, answer=good)
    with pytest.raises(Conflict):  # twice
        attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk, answer=good)
    attempt_finish(member=member, attempt_id=attempt.pk)
    second = AttemptQuestion.objects.filter(
        attempt=attempt, answered_at__isnull=True
    ).select_related("version", "question")[0]
    with pytest.raises(Conflict):  # after finishing
        attempt_answer(member=member, attempt_id=attempt.pk, question_id=second.pk,
                       answer=right_answer(second.version, second.question.type))  # fmt: skip


def test_answers_faster_than_reading_are_flagged(member):
    bank(8)
    attempt = attempt_start(member=member, kind="daily")
    rows = list(
        AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
    )
    answer_all(member, attempt, rows=rows[:1])  # at once
    with time_machine.travel(now() + dt.timedelta(seconds=30), tick=False):
        answer_all(member, attempt, rows=rows[1:2])
    flags = dict(
        AttemptQuestion.objects.filter(attempt=attempt, answered_at__isnull=False).values_list(
            "position", "too_fast"
        )
    )
    assert flags == {rows[0].position: True, rows[1].position: False}


def test_weekly_scores_once_and_later_goes_are_practice(member):
    questions = bank(8)
    week = paper("weekly", questions[:5])
    first = attempt_start(member=member, kind="weekly")
    assert first.paper == week
    assert first.scoring
    assert attempt_start(member=member, kind="weekly").pk == first.pk  # an open one resumes
    answer_all(member, first)
    assert attempt_finish(member=member, attempt_id=first.pk).points_awarded == 5
    again = attempt_start(member=member, kind="weekly", paper_id=week.pk)
    answer_all(member, again)
    result = attempt_finish(member=member, attempt_id=again.pk)
    assert (result.scoring, result.points_awarded) == (False, 0)
    old = paper("weekly", questions[5:], title="上一周", opens_at=now() - dt.timedelta(days=8))
    assert attempt_start(member=member, kind="weekly", paper_id=old.pk).paper == old  # still open


def test_special_runs_on_the_server_clock_and_resumes(member):
    questions = bank(10)
    special = paper("special", questions, time_limit=600)
    attempt = attempt_start(member=member, kind="special", paper_id=special.pk)
    assert attempt.deadline == attempt.started_at + dt.timedelta(seconds=600)
    rows = list(
        AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
    )
    answer_all(member, attempt, rows=rows[:3])
    with time_machine.travel(now() + dt.timedelta(seconds=300), tick=False):
        assert attempt_start(member=member, kind="special", paper_id=special.pk).pk == attempt.pk
    with time_machine.travel(now() + dt.timedelta(seconds=700), tick=False):
        with pytest.raises(Conflict) as refused:  # past the deadline: refused, not recorded
            answer_all(member, attempt, rows=rows[3:4])
        assert refused.value.code == "time_up"
        assert not AttemptQuestion.objects.filter(pk=rows[3].pk, answered_at__isnull=False)
        result = attempt_finish(member=member, attempt_id=attempt.pk)
    assert (result.correct_count, result.score) == (3, 30)
    assert result.points_awarded == 3


def test_an_expired_special_attempt_is_closed_when_the_member_comes_back(member):
    special = paper("special", bank(5), time_limit=60)
    attempt = attempt_start(member=member, kind="special", paper_id=special.pk)
    with time_machine.travel(now() + dt.timedelta(seconds=120), tick=False):
        fresh = attempt_start(member=member, kind="special", paper_id=special.pk)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FINISHED
    assert fresh.pk != attempt.pk
    assert not fresh.scoring


def test_a_challenge_goes_on_until_wrong_with_one_revive(member):
    bank(20)
    attempt = attempt_start(member=member, kind="challenge")
    row = AttemptQuestion.objects.select_related("version", "question").get(attempt=attempt)
    for _ in range(5):
        result = attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                                answer=right_answer(row.version, row.question.type))  # fmt: skip
        assert result.correct
        assert result.next_question is not None
        row = AttemptQuestion.objects.select_related("version", "question").get(
            pk=result.next_question.id
        )
    wrong = attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                           answer=wrong_answer(row.version, row.question.type))  # fmt: skip
    assert (wrong.correct, wrong.can_revive, wrong.round_over) == (False, True, False)
    revived = attempt_revive(member=member, attempt_id=attempt.pk)
    with pytest.raises(Conflict):
        attempt_revive(member=member, attempt_id=attempt.pk)  # one revive a round
    row = AttemptQuestion.objects.select_related("version", "question").get(pk=revived.id)
    with time_machine.travel(now() + dt.timedelta(seconds=60), tick=False):  # past the 45 s timer
        timed_out = attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                                   answer=right_answer(row.version, row.question.type))  # fmt: skip
    assert (timed_out.late, timed_out.correct, timed_out.round_over) == (True, False, True)
    finished = attempt_finish(member=member, attempt_id=attempt.pk)
    assert (finished.score, finished.points_awarded) == (5, 3)  # 2021: 3 points for each 5 right


def test_starting_many_attempts_to_harvest_questions_is_limited(member, settings):
    settings.QUIZ_STARTS_PER_HOUR = 3
    bank(30)
    for _ in range(3):
        attempt_start(member=member, kind="daily")
    with pytest.raises(RateLimited):
        attempt_start(member=member, kind="daily")


def test_an_empty_bank_and_unknown_kinds_are_clear_refusals(member):
    with pytest.raises(Conflict):
        attempt_start(member=member, kind="daily")
    with pytest.raises(ValidationFailed):
        attempt_start(member=member, kind="exam")
    with pytest.raises(NotFound):
        attempt_start(member=member, kind="weekly")
    assert services.DAILY_SIZE == 5
