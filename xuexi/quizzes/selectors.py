"""Reads about quizzes, scoped to the asking user: the operators' bank (the console) and the
members' side (the quiz home, attempts as the member sees them, the wrong-answer book and
accuracy by category)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.models import Item
from xuexi.core.errors import Conflict, NotFound
from xuexi.core.text import enumeration
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.points.selectors import RuleProgress, progress_today
from xuexi.quizzes import grading
from xuexi.quizzes.models import (
    Attempt,
    AttemptKind,
    AttemptQuestion,
    AttemptState,
    Category,
    Paper,
    PaperQuestion,
    Question,
    QuestionStatus,
    QuestionType,
    QuestionVersion,
    WrongAnswer,
)
from xuexi.quizzes.services import RULES, issued, question_deadline

QUIZ_RULE_CODES = frozenset(RULES.values())  # the points rules that quizzes pay through

# --- the bank (console) ------------------------------------------------------------------------
# Operators' reads: callers have passed ``xuexi.quizzes.access.require_bank_operator``.

CONSOLE_SEARCH_LIMIT = 50  # characters of a stem search


@dataclass(frozen=True)
class BankFilters:
    """题库's search and filters, as read from the query string (bad values are dropped)."""

    q: str = ""
    category: int | None = None
    type: str = ""
    status: str = ""
    difficulty: int | None = None

    @property
    def active(self) -> bool:
        return any((self.q, self.category, self.type, self.status, self.difficulty))


def bank_questions(filters: BankFilters) -> QuerySet[Question]:
    """The bank as the console lists it, newest first, with the category and the current
    version joined: one query for a page, whatever its size."""
    questions = Question.objects.select_related("category", "current")
    if filters.q:
        questions = questions.filter(current__stem__icontains=filters.q)
    if filters.category:
        questions = questions.filter(category_id=filters.category)
    if filters.type:
        questions = questions.filter(type=filters.type)
    if filters.status:
        questions = questions.filter(status=filters.status)
    if filters.difficulty:
        questions = questions.filter(difficulty=filters.difficulty)
    return questions.order_by("-id")


def bank_categories() -> QuerySet[Category]:
    """Every category with its number of questions in each status (one query)."""
    return Category.objects.annotate(
        question_count=Count("questions"),
        active_count=Count("questions", filter=Q(questions__status=QuestionStatus.ACTIVE)),
        draft_count=Count("questions", filter=Q(questions__status=QuestionStatus.DRAFT)),
        retired_count=Count("questions", filter=Q(questions__status=QuestionStatus.RETIRED)),
    ).order_by("position", "id")


def question_versions(question: Question) -> QuerySet[QuestionVersion]:
    """A question's versions, the newest first."""
    return QuestionVersion.objects.filter(question=question).order_by("-number")


def question_papers(question: Question) -> QuerySet[Paper]:
    """The weekly sets and special papers that use ``question``."""
    return Paper.objects.filter(slots__question=question).order_by("-opens_at")


def bank_papers(kind: str) -> QuerySet[Paper]:
    """The papers of ``kind``, the latest opening first, each with its number of questions
    and whether a member has started it (an EXISTS on the attempts' paper index: a weekly set
    may have millions of attempts, which are never counted here)."""
    return (
        Paper.objects.filter(kind=kind)
        .annotate(
            question_count=Count("slots"),
            started=Exists(Attempt.objects.filter(paper=OuterRef("pk"))),
        )
        .order_by("-opens_at", "-id")
    )


def paper_slots(paper: Paper) -> list[PaperQuestion]:
    """A paper's questions in order, with what they ask now."""
    return list(
        PaperQuestion.objects.filter(paper=paper)
        .select_related("question", "question__category", "question__current")
        .order_by("position")
    )


def bank_questions_for_paper(
    *,
    q: str = "",
    category: int | None = None,
    question_type: str = "",
    exclude: list[int] | tuple[int, ...] = (),
    limit: int = 20,
) -> list[Question]:
    """Active questions a paper may take, for the picker: matching the search, not already
    chosen, the newest first."""
    questions = Question.objects.filter(
        status=QuestionStatus.ACTIVE, current__isnull=False
    ).select_related("category", "current")
    if q:
        questions = questions.filter(current__stem__icontains=q)
    if category:
        questions = questions.filter(category_id=category)
    if question_type:
        questions = questions.filter(type=question_type)
    if exclude:
        questions = questions.exclude(pk__in=list(exclude))
    return list(questions.order_by("-id")[:limit])


def bank_questions_drawn(
    *,
    count: int,
    category: int | None = None,
    question_type: str = "",
    exclude: list[int] | tuple[int, ...] = (),
) -> list[Question]:
    """``count`` active questions drawn at random (a window of ``draw_key`` from a random
    start, wrapping around, as the daily quiz draws: no ORDER BY random() over the bank)."""
    questions = Question.objects.filter(status=QuestionStatus.ACTIVE, current__isnull=False)
    if category:
        questions = questions.filter(category_id=category)
    if question_type:
        questions = questions.filter(type=question_type)
    if exclude:
        questions = questions.exclude(pk__in=list(exclude))
    start = random.random()  # noqa: S311 - a draw, not a secret
    drawn = list(questions.filter(draw_key__gte=start).order_by("draw_key")[:count])
    if len(drawn) < count:
        drawn += questions.filter(draw_key__lt=start).order_by("draw_key")[: count - len(drawn)]
    return drawn


def bank_questions_by_ids(ids: list[int]) -> list[Question]:
    """The questions with ``ids``, in that order (unknown ids left out)."""
    found = Question.objects.select_related("category", "current").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


# --- members -----------------------------------------------------------------------------------

# Kinds whose questions offer the source passage as a hint (每日答题 and the book's practice):
# the weekly and special papers are tests and the challenge is a contest.
HINT_KINDS = frozenset({AttemptKind.DAILY, AttemptKind.PRACTICE})
HOME_WEEKLY_SETS = 4  # the quiz home lists the latest few weekly sets; the rest on their page


def attempt_get(*, member: User, attempt_id: int) -> Attempt:
    """The member's own attempt; anyone else's answers ``NotFound`` like a missing one."""
    attempt = Attempt.objects.select_related("paper").filter(pk=attempt_id, member=member).first()
    if attempt is None:
        raise NotFound(_("找不到该答题记录。"))
    return attempt


def answer_parts(type_: str, options: list[dict[str, Any]], answer: Any) -> list[str]:
    """An answer as people read it, one part a chosen option or a blank: ``B. 2022``,
    ``正确``, or a blank's accepted variants (``美丽 / 美丽的``)."""
    if not answer:
        return []
    if type_ == QuestionType.FILL:
        return [" / ".join(part) if isinstance(part, list) else str(part) for part in answer]
    texts = {
        str(option["key"]): str(option["text"])
        for option in (
            grading.true_false_options() if type_ == QuestionType.TRUE_FALSE else options
        )
    }
    if type_ == QuestionType.TRUE_FALSE:
        return [texts.get(key, key) for key in answer]
    return [f"{key}. {texts[key]}" if key in texts else str(key) for key in answer]


def part_separator(type_: str) -> str:
    """Between the parts of an answer: blanks by ｜, options as the language lists them."""
    return " ｜ " if type_ == QuestionType.FILL else enumeration(["", ""])


def answer_text(type_: str, options: list[dict[str, Any]], answer: Any) -> str:
    """``answer_parts`` in one line: ``A. 创新、B. 协调``, ``乡村 ｜ 美丽 / 美丽的``."""
    return part_separator(type_).join(answer_parts(type_, options, answer))


class _Answers:
    """What a question shows of its answers (``type``, ``options``, ``given`` and
    ``correct_answer`` come from the dataclass it is mixed into)."""

    type: str
    options: list[dict[str, Any]]
    given: list[str] | None
    correct_answer: Any

    @property
    def separator(self) -> str:
        return part_separator(self.type)

    @property
    def correct_parts(self) -> list[str]:
        return answer_parts(self.type, self.options, self.correct_answer)

    @property
    def given_parts(self) -> list[str]:
        return answer_parts(self.type, self.options, self.given)

    @property
    def correct_text(self) -> str:
        return answer_text(self.type, self.options, self.correct_answer)

    @property
    def given_text(self) -> str:
        return answer_text(self.type, self.options, self.given)


@dataclass(frozen=True)
class QuestionView(_Answers):
    """A question of an attempt as its member may see it now. ``correct_answer``,
    ``explanation`` and what he answered are there only once the question is answered or the
    attempt is over (``revealed``); the hint is never here (``attempt_hint``)."""

    id: int
    position: int
    type: str
    type_label: str
    stem: str
    options: list[dict[str, Any]]
    blanks: int
    category: str
    issued_at: dt.datetime | None
    deadline: dt.datetime | None  # when the answer is due (challenge: this question's timer)
    answered: bool
    has_hint: bool
    revealed: bool
    given: list[str] | None = None
    correct: bool | None = None
    late: bool = False
    correct_answer: Any = None
    explanation: str | None = None

    @property
    def blank_values(self) -> list[str]:
        """Fill-in: one value per blank — what was answered, else empty."""
        given = self.given or []
        return [given[n] if n < len(given) else "" for n in range(self.blanks)]

    @property
    def correct_keys(self) -> list[str]:
        """The right option keys (choice types) once revealed, for marking the options."""
        if not self.revealed or self.type == QuestionType.FILL:
            return []
        return [str(key) for key in self.correct_answer or []]


@dataclass(frozen=True)
class AttemptView:
    """An attempt as its member sees it: the questions issued so far and where he stands."""

    attempt: Attempt
    title: str
    questions: list[QuestionView]
    hints: bool  # questions of this kind offer a hint

    @property
    def answered_count(self) -> int:
        return sum(1 for question in self.questions if question.answered)

    @property
    def is_open(self) -> bool:
        return self.attempt.state == AttemptState.OPEN

    @property
    def current(self) -> QuestionView | None:
        """The question to answer now: the first one not answered (None when all are)."""
        if not self.is_open or self.round_over or self.expired:
            return None
        return next((q for q in self.questions if not q.answered), None)

    @property
    def is_challenge(self) -> bool:
        return self.attempt.kind == AttemptKind.CHALLENGE

    @property
    def round_over(self) -> bool:
        """Challenge: the round can go no further (wrong with the revive spent, or the end)."""
        return self.is_challenge and self.attempt.ended_by_wrong

    @property
    def can_revive(self) -> bool:
        """Challenge: the last answer was wrong and the round's one revive is still there."""
        last = self.questions[-1] if self.questions else None
        return (
            self.is_challenge
            and self.is_open
            and not self.attempt.revive_used
            and not self.attempt.ended_by_wrong
            and last is not None
            and last.answered
            and last.correct is False
        )

    @property
    def expired(self) -> bool:
        """The attempt's own time limit has run out (answers now are late, hence wrong)."""
        deadline = self.attempt.deadline
        return self.is_open and deadline is not None and now() > deadline

    @property
    def total(self) -> int:
        """Questions in the set; a challenge round counts those issued so far."""
        return self.attempt.question_count


def attempt_title(attempt: Attempt) -> str:
    if attempt.paper is not None:
        return attempt.paper.title
    return str(AttemptKind(attempt.kind).label)


def attempt_view(attempt: Attempt) -> AttemptView:
    """Every question issued in ``attempt`` as the member may see it (one query)."""
    finished = attempt.state == AttemptState.FINISHED
    rows = AttemptQuestion.objects.filter(attempt=attempt).select_related(
        "version", "question__category"
    )
    hints = attempt.kind in HINT_KINDS
    questions = []
    for row in rows:
        shown = issued(row)
        revealed = shown.answered or finished
        questions.append(
            QuestionView(
                id=shown.id,
                position=shown.position,
                type=shown.type,
                type_label=str(QuestionType(shown.type).label),
                stem=shown.stem,
                options=shown.options,
                blanks=shown.blanks,
                category=row.question.category.name,
                issued_at=shown.issued_at,
                deadline=question_deadline(attempt, shown.issued_at),
                answered=shown.answered,
                has_hint=hints and bool(shown.hint or shown.hint_item_id),
                revealed=revealed,
                given=list(row.answer) if shown.answered and row.answer is not None else None,
                correct=row.correct if shown.answered else None,
                late=row.late,
                correct_answer=row.version.answer if revealed else None,
                explanation=row.version.explanation if revealed else None,
            )
        )
    return AttemptView(
        attempt=attempt, title=attempt_title(attempt), questions=questions, hints=hints
    )


@dataclass(frozen=True)
class Hint:
    """The hint of a question (出题依据): its source passage and the published item it comes
    from, if any."""

    text: str
    item: Item | None


def attempt_hint(*, member: User, attempt_id: int, question_id: int) -> Hint:
    """The hint of a question issued in the member's own attempt of a kind that offers hints
    (``HINT_KINDS``): ``NotFound`` for anyone else's attempt or a question not issued in it,
    ``Conflict`` (``hint_unavailable``) for a paper or a challenge."""
    attempt = attempt_get(member=member, attempt_id=attempt_id)
    if attempt.kind not in HINT_KINDS:
        raise Conflict(_("本类答题不提供提示。"), code="hint_unavailable")
    row = (
        AttemptQuestion.objects.select_related("version")
        .filter(attempt=attempt, pk=question_id, issued_at__isnull=False)
        .first()
    )
    if row is None:
        raise NotFound(_("本次答题中没有这道题。"))
    item = None
    if row.version.hint_item_id is not None:
        item = Item.objects.published().filter(pk=row.version.hint_item_id).first()
    return Hint(text=row.version.hint, item=item)


# --- members: the quiz home ---


@dataclass(frozen=True)
class PaperRow:
    """A weekly set or special paper as a member's list shows it, with where he stands."""

    paper: Paper
    question_count: int
    status: str  # "new" (never started), "open" (an attempt runs), "done" (finished once)
    score: int | None  # the scoring attempt's score, once finished
    open_attempt_id: int | None

    @property
    def is_closed(self) -> bool:
        return self.paper.closes_at is not None and self.paper.closes_at <= now()


def papers_visible(kind: str) -> QuerySet[Paper]:
    """Published papers of ``kind`` (weekly or special) that have opened, closed ones
    included (their results stay readable), with their question counts."""
    return Paper.objects.filter(kind=kind, is_published=True, opens_at__lte=now()).annotate(
        slot_count=Count("slots")
    )


def paper_rows(member: User, papers: list[Paper]) -> list[PaperRow]:
    """``papers`` (from ``papers_visible``) with the member's status in each: one query."""
    moment = now()
    attempts: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(
        member=member, paper_id__in=[paper.pk for paper in papers]
    ).order_by("started_at"):
        attempts.setdefault(attempt.paper_id or 0, []).append(attempt)
    rows = []
    for paper in papers:
        mine = attempts.get(paper.pk, [])
        done = [a for a in mine if a.state == AttemptState.FINISHED]
        running = [
            a
            for a in mine
            if a.state == AttemptState.OPEN and (a.deadline is None or a.deadline > moment)
        ]
        scored = next((a for a in done if a.scoring), None)
        rows.append(
            PaperRow(
                paper=paper,
                question_count=getattr(paper, "slot_count", 0),
                status="open" if running else "done" if done else "new",
                score=scored.score if scored is not None else None,
                open_attempt_id=running[-1].pk if running else None,
            )
        )
    return rows


def quiz_rules_today(member: User, day: dt.date) -> dict[str, RuleProgress]:
    """Today's progress of the quiz rules of the day's rule set, by rule code (empty when no
    rule set is in force): what the quiz home shows on each card."""
    progress = progress_today(member, day)
    if progress is None:
        return {}
    return {rule.code: rule for rule in progress.rules if rule.code in QUIZ_RULE_CODES}


def open_attempts_today(member: User) -> dict[str, Attempt]:
    """The member's latest open daily quiz and challenge round begun today, by kind, to resume
    from the quiz home."""
    today = business_day()
    since = dt.datetime.combine(today, dt.time.min, tzinfo=BUSINESS_TZ)
    found: dict[str, Attempt] = {}
    for attempt in Attempt.objects.filter(
        member=member,
        kind__in=(AttemptKind.DAILY, AttemptKind.CHALLENGE),
        state=AttemptState.OPEN,
        started_at__gte=since,
    ).order_by("-started_at"):
        found.setdefault(attempt.kind, attempt)
    return found


@dataclass(frozen=True)
class Accuracy:
    """Answered and right in one category (or over all, ``category_id`` None)."""

    category_id: int | None
    name: str
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        return round(self.correct * 100 / self.answered) if self.answered else 0


def accuracy_by_category(member: User) -> tuple[Accuracy, list[Accuracy]]:
    """The member's accuracy over all and by category, in the bank's category order, from
    every question he answered in a quiz (practice sets from the wrong-answer book are left
    out: they ask again what he already missed). One grouped query."""
    rows = (
        AttemptQuestion.objects.filter(member=member, answered_at__isnull=False)
        .exclude(attempt__kind=AttemptKind.PRACTICE)
        .values("question__category_id", "question__category__name")
        .annotate(answered=Count("id"), correct=Count("id", filter=Q(correct=True)))
        .order_by("question__category__position", "question__category_id")
    )
    categories = [
        Accuracy(
            category_id=row["question__category_id"],
            name=row["question__category__name"],
            answered=row["answered"],
            correct=row["correct"],
        )
        for row in rows
    ]
    total = Accuracy(
        category_id=None,
        name=_("全部"),
        answered=sum(c.answered for c in categories),
        correct=sum(c.correct for c in categories),
    )
    return total, categories


# --- members: the wrong-answer book (错题本) ---


def wrong_answers_of(
    member: User, *, category_id: int | None = None, mastered: bool = False
) -> QuerySet[WrongAnswer]:
    """The member's wrong-answer book: questions still to review (or, with ``mastered``, those
    answered right since in practice), of active questions only — a retired question is no
    longer asked, so it is not reviewed either."""
    rows = WrongAnswer.objects.filter(
        member=member,
        mastered_at__isnull=not mastered,
        question__status=QuestionStatus.ACTIVE,
        question__current__isnull=False,
    ).select_related("question__current", "question__category")
    if category_id is not None:
        rows = rows.filter(question__category_id=category_id)
    return rows


@dataclass(frozen=True)
class BookCount:
    category_id: int
    name: str
    count: int


def wrong_answer_counts(member: User) -> list[BookCount]:
    """Questions to review by category (the book's tabs), in the bank's category order."""
    rows = (
        wrong_answers_of(member)
        .values("question__category_id", "question__category__name")
        .annotate(count=Count("id"))
        .order_by("question__category__position", "question__category_id")
    )
    return [
        BookCount(row["question__category_id"], row["question__category__name"], row["count"])
        for row in rows
    ]


@dataclass(frozen=True)
class BookEntry(_Answers):
    """A question of the wrong-answer book with its answer, explanation and the member's last
    wrong answer (``last_given``; empty when the timer ran out with nothing chosen)."""

    row: WrongAnswer
    type: str
    type_label: str
    stem: str
    options: list[dict[str, Any]]
    correct_answer: Any
    explanation: str
    category: str
    last_given: list[str] | None

    @property
    def given(self) -> list[str] | None:  # type: ignore[override]  # read-only here
        return self.last_given

    @property
    def correct_keys(self) -> list[str]:
        return [] if self.type == QuestionType.FILL else [str(k) for k in self.correct_answer]


def book_entries(member: User, rows: list[WrongAnswer]) -> list[BookEntry]:
    """``rows`` of the book, each in its question's current version, with the member's last
    wrong answer to it (one query for the page)."""
    last: dict[int, list[str]] = {}
    for question_id, answer in (
        AttemptQuestion.objects.filter(
            member=member, question_id__in=[row.question_id for row in rows], correct=False
        )
        .order_by("question_id", "-answered_at")
        .values_list("question_id", "answer")
    ):
        last.setdefault(question_id, list(answer or []))
    entries = []
    for row in rows:
        question = row.question
        version = question.current
        if version is None:  # excluded by wrong_answers_of; kept for the type checker
            continue
        options = (
            grading.true_false_options()
            if question.type == QuestionType.TRUE_FALSE
            else [{"key": o["key"], "text": o["text"]} for o in version.options]
        )
        entries.append(
            BookEntry(
                row=row,
                type=question.type,
                type_label=str(QuestionType(question.type).label),
                stem=version.stem,
                options=options,
                correct_answer=version.answer,
                explanation=version.explanation,
                category=question.category.name,
                last_given=last.get(question.pk) or None,
            )
        )
    return entries
