"""Quiz routes of API.md (C5) for members: start or resume an attempt, answer, let a challenge
question's timer run out, revive, finish, read an attempt back, a question's hint; the weekly
sets and special papers open to the member; the wrong-answer book and accuracy by category.

Thin: the rules live in ``xuexi/quizzes/services.py`` (every write, under a row lock of the
attempt) and ``xuexi/quizzes/selectors.py`` (what a member may see of an attempt). The one
promise these routes keep on their own: **no answer, explanation or hint leaves the server
before the member has answered that question** — a question carries ``correct_answer``,
``explanation`` and what was answered only once it is answered (or the attempt is finished),
and the hint has its own route. Another member's attempt answers 404 like a missing one; a
refusal changes nothing. Time comes from the server's clock only: ``server_time`` lets a client
correct its countdowns, nothing a client sends is a timestamp.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core import ratelimit
from xuexi.core.errors import ValidationFailed
from xuexi.core.pagination import Page, paginate
from xuexi.core.time import now
from xuexi.quizzes import selectors, services
from xuexi.quizzes.models import Attempt, AttemptKind, AttemptState, PaperKind

router = Router(tags=["答题"])

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is invalid input, not a database error
AttemptId = Annotated[int, Path(ge=1, le=MAX_ID, description="答题记录 id")]
QuestionId = Annotated[int, Path(ge=1, le=MAX_ID, description="本次答题中的题目 id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MAX_ANSWER_PARTS = 20  # options chosen or blanks filled: more is never a real answer
MAX_ANSWER_PART = 200  # characters; grading refuses a blank over 100 with its own message

# Answers, timeouts and hints, per member and minute (SECURITY S24); starts have their own
# hourly limit in the service (QUIZ_STARTS_PER_HOUR). Past either: 429 with Retry-After.
ACTIONS_PER_MINUTE = 120


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL: refuse it as bad input instead of failing on write.
    if "\x00" in value:
        raise ValueError("NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul), Field(max_length=MAX_ANSWER_PART)]


def _member(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


def _throttle(member: User) -> None:
    ratelimit.hit(
        ratelimit.Limit(
            key=f"quiz-action:{member.pk}",
            count=ACTIONS_PER_MINUTE,
            seconds=60,
            message=_("答题操作过于频繁，请稍后再试。"),
        )
    )


# --- shapes -------------------------------------------------------------------------------------


class StartIn(Schema):
    kind: Literal["daily", "weekly", "special", "challenge", "practice"] = Field(
        description="daily 每日答题、weekly 每周答题、special 专项答题、challenge 挑战答题、"
        "practice 错题练习（扩展）"
    )
    quiz_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="每周答题、专项答题的试卷 id；不填为最新开放的一套。其他类型不可填",
    )
    category_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="错题练习：只练这一分类的错题（扩展）"
    )


class OptionOut(Schema):
    key: str
    text: str


class QuestionOut(Schema):
    id: int = Field(description="本次答题中的题目 id（作答时的 question_id）")
    position: int
    type: str = Field(description="single、multiple、true_false 或 fill")
    type_label: str
    stem: str
    options: list[OptionOut] = Field(description="选择题、判断题的选项；填空题为空")
    blanks: int = Field(description="填空题的空数；其他题型为 0")
    category: str
    issued_at: dt.datetime | None
    deadline: dt.datetime | None = Field(
        None, description="本题须在此时刻前作答（挑战答题按题计时；限时试卷为整卷截止时间）"
    )
    answered: bool
    has_hint: bool = Field(description="可通过 hint 路由查看出题依据（每日答题、错题练习）")
    # Present only once the question is answered, or the attempt is finished.
    given: list[str] | None = Field(None, description="作答后：提交的答案（超时为空列表）")
    correct: bool | None = Field(None, description="作答后：是否正确")
    late: bool | None = Field(None, description="作答后：是否超时（超时按答错计）")
    correct_answer: Any = Field(
        None, description="作答后：正确答案（选项字母；填空题每空一组可接受的答案）"
    )
    explanation: str | None = Field(None, description="作答后：解析")


class FinishOut(Schema):
    score: int = Field(description="试卷为百分制得分；挑战答题为答对题数")
    correct_count: int
    points_awarded: int
    question_count: int
    scoring: bool = Field(description="false：本套题此前已计分，本次为练习，不计积分")


class AttemptOut(Schema):
    id: int
    kind: str
    title: str
    quiz_id: int | None = Field(None, description="每周答题、专项答题的试卷 id")
    state: str = Field(description="open 答题中，finished 已交卷")
    scoring: bool
    resumed: bool = Field(description="true：继续此前未完成的同一套试卷（此时状态码为 200）")
    started_at: dt.datetime
    deadline: dt.datetime | None = Field(None, description="整卷截止时间（专项答题）")
    question_seconds: int | None = Field(None, description="挑战答题每题的秒数")
    server_time: dt.datetime = Field(description="服务器当前时间，用于校正倒计时")
    question_count: int = Field(description="题目数；挑战答题为已出的题数")
    answered_count: int
    correct_count: int
    can_revive: bool = Field(description="挑战答题：刚答错且本轮的一次复活机会还在")
    round_over: bool = Field(description="挑战答题：本轮已结束，只能交卷")
    questions: list[QuestionOut]
    result: FinishOut | None = Field(None, description="交卷后的成绩")


class AnswerIn(Schema):
    question_id: int = Field(ge=1, le=MAX_ID)
    answer: list[Text] = Field(
        max_length=MAX_ANSWER_PARTS,
        description='选择题为所选选项字母，如 ["B"]、["A", "C"]；判断题 ["T"] 或 ["F"]；'
        "填空题每空一个字符串",
    )


class TimeoutIn(Schema):
    question_id: int = Field(ge=1, le=MAX_ID)


class AnswerOut(Schema):
    question_id: int
    correct: bool
    correct_answer: Any
    explanation: str
    late: bool = Field(description="超时作答（按答错计）")
    answered_count: int
    correct_count: int
    remaining: int = Field(description="尚未作答的题数（挑战答题为 0 或下一题）")
    next_question: QuestionOut | None = Field(None, description="挑战答题：答对后的下一题")
    can_revive: bool = Field(description="挑战答题：答错了，可以复活一次")
    round_over: bool = Field(description="挑战答题：本轮结束，请交卷")


class ReviveOut(Schema):
    next_question: QuestionOut


class HintItemOut(Schema):
    id: int
    title: str
    url: str = Field(description="出处文章的阅读页地址（绝对地址）")


class HintOut(Schema):
    question_id: int
    text: str = Field(description="出题依据（原文段落）；可能为空")
    item: HintItemOut | None = Field(None, description="出处文章；没有或已撤回为 null")


class PaperOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    opens_at: dt.datetime
    closes_at: dt.datetime | None
    time_limit: int = Field(description="限时（秒）；0 为不限时")
    question_count: int
    is_closed: bool
    status: Literal["new", "open", "done"] = Field(
        description="new 未作答，open 有未交卷的作答，done 已完成"
    )
    score: int | None = Field(None, description="计分那次作答的得分")
    open_attempt_id: int | None = Field(None, description="未交卷的作答 id，可继续")


class PaperPage(Schema):
    items: list[PaperOut]
    next_cursor: str | None


class CategoryRef(Schema):
    id: int
    name: str


class WrongAnswerOut(Schema):
    id: int
    question_id: int
    category: CategoryRef
    type: str
    type_label: str
    stem: str
    options: list[OptionOut]
    correct_answer: Any
    explanation: str
    times_wrong: int
    last_wrong_at: dt.datetime
    mastered_at: dt.datetime | None = Field(None, description="在错题练习中答对的时间")
    last_answer: list[str] | None = Field(None, description="最近一次答错时的答案")


class WrongAnswerPage(Schema):
    items: list[WrongAnswerOut]
    next_cursor: str | None


class AccuracyOut(Schema):
    category_id: int | None
    name: str
    answered: int
    correct: int
    accuracy: float = Field(description="正确率，0–1")


class StatsOut(Schema):
    answered: int
    correct: int
    accuracy: float
    categories: list[AccuracyOut]
    wrong_to_review: int = Field(description="错题本中待复习的题数")


# --- building answers ---------------------------------------------------------------------------


def question_out(question: selectors.QuestionView) -> dict[str, Any]:
    """A question as the member may see it: the answer keys only once ``revealed``."""
    out: dict[str, Any] = {
        "id": question.id,
        "position": question.position,
        "type": question.type,
        "type_label": question.type_label,
        "stem": question.stem,
        "options": question.options,
        "blanks": question.blanks,
        "category": question.category,
        "issued_at": question.issued_at,
        "deadline": question.deadline,
        "answered": question.answered,
        "has_hint": question.has_hint,
    }
    if question.revealed:
        out.update(
            given=question.given,
            correct=question.correct,
            late=question.late if question.answered else None,
            correct_answer=question.correct_answer,
            explanation=question.explanation,
        )
    return out


def finish_out(result: services.FinishResult) -> dict[str, Any]:
    return {
        "score": result.score,
        "correct_count": result.correct_count,
        "points_awarded": result.points_awarded,
        "question_count": result.question_count,
        "scoring": result.scoring,
    }


def attempt_out(attempt: Attempt, *, resumed: bool = False) -> dict[str, Any]:
    view = selectors.attempt_view(attempt)
    result = None
    if attempt.state == AttemptState.FINISHED:
        result = {
            "score": attempt.score,
            "correct_count": attempt.correct_count,
            "points_awarded": attempt.points_awarded,
            "question_count": attempt.question_count,
            "scoring": attempt.scoring,
        }
    return {
        "id": attempt.pk,
        "kind": attempt.kind,
        "title": view.title,
        "quiz_id": attempt.paper_id,
        "state": attempt.state,
        "scoring": attempt.scoring,
        "resumed": resumed,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "question_seconds": services.challenge_seconds() if view.is_challenge else None,
        "server_time": now(),
        "question_count": attempt.question_count,
        "answered_count": view.answered_count,
        "correct_count": attempt.correct_count,
        "can_revive": view.can_revive,
        "round_over": view.round_over,
        "questions": [question_out(question) for question in view.questions],
        "result": result,
    }


def _answer_out(
    member: User, attempt_id: int, question_id: int, result: services.AnswerResult
) -> dict[str, Any]:
    view = selectors.attempt_view(selectors.attempt_get(member=member, attempt_id=attempt_id))
    following = None
    if result.next_question is not None:
        following = next(q for q in view.questions if q.id == result.next_question.id)
    return {
        "question_id": question_id,
        "correct": result.correct,
        "correct_answer": result.correct_answer,
        "explanation": result.explanation,
        "late": result.late,
        "answered_count": view.answered_count,
        "correct_count": view.attempt.correct_count,
        "remaining": sum(1 for q in view.questions if not q.answered),
        "next_question": question_out(following) if following is not None else None,
        "can_revive": result.can_revive,
        # A right answer with no next question: the bank has nothing left to ask.
        "round_over": view.round_over,
    }


def _paged(rows: QuerySet[Any], cursor: str | None, limit: int | None, field: str) -> Page[Model]:
    try:
        return paginate(rows, cursor=cursor, limit=limit, field=field)
    except (DjangoValidationError, TypeError, ValueError, OverflowError) as exc:
        # A cursor that decodes but does not hold a time and an id (only a forged one does).
        raise ValidationFailed({"cursor": _("分页游标无效。")}) from exc


# --- attempts -----------------------------------------------------------------------------------


@router.post(
    "/quiz-attempts",
    response={200: AttemptOut, 201: AttemptOut, **ERRORS},
    exclude_none=True,
)
def quiz_attempt_start(request: HttpRequest, payload: StartIn) -> Status[dict[str, Any]]:
    """Start a quiz: 201 with its questions — never their answers, explanations or hints. A
    weekly set or special paper already begun and still in its time is resumed (200, the same
    attempt). ``practice`` (extension) is a set from the wrong-answer book. 404 for a paper
    that is not open, 409 ``paper_closed`` / ``bank_empty`` / ``book_empty``, 422 for a
    ``quiz_id`` or ``category_id`` the kind does not take, 429 past the hourly starts."""
    member = _member(request)
    kind = payload.kind
    if payload.quiz_id is not None and kind not in (PaperKind.WEEKLY, PaperKind.SPECIAL):
        raise ValidationFailed({"quiz_id": _("只有每周答题和专项答题可以指定试卷。")})
    if payload.category_id is not None and kind != AttemptKind.PRACTICE:
        raise ValidationFailed({"category_id": _("只有错题练习可以指定分类。")})
    if kind == AttemptKind.PRACTICE:
        attempt = services.practice_start(member=member, category_id=payload.category_id)
        return Status(201, attempt_out(attempt))
    running = set(
        Attempt.objects.filter(member=member, kind=kind, state=AttemptState.OPEN).values_list(
            "pk", flat=True
        )
    )
    attempt = services.attempt_start(member=member, kind=kind, paper_id=payload.quiz_id)
    resumed = attempt.pk in running
    return Status(200 if resumed else 201, attempt_out(attempt, resumed=resumed))


@router.get("/quiz-attempts/{attempt_id}", response={200: AttemptOut, **ERRORS}, exclude_none=True)
def quiz_attempt_detail(request: HttpRequest, attempt_id: AttemptId) -> dict[str, Any]:
    """The caller's attempt as it stands (to resume a page): the questions issued so far, each
    answered one with its result; once finished, every answer and the result."""
    return attempt_out(selectors.attempt_get(member=_member(request), attempt_id=attempt_id))


@router.post(
    "/quiz-attempts/{attempt_id}/answers",
    response={200: AnswerOut, **ERRORS},
    exclude_none=True,
)
def quiz_attempt_answer(
    request: HttpRequest, attempt_id: AttemptId, payload: AnswerIn
) -> dict[str, Any]:
    """Answer one question of the attempt, graded on the server: whether it is right, the
    correct answer and the explanation; in a challenge also the next question, or the chance
    to revive, or the end of the round. After the time limit (or a challenge question's timer)
    the answer is recorded as late and wrong. 404 for a question not in this attempt or an
    attempt not the caller's, 409 ``already_answered`` / ``attempt_finished`` / ``round_over``,
    422 for an answer that does not fit the question (nothing is recorded)."""
    member = _member(request)
    _throttle(member)
    result = services.attempt_answer(
        member=member,
        attempt_id=attempt_id,
        question_id=payload.question_id,
        answer=list(payload.answer),
    )
    return _answer_out(member, attempt_id, payload.question_id, result)


@router.post(
    "/quiz-attempts/{attempt_id}/timeout",
    response={200: AnswerOut, **ERRORS},
    exclude_none=True,
)
def quiz_attempt_timeout(
    request: HttpRequest, attempt_id: AttemptId, payload: TimeoutIn
) -> dict[str, Any]:
    """Challenge (extension): the question's timer ran out with nothing answered — recorded as
    wrong, answered like a wrong answer (the correct answer, then revive or the end).
    409 ``no_question_timer`` for other kinds."""
    member = _member(request)
    _throttle(member)
    result = services.attempt_timeout(
        member=member, attempt_id=attempt_id, question_id=payload.question_id
    )
    return _answer_out(member, attempt_id, payload.question_id, result)


@router.post(
    "/quiz-attempts/{attempt_id}/revive",
    response={200: ReviveOut, **ERRORS},
    exclude_none=True,
)
def quiz_attempt_revive(request: HttpRequest, attempt_id: AttemptId) -> dict[str, Any]:
    """Challenge: right after a wrong answer, spend the round's one revive for a new question.
    409 ``not_revivable`` otherwise."""
    member = _member(request)
    _throttle(member)
    issued = services.attempt_revive(member=member, attempt_id=attempt_id)
    view = selectors.attempt_view(selectors.attempt_get(member=member, attempt_id=attempt_id))
    return {"next_question": question_out(next(q for q in view.questions if q.id == issued.id))}


@router.post(
    "/quiz-attempts/{attempt_id}/finish", response={200: FinishOut, **ERRORS}, exclude_none=True
)
def quiz_attempt_finish(request: HttpRequest, attempt_id: AttemptId) -> dict[str, Any]:
    """Hand the attempt in (unanswered questions count as wrong) and pay its points under the
    day's rules, with the attempt as the source. Asking again answers the same and pays
    nothing."""
    member = _member(request)
    return finish_out(services.attempt_finish(member=member, attempt_id=attempt_id))


@router.get(
    "/quiz-attempts/{attempt_id}/questions/{question_id}/hint",
    response={200: HintOut, **ERRORS},
    exclude_none=True,
)
def quiz_question_hint(
    request: HttpRequest, attempt_id: AttemptId, question_id: QuestionId
) -> dict[str, Any]:
    """The hint of a question issued in the caller's attempt (extension): the source passage
    and the published item it comes from. Daily quizzes and practice sets only (409
    ``hint_unavailable`` for papers and challenges); 404 for a question not in the attempt."""
    member = _member(request)
    _throttle(member)
    hint = selectors.attempt_hint(member=member, attempt_id=attempt_id, question_id=question_id)
    item = None
    if hint.item is not None:
        path = reverse("content:item", args=[hint.item.pk])
        item = {
            "id": hint.item.pk,
            "title": hint.item.title,
            "url": request.build_absolute_uri(path),
        }
    return {"question_id": question_id, "text": hint.text, "item": item}


# --- papers, the wrong-answer book, statistics --------------------------------------------------


@router.get("/quiz-papers", response={200: PaperPage, **ERRORS})
def quiz_paper_list(
    request: HttpRequest,
    kind: Literal["weekly", "special"],
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Weekly sets or special papers that have opened (extension), the latest first, each with
    the caller's status: ``new``, ``open`` (an attempt to resume: ``open_attempt_id``) or
    ``done`` (with the scoring attempt's ``score``). Closed special papers stay listed
    (``is_closed``) so that their results can be read; they can no longer be started."""
    page = _paged(selectors.papers_visible(kind), cursor, limit, "opens_at")
    rows = selectors.paper_rows(_member(request), page.items)  # type: ignore[arg-type]
    return {
        "items": [
            {
                "id": row.paper.pk,
                "kind": row.paper.kind,
                "title": row.paper.title,
                "description": row.paper.description,
                "opens_at": row.paper.opens_at,
                "closes_at": row.paper.closes_at,
                "time_limit": row.paper.time_limit,
                "question_count": row.question_count,
                "is_closed": row.is_closed,
                "status": row.status,
                "score": row.score,
                "open_attempt_id": row.open_attempt_id,
            }
            for row in rows
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/me/wrong-answers", response={200: WrongAnswerPage, **ERRORS})
def wrong_answer_list(
    request: HttpRequest,
    category: OptionalId = None,
    mastered: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The caller's wrong-answer book (错题本), the most recently missed first: each question
    with its correct answer, explanation, how often it was missed and the last wrong answer.
    ``category`` narrows it; ``mastered=true`` lists those answered right since in practice
    (which leave the list to review)."""
    member = _member(request)
    rows = selectors.wrong_answers_of(member, category_id=category, mastered=mastered)
    page = _paged(rows, cursor, limit, "last_wrong_at")
    entries = selectors.book_entries(member, page.items)  # type: ignore[arg-type]
    return {
        "items": [
            {
                "id": entry.row.pk,
                "question_id": entry.row.question_id,
                "category": {"id": entry.row.question.category_id, "name": entry.category},
                "type": entry.type,
                "type_label": entry.type_label,
                "stem": entry.stem,
                "options": entry.options,
                "correct_answer": entry.correct_answer,
                "explanation": entry.explanation,
                "times_wrong": entry.row.times_wrong,
                "last_wrong_at": entry.row.last_wrong_at,
                "mastered_at": entry.row.mastered_at,
                "last_answer": entry.last_given,
            }
            for entry in entries
        ],
        "next_cursor": page.next_cursor,
    }


def _ratio(correct: int, answered: int) -> float:
    return round(correct / answered, 4) if answered else 0.0


@router.get("/me/quiz-stats", response={200: StatsOut, **ERRORS})
def quiz_stats(request: HttpRequest) -> dict[str, Any]:
    """The caller's accuracy over all and by category (extension), from every question
    answered in a quiz (practice sets from the wrong-answer book left out), and how many
    questions wait in the wrong-answer book."""
    member = _member(request)
    total, categories = selectors.accuracy_by_category(member)
    return {
        "answered": total.answered,
        "correct": total.correct,
        "accuracy": _ratio(total.correct, total.answered),
        "categories": [
            {
                "category_id": row.category_id,
                "name": row.name,
                "answered": row.answered,
                "correct": row.correct,
                "accuracy": _ratio(row.correct, row.answered),
            }
            for row in categories
        ],
        "wrong_to_review": sum(count.count for count in selectors.wrong_answer_counts(member)),
    }
