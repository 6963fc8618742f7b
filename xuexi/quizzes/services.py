"""Attempts: the server issues the questions, owns every clock and grades every answer.

- ``attempt_start`` issues an attempt with its questions (never their answers) and deadline:
  daily — 5 active questions the member has not been asked in the last 30 days (as far as the
  bank allows); weekly — the week's set (one scoring attempt, later ones are practice);
  special — a timed paper, resumed while its time runs; challenge — one question at a time.
- ``attempt_answer`` grades one answer on the server and answers with the correct answer and
  the explanation. After the attempt's deadline answers are refused (409 ``time_up``,
  nothing recorded: the member hands it in); after a challenge question's timer they are wrong.
  An answer faster than a person can read the question is flagged for the integrity review.
- ``attempt_finish`` closes the attempt once and pays through ``points_award`` with the
  attempt as the source; calling it again answers the same and pays nothing.
- ``attempt_timeout`` records a challenge question whose timer ran out on the page;
  ``practice_start`` issues a practice set from the wrong-answer book (never scoring; a right
  answer there marks the question mastered).

Each write locks the attempt row, so two answers to one attempt never race.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core import ratelimit
from xuexi.core.errors import Conflict, NotFound, ValidationFailed
from xuexi.core.time import now
from xuexi.points.services import points_award
from xuexi.quizzes import grading
from xuexi.quizzes.models import (
    Attempt,
    AttemptKind,
    AttemptQuestion,
    AttemptState,
    Paper,
    PaperKind,
    Question,
    QuestionStatus,
    QuestionVersion,
    WrongAnswer,
)

DAILY_SIZE = 5
RECENT_DAYS = 30  # a daily quiz avoids questions the member was asked this recently
CHALLENGE_SECONDS = 45  # per question
GRACE_SECONDS = 3  # network latency forgiven on every clock
CHALLENGE_MAX = 50  # a round ends after this many questions however well it goes
READING_CHARS_PER_SECOND = 25  # faster than this (plus one second) is flagged as too fast

RULES = {
    AttemptKind.DAILY: "daily_quiz",
    AttemptKind.WEEKLY: "weekly_quiz",
    AttemptKind.SPECIAL: "special_quiz",
    AttemptKind.CHALLENGE: "challenge_quiz",
}


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- what the client sees --------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedQuestion:
    """A question as the member sees it before answering: never its answer."""

    id: int  # the AttemptQuestion id
    position: int
    type: str
    stem: str
    options: list[dict[str, Any]]
    blanks: int
    hint: str
    hint_item_id: int | None
    issued_at: dt.datetime | None
    answered: bool


@dataclass(frozen=True)
class AnswerResult:
    correct: bool
    correct_answer: Any
    explanation: str
    late: bool = False
    next_question: IssuedQuestion | None = None  # challenge: the next one, while it goes on
    round_over: bool = False  # challenge: wrong, and no revive left (or the cap reached)
    can_revive: bool = False  # challenge: wrong, and the round's one revive is still there


@dataclass(frozen=True)
class FinishResult:
    score: int
    correct_count: int
    question_count: int
    points_awarded: int
    scoring: bool = True


def issued(row: AttemptQuestion) -> IssuedQuestion:
    version = row.version
    question_type = row.question.type
    options = (
        grading.true_false_options()
        if question_type == "true_false"
        else [{"key": o["key"], "text": o["text"]} for o in version.options]
    )
    return IssuedQuestion(
        id=row.pk,
        position=row.position,
        type=question_type,
        stem=version.stem,
        options=options,
        blanks=grading.blank_count(question_type, version.answer),
        hint=version.hint,
        hint_item_id=version.hint_item_id,
        issued_at=row.issued_at,
        answered=row.answered_at is not None,
    )


def attempt_questions(attempt: Attempt) -> list[IssuedQuestion]:
    """The questions issued so far, in order (for resuming a page)."""
    rows = AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
    return [issued(row) for row in rows]


# --- starting --------------------------------------------------------------------------------


def _starts_limit(member: User) -> ratelimit.Limit:
    return ratelimit.Limit(
        key=f"quiz-start:{member.pk}",
        count=_setting("QUIZ_STARTS_PER_HOUR", 60),
        seconds=3600,
        message=_("开始答题过于频繁，请稍后再试。"),
    )


def _draw(member: User, count: int) -> list[Question]:
    """``count`` active questions the member was not asked in the last ``RECENT_DAYS`` days,
    drawn at random by ``draw_key`` (an index range, not ORDER BY random() over the bank);
    recently asked ones only when the bank has too few others."""
    since = now() - dt.timedelta(days=RECENT_DAYS)
    recent = set(
        AttemptQuestion.objects.filter(member=member, attempt__started_at__gte=since).values_list(
            "question_id", flat=True
        )
    )
    active = Question.objects.filter(status=QuestionStatus.ACTIVE, current__isnull=False)
    chosen: list[Question] = []
    start = random.random()  # noqa: S311 - a draw, not a secret
    for window in (active.filter(draw_key__gte=start), active.filter(draw_key__lt=start)):
        if len(chosen) == count:  # the first window sufficed: no query for the second
            break
        for question in window.order_by("draw_key")[: count + len(recent)]:
            if question.pk not in recent and len(chosen) < count:
                chosen.append(question)
    if len(chosen) < count:  # a small bank: fill with recently asked ones
        taken = {q.pk for q in chosen}
        chosen += list(active.exclude(pk__in=taken).order_by("draw_key")[: count - len(chosen)])
    random.shuffle(chosen)
    return chosen


def _paper_of(kind: str, paper_id: int | None) -> Paper:
    papers = Paper.objects.filter(kind=kind, is_published=True, opens_at__lte=now())
    paper = (
        papers.filter(pk=paper_id).first()
        if paper_id is not None
        else papers.order_by("-opens_at").first()
    )
    if paper is None:
        raise NotFound(_("找不到这套题，或它还没有开放。"))
    if paper.closes_at is not None and paper.closes_at <= now() and kind == PaperKind.SPECIAL:
        raise Conflict(_("这套专项答题已经截止。"), code="paper_closed")
    return paper


def _issue(attempt: Attempt, questions: list[Question]) -> None:
    moment = now()
    AttemptQuestion.objects.bulk_create(
        [
            AttemptQuestion(
                attempt=attempt,
                member_id=attempt.member_id,
                position=position,
                question=question,
                version_id=question.current_id or 0,  # drawn with current set
                issued_at=moment,
            )
            for position, question in enumerate(questions, start=1)
        ]
    )


def _open_attempt(member: User, kind: str, paper: Paper | None) -> Attempt | None:
    attempt = (
        Attempt.objects.filter(member=member, kind=kind, paper=paper, state=AttemptState.OPEN)
        .order_by("-started_at")
        .first()
    )
    if attempt is not None and attempt.deadline is not None and attempt.deadline <= now():
        attempt_finish(member=member, attempt_id=attempt.pk)  # its time ran out
        return None
    return attempt


def attempt_start(*, member: User, kind: str, paper_id: int | None = None) -> Attempt:
    """Issue an attempt (or resume the open one of a paper); see the module docstring."""
    if kind not in AttemptKind.values or kind == AttemptKind.PRACTICE:  # see practice_start
        raise ValidationFailed({"kind": _("答题类型无效。")})
    paper = _paper_of(kind, paper_id) if kind in (PaperKind.WEEKLY, PaperKind.SPECIAL) else None
    if paper is not None:
        resumed = _open_attempt(member, kind, paper)
        if resumed is not None:
            return resumed
    ratelimit.hit(_starts_limit(member))
    with transaction.atomic():
        attempt = Attempt(member=member, kind=kind, paper=paper)
        if paper is not None:
            attempt.scoring = not Attempt.objects.filter(
                member=member, paper=paper, scoring=True
            ).exists()
            if paper.time_limit:
                attempt.deadline = attempt.started_at + dt.timedelta(seconds=paper.time_limit)
            questions = [
                slot.question
                for slot in paper.slots.select_related("question").order_by("position")
            ]
        elif kind == AttemptKind.DAILY:
            questions = _draw(member, DAILY_SIZE)
        else:  # challenge: one question now, the next after each right answer
            questions = _draw(member, 1)
        if not questions:
            raise Conflict(_("题库中暂无可用的题目。"), code="bank_empty")
        attempt.question_count = len(questions)
        attempt.save()
        _issue(attempt, questions)
    return attempt


# --- answering -------------------------------------------------------------------------------


def _locked_attempt(member: User, attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_for_update().filter(pk=attempt_id, member=member).first()
    if attempt is None:
        raise NotFound(_("找不到该答题记录。"))
    attempt.member = member  # it is this member's (filtered above): no query to load it again
    return attempt


def _too_fast(version: QuestionVersion, seconds: float) -> bool:
    reading = 1 + len(version.stem) / READING_CHARS_PER_SECOND
    return seconds < reading


def _remember_wrong(member_id: int, question_id: int, moment: dt.datetime) -> None:
    updated = WrongAnswer.objects.filter(member_id=member_id, question_id=question_id).update(
        times_wrong=F("times_wrong") + 1, last_wrong_at=moment, mastered_at=None
    )
    if not updated:
        WrongAnswer.objects.create(
            member_id=member_id, question_id=question_id, last_wrong_at=moment
        )


def attempt_answer(*, member: User, attempt_id: int, question_id: int, answer: Any) -> AnswerResult:
    """Grade the answer to issued question ``question_id`` (an AttemptQuestion id)."""
    with transaction.atomic():
        attempt = _locked_attempt(member, attempt_id)
        if attempt.state != AttemptState.OPEN:
            raise Conflict(_("本次答题已经交卷。"), code="attempt_finished")
        row = (
            AttemptQuestion.objects.select_related("version", "question")
            .filter(attempt=attempt, pk=question_id)
            .first()
        )
        if row is None or row.issued_at is None:
            raise NotFound(_("本次答题中没有这道题。"))
        if row.answered_at is not None:
            raise Conflict(_("这道题已经作答。"), code="already_answered")
        if attempt.kind == AttemptKind.CHALLENGE and attempt.ended_by_wrong:
            raise Conflict(_("本轮挑战已经结束。"), code="round_over")
        # Past the attempt's own time limit nothing more is taken (the member hands it in);
        # a challenge question's timer is different: a late answer there is graded wrong.
        if attempt.deadline is not None and now() > attempt.deadline + dt.timedelta(
            seconds=GRACE_SECONDS
        ):
            raise Conflict(_("答题时间已到，请交卷。"), code="time_up")
        version, question_type = row.version, row.question.type
        given = grading.clean_answer(
            question_type,
            version.options,
            grading.blank_count(question_type, version.answer),
            answer,
        )
        moment = now()
        grace = dt.timedelta(seconds=GRACE_SECONDS)
        late = attempt.deadline is not None and moment > attempt.deadline + grace
        if attempt.kind == AttemptKind.CHALLENGE:
            timer = dt.timedelta(seconds=_setting("QUIZ_CHALLENGE_SECONDS", CHALLENGE_SECONDS))
            late = late or moment > row.issued_at + timer + grace
        correct = not late and grading.is_correct(question_type, version.answer, given)
        previous = (
            AttemptQuestion.objects.filter(attempt=attempt, answered_at__isnull=False)
            .order_by("-answered_at")
            .values_list("answered_at", flat=True)
            .first()
        )
        since = max(row.issued_at, previous or row.issued_at)
        row.answer, row.answered_at, row.correct, row.late = given, moment, correct, late
        row.too_fast = _too_fast(version, (moment - since).total_seconds())
        row.save(update_fields=["answer", "answered_at", "correct", "late", "too_fast"])
        if correct:
            Attempt.objects.filter(pk=attempt.pk).update(correct_count=F("correct_count") + 1)
            attempt.correct_count += 1
        else:
            _remember_wrong(member.pk, row.question_id, moment)
        if correct and attempt.kind == AttemptKind.PRACTICE:
            _master(member.pk, row.question_id, moment)
        result = AnswerResult(
            correct=correct,
            correct_answer=version.answer,
            explanation=version.explanation,
            late=late,
        )
        if attempt.kind == AttemptKind.CHALLENGE:
            result = _challenge_next(attempt, row, result)
    return result


def _challenge_next(attempt: Attempt, row: AttemptQuestion, result: AnswerResult) -> AnswerResult:
    """After a challenge answer: the next question, or the choice to revive, or the end."""
    if not result.correct:
        if attempt.revive_used:
            Attempt.objects.filter(pk=attempt.pk).update(ended_by_wrong=True)
            return _replace(result, round_over=True)
        return _replace(result, can_revive=True)
    if row.position >= CHALLENGE_MAX:
        Attempt.objects.filter(pk=attempt.pk).update(ended_by_wrong=True)
        return _replace(result, round_over=True)
    return _replace(result, next_question=_issue_next(attempt))


def _issue_next(attempt: Attempt) -> IssuedQuestion | None:
    asked = set(
        AttemptQuestion.objects.filter(attempt=attempt).values_list("question_id", flat=True)
    )
    candidates = [q for q in _draw(attempt.member, len(asked) + 3) if q.pk not in asked]
    if not candidates:
        Attempt.objects.filter(pk=attempt.pk).update(ended_by_wrong=True)
        return None
    position = len(asked) + 1
    row = AttemptQuestion.objects.create(
        attempt=attempt,
        member_id=attempt.member_id,
        position=position,
        question=candidates[0],
        version_id=candidates[0].current_id or 0,  # drawn with current set
        issued_at=now(),
    )
    Attempt.objects.filter(pk=attempt.pk).update(question_count=position)
    row.version = QuestionVersion.objects.get(pk=row.version_id)
    row.question = candidates[0]
    return issued(row)


def _replace(result: AnswerResult, **changes: Any) -> AnswerResult:
    return AnswerResult(**{**result.__dict__, **changes})


def attempt_revive(*, member: User, attempt_id: int) -> IssuedQuestion:
    """Challenge: after a wrong answer, spend the round's one revive for a new question."""
    with transaction.atomic():
        attempt = _locked_attempt(member, attempt_id)
        if attempt.kind != AttemptKind.CHALLENGE or attempt.state != AttemptState.OPEN:
            raise Conflict(_("只有进行中的挑战答题可以复活。"), code="not_revivable")
        last = AttemptQuestion.objects.filter(attempt=attempt).order_by("-position").first()
        if (
            attempt.revive_used
            or attempt.ended_by_wrong
            or last is None
            or last.correct is not False
        ):
            raise Conflict(_("现在不能复活。"), code="not_revivable")
        Attempt.objects.filter(pk=attempt.pk).update(revive_used=True)
        attempt.revive_used = True
        next_question = _issue_next(attempt)
        if next_question is None:
            raise Conflict(_("题库中暂无可用的题目。"), code="bank_empty")
        return next_question


# --- finishing -------------------------------------------------------------------------------


def _outcome(correct: int, total: int) -> str | None:
    if total and correct == total:
        return "full"
    return "partial" if correct else None


def attempt_finish(*, member: User, attempt_id: int) -> FinishResult:
    """Close the attempt (once) and pay for it; a second call answers the same."""
    with transaction.atomic():
        attempt = _locked_attempt(member, attempt_id)
        if attempt.state == AttemptState.FINISHED:
            return _result(attempt)
        correct = AttemptQuestion.objects.filter(attempt=attempt, correct=True).count()
        total = attempt.question_count
        attempt.correct_count = correct
        # A paper scores out of 100; a challenge round scores the number answered right.
        if attempt.kind == AttemptKind.CHALLENGE:
            attempt.score = correct
        else:
            attempt.score = round(100 * correct / total) if total else 0
        attempt.state = AttemptState.FINISHED
        attempt.finished_at = now()
        if attempt.scoring and correct:
            award = points_award(
                member=member,
                rule=RULES[AttemptKind(attempt.kind)],
                source_type="quiz_attempt",
                source_id=attempt.pk,
                at=attempt.finished_at,
                units=correct,
                outcome=_outcome(correct, attempt.question_count),
            )
            attempt.points_awarded = award.points
        attempt.save(
            update_fields=["correct_count", "score", "state", "finished_at", "points_awarded"]
        )
    return _result(attempt)


def _result(attempt: Attempt) -> FinishResult:
    return FinishResult(
        score=attempt.score,
        correct_count=attempt.correct_count,
        question_count=attempt.question_count,
        points_awarded=attempt.points_awarded,
        scoring=attempt.scoring,
    )


# --- the member's clocks, timeouts and the wrong-answer book's practice ----------------------

PRACTICE_SIZE = 10  # questions in one practice set from the wrong-answer book


def challenge_seconds() -> int:
    """Seconds a challenge question may take (``QUIZ_CHALLENGE_SECONDS``), grace not counted."""
    return _setting("QUIZ_CHALLENGE_SECONDS", CHALLENGE_SECONDS)


def question_deadline(attempt: Attempt, issued_at: dt.datetime | None) -> dt.datetime | None:
    """When the answer to a question issued at ``issued_at`` is due by the server's clock: a
    challenge question's own timer, else the attempt's deadline (None: no limit)."""
    if attempt.kind == AttemptKind.CHALLENGE and issued_at is not None:
        own = issued_at + dt.timedelta(seconds=challenge_seconds())
        return min(own, attempt.deadline) if attempt.deadline is not None else own
    return attempt.deadline


def _master(member_id: int, question_id: int, moment: dt.datetime) -> None:
    WrongAnswer.objects.filter(
        member_id=member_id, question_id=question_id, mastered_at__isnull=True
    ).update(mastered_at=moment)


def attempt_timeout(*, member: User, attempt_id: int, question_id: int) -> AnswerResult:
    """Challenge: the question's timer ran out on the page (or the member gave it up). It is
    recorded as answered wrong with no answer given (``late`` once the server's own timer has
    passed) and answered like any wrong answer: the correct answer, the explanation, then the
    revive or the end of the round. The server does not wait for its own timer: giving up
    early gains nothing that a wrong answer would not. Locks the attempt row."""
    with transaction.atomic():
        attempt = _locked_attempt(member, attempt_id)
        if attempt.state != AttemptState.OPEN:
            raise Conflict(_("本次答题已经交卷。"), code="attempt_finished")
        if attempt.kind != AttemptKind.CHALLENGE:
            raise Conflict(_("只有挑战答题按题计时。"), code="no_question_timer")
        row = (
            AttemptQuestion.objects.select_related("version", "question")
            .filter(attempt=attempt, pk=question_id)
            .first()
        )
        if row is None or row.issued_at is None:
            raise NotFound(_("本次答题中没有这道题。"))
        if row.answered_at is not None:
            raise Conflict(_("这道题已经作答。"), code="already_answered")
        if attempt.ended_by_wrong:
            raise Conflict(_("本轮挑战已经结束。"), code="round_over")
        moment = now()
        due = question_deadline(attempt, row.issued_at)
        row.answer, row.answered_at, row.correct = [], moment, False
        row.late = due is not None and moment > due
        row.save(update_fields=["answer", "answered_at", "correct", "late"])
        _remember_wrong(member.pk, row.question_id, moment)
        result = AnswerResult(
            correct=False,
            correct_answer=row.version.answer,
            explanation=row.version.explanation,
            late=row.late,
        )
        return _challenge_next(attempt, row, result)


def practice_start(*, member: User, category_id: int | None = None) -> Attempt:
    """A practice set (错题练习) from the member's wrong-answer book: up to ``PRACTICE_SIZE``
    questions not yet mastered — of one category if ``category_id`` is given — the most
    recently missed first, each asked in its current version; retired questions are left out.

    A practice attempt never scores. A question answered right in it is marked mastered
    (``WrongAnswer.mastered_at``) and leaves the book's list to review; answering it wrong
    again, anywhere, puts it back (``_remember_wrong``). Starts count against the same hourly
    limit as every other quiz; an empty book is refused (409 ``book_empty``) without counting.
    """
    book = WrongAnswer.objects.filter(
        member=member,
        mastered_at__isnull=True,
        question__status=QuestionStatus.ACTIVE,
        question__current__isnull=False,
    )
    if category_id is not None:
        book = book.filter(question__category_id=category_id)
    rows = book.select_related("question").order_by("-last_wrong_at", "-id")[:PRACTICE_SIZE]
    questions = [row.question for row in rows]
    if not questions:
        raise Conflict(_("错题本中暂无需要练习的题目。"), code="book_empty")
    ratelimit.hit(_starts_limit(member))
    with transaction.atomic():
        attempt = Attempt.objects.create(
            member=member,
            kind=AttemptKind.PRACTICE,
            scoring=False,
            question_count=len(questions),
        )
        _issue(attempt, questions)
    return attempt
