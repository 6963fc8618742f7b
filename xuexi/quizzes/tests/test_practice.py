"""Practice from the wrong-answer book (``practice_start``): what it asks, that it never pays,
that a right answer there masters a question and a wrong answer anywhere brings it back."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import Conflict, RateLimited, ValidationFailed
from xuexi.core.time import now
from xuexi.points.models import LedgerEntry
from xuexi.quizzes import services
from xuexi.quizzes.models import (
    Attempt,
    AttemptKind,
    AttemptQuestion,
    Category,
    Question,
    QuestionStatus,
    WrongAnswer,
)
from xuexi.quizzes.services import (
    attempt_answer,
    attempt_finish,
    attempt_start,
    practice_start,
)
from xuexi.quizzes.tests.factories import bank, paper, right_answer, wrong_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return UserFactory.create()


def rows(attempt: Attempt) -> list[AttemptQuestion]:
    return list(
        AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
    )


def answer(member, attempt, row, *, right: bool):
    make = right_answer if right else wrong_answer
    return attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                          answer=make(row.version, row.question.type))  # fmt: skip


def miss(member, questions) -> Attempt:
    """Answer every question of a weekly set of ``questions`` wrong."""
    attempt = attempt_start(member=member, kind="weekly", paper_id=paper("weekly", questions).pk)
    for row in rows(attempt):
        answer(member, attempt, row, right=False)
    attempt_finish(member=member, attempt_id=attempt.pk)
    return attempt


def test_practice_asks_the_book_s_questions_most_recent_first_and_never_pays(member):
    questions = bank(12)
    with time_machine.travel(now() - dt.timedelta(days=2), tick=False):
        miss(member, questions[:4])
    miss(member, questions[4:8])
    practice = practice_start(member=member)
    asked = [row.question_id for row in rows(practice)]
    assert set(asked[:4]) == {q.pk for q in questions[4:8]}  # the latest missed first
    assert set(asked[4:]) == {q.pk for q in questions[:4]}
    assert (practice.kind, practice.scoring, practice.question_count) == ("practice", False, 8)
    for row in rows(practice):
        answer(member, practice, row, right=True)
    result = attempt_finish(member=member, attempt_id=practice.pk)
    assert (result.score, result.correct_count, result.points_awarded) == (100, 8, 0)
    assert not LedgerEntry.objects.filter(source_type="quiz_attempt", source_id=str(practice.pk))


def test_practice_takes_at_most_a_set_of_one_category_and_no_retired_question(member):
    questions = bank(16)
    miss(member, questions[:8])
    miss(member, questions[8:16])
    assert services.PRACTICE_SIZE == 10
    assert practice_start(member=member).question_count == 10
    history = Category.objects.get(name="党史")
    retired = next(q for q in questions if q.category == history)
    retired.status = QuestionStatus.RETIRED
    retired.save(update_fields=["status"])
    practice = practice_start(member=member, category_id=history.pk)
    asked = {row.question for row in rows(practice)}
    assert asked
    assert {q.category_id for q in asked} == {history.pk}
    assert retired not in asked


def test_a_right_answer_in_practice_masters_and_a_wrong_one_anywhere_brings_it_back(member):
    questions = bank(8)
    miss(member, questions[:2])
    practice = practice_start(member=member)
    first, second = rows(practice)
    answer(member, practice, first, right=True)
    answer(member, practice, second, right=False)
    book = {row.question_id: row for row in WrongAnswer.objects.filter(member=member)}
    assert book[first.question_id].mastered_at is not None
    assert (book[second.question_id].mastered_at, book[second.question_id].times_wrong) == (None, 2)
    assert [row.question_id for row in rows(practice_start(member=member))] == [second.question_id]

    # A right answer outside practice masters nothing; a wrong one anywhere brings it back.
    week = paper("weekly", questions[:2], title="又一周")
    again = attempt_start(member=member, kind="weekly", paper_id=week.pk)
    for row in rows(again):
        answer(member, again, row, right=row.question_id != first.question_id)
    book = {row.question_id: row for row in WrongAnswer.objects.filter(member=member)}
    assert book[first.question_id].mastered_at is None
    assert book[first.question_id].times_wrong == 2
    assert book[second.question_id].mastered_at is None  # right in a paper: still to practise


def test_an_empty_book_is_refused_without_spending_a_start(member, settings):
    settings.QUIZ_STARTS_PER_HOUR = 1
    bank(8)
    for _ in range(3):
        with pytest.raises(Conflict) as refused:
            practice_start(member=member)
        assert refused.value.code == "book_empty"
    miss(member, Question.objects.all()[:2])  # the weekly start spends the one start
    with pytest.raises(RateLimited):
        practice_start(member=member)
    assert not Attempt.objects.filter(kind=AttemptKind.PRACTICE).exists()


def test_practice_is_started_only_through_its_own_service(member):
    bank(8)
    with pytest.raises(ValidationFailed):
        attempt_start(member=member, kind="practice")
