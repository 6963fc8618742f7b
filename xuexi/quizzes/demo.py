"""The demo's question bank (题库) and its fixed papers: one weekly set, two special papers.

The questions live as data in ``demo_bank/<category>.toml``, one file per category, written for
the demo by its question group (示范省题库组): original, factual general knowledge — theory, Party
history, law, science, history and culture, geography, safety and everyday life, ecology — not
taken from any real question bank. A file holds the category's name and order, the provenance
shared by its questions (recommender, origin, tags; a question may name its own origin) and a
``[[questions]]`` table per question in the shape ``bank.question_clean`` reads: type, stem,
options, answer (option letters; 正确/错误; one list of accepted variants per blank, the blanks
marked ____ in the stem), explanation, hint (the source passage) and difficulty.

``seed_quizzes()`` writes, in one transaction, on top of the organisations' demo:

* the categories (``bank.category_create``) and every question through ``bank.question_create``
  — the same checks as the console, active, supplied by 示范省题库组. The bank's writes are done
  as the system (``actor=None``, as ``bank.py`` provides for demo data), so seeding leaves no
  audit entry per question in the operator's name;
* through ``papers.paper_create`` and ``paper_publish``, as the demo operator (13800000000, the
  papers service takes nobody else): the weekly set (每周答题) of this week — five questions,
  one of each type, from five categories — and two special papers (专项答题) open from today:
  法治与安全 (10 questions, 10 minutes, closing in four weeks) and 生态文明 (5 questions,
  5 minutes, closing in six weeks).

Deterministic for a seed and a moment of seeding; idempotent (does nothing when the demo's
questions are already there); fast (well under a second for the 321 questions on SQLite).
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from xuexi.accounts.models import User
from xuexi.core.errors import ValidationFailed
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.organizations import demo as organizations_demo
from xuexi.organizations.models import Role
from xuexi.quizzes import bank, papers
from xuexi.quizzes.models import (
    Category,
    Paper,
    PaperKind,
    Question,
    QuestionStatus,
    QuestionType,
)

QUIZ_DEMO_SEED = 2019_01_02
DEMO_BANK_DIR = Path(__file__).resolve().parent / "demo_bank"
DEMO_SUPPLIER = "示范省题库组"
# What a file may say of one question; the rest comes from the file's head.
QUESTION_KEYS = frozenset(
    {"type", "stem", "options", "answer", "explanation", "hint", "difficulty", "tags", "origin"}
)
TYPE_NAMES: dict[str, str] = {
    QuestionType.SINGLE: "单选",
    QuestionType.MULTIPLE: "多选",
    QuestionType.TRUE_FALSE: "判断",
    QuestionType.FILL: "填空",
}


class QuizDemoError(Exception):
    """The demo bank's files are wrong, or the demo it builds on is missing."""


@dataclass(frozen=True)
class BankFile:
    """One category's file of questions, as read."""

    name: str  # the file's name, for messages
    category: str
    position: int
    recommender: str
    origin: str
    tags: str
    questions: tuple[dict[str, Any], ...]


def bank_files(folder: Path = DEMO_BANK_DIR) -> list[BankFile]:
    """Every ``*.toml`` file of ``folder``, in the categories' order; ``QuizDemoError`` for a
    file that does not parse or holds keys the loader does not know."""
    files = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise QuizDemoError(f"{path.name}：{error}") from None
        questions = tuple(data.get("questions") or ())
        for number, question in enumerate(questions, start=1):
            unknown = set(question) - QUESTION_KEYS
            if unknown:
                raise QuizDemoError(f"{path.name} 第 {number} 题：未知的字段 {sorted(unknown)}")
        files.append(
            BankFile(
                name=path.name,
                category=str(data["category"]),
                position=int(data["position"]),
                recommender=str(data.get("recommender", "")),
                origin=str(data.get("origin", "")),
                tags=str(data.get("tags", "")),
                questions=questions,
            )
        )
    return sorted(files, key=lambda file: (file.position, file.name))


def question_data(file: BankFile, question: dict[str, Any]) -> dict[str, Any]:
    """One question of ``file`` as ``bank.question_clean`` takes it."""
    return {
        **question,
        "category": file.category,
        "tags": question.get("tags", file.tags),
        "supplier": DEMO_SUPPLIER,
        "recommender": file.recommender,
        "origin": question.get("origin", file.origin),
    }


# --- the papers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperPlan:
    """A demo paper: its questions drawn as (category, type) slots from the demo bank."""

    title: str
    description: str
    slots: tuple[tuple[str, str], ...]
    minutes: int = 0  # special papers: the time limit
    open_weeks: int = 0  # special papers: closes this many weeks after opening


S, M, T, F = (
    QuestionType.SINGLE,
    QuestionType.MULTIPLE,
    QuestionType.TRUE_FALSE,
    QuestionType.FILL,
)

WEEKLY_PLAN = PaperPlan(
    title="",  # named after its week, see ``_weekly_title``
    description="本周五道题，涵盖理论、党史、科学、文化和地理，每周一更新。",
    slots=(("理论学习", S), ("党史", M), ("科学常识", T), ("历史文化", F), ("地理", S)),
)
SPECIAL_PLANS: tuple[PaperPlan, ...] = (
    PaperPlan(
        title="专项答题：法治与安全",
        description="宪法、民法典等法律常识和日常安全知识，共十道题，限时十分钟。",
        slots=(
            *(("法律法规", type_) for type_ in (S, S, S, M, T, F)),
            *(("安全与生活", type_) for type_ in (S, S, M, T)),
        ),
        minutes=10,
        open_weeks=4,
    ),
    PaperPlan(
        title="专项答题：生态文明",
        description="垃圾分类、节能减排和生态保护小测，共五道题，限时五分钟。",
        slots=tuple(("生态环保", type_) for type_ in (S, S, M, T, F)),
        minutes=5,
        open_weeks=6,
    ),
)


def _weekly_title(at: dt.datetime) -> str:
    monday = papers.week_start(at)
    sunday = monday + dt.timedelta(days=6)
    return f"每周答题（{monday.month}月{monday.day}日—{sunday.month}月{sunday.day}日）"


def _draw(rng: random.Random, plan: PaperPlan, pool: list[Question], taken: set[int]) -> list[int]:
    """Question ids for ``plan``'s slots, each a question of the slot's category and type not
    yet used by another demo paper."""
    chosen = []
    for category, type_ in plan.slots:
        candidates = [
            q.pk
            for q in pool
            if q.category.name == category and q.type == type_ and q.pk not in taken
        ]
        if not candidates:
            raise QuizDemoError(f"演示题库中没有足够的“{category}”{TYPE_NAMES[type_]}题。")
        pick = rng.choice(candidates)
        taken.add(pick)
        chosen.append(pick)
    return chosen


def demo_operator() -> User:
    """The demo's platform operator, who publishes the papers."""
    phone = next(a.phone for a in organizations_demo.DEMO_ACCOUNTS if a.role == Role.OPERATOR)
    operator = User.objects.filter(phone=phone).first()
    if operator is None:
        raise QuizDemoError("找不到演示运营账号：请先装入组织架构的演示数据。")
    return operator


def create_demo_papers(
    *, operator: User, questions: list[Question], rng: random.Random, at: dt.datetime
) -> list[Paper]:
    """The weekly set of ``at``'s week (unless that week has one already) and the two special
    papers, each created and published through ``xuexi.quizzes.papers`` as ``operator``."""
    pool = sorted(questions, key=lambda q: q.pk)
    taken: set[int] = set()
    made = []
    week = papers.week_start(at)
    week_taken = Paper.objects.filter(
        kind=PaperKind.WEEKLY, opens_at__gte=week, opens_at__lt=week + dt.timedelta(days=7)
    ).exists()
    if not week_taken:
        data = papers.PaperData(
            title=_weekly_title(at),
            description=WEEKLY_PLAN.description,
            opens_at=at,
            question_ids=_draw(rng, WEEKLY_PLAN, pool, taken),
        )
        made.append(papers.paper_create(actor=operator, kind=PaperKind.WEEKLY, data=data))
    today = dt.datetime.combine(at.astimezone(BUSINESS_TZ).date(), dt.time.min, tzinfo=BUSINESS_TZ)
    for plan in SPECIAL_PLANS:
        data = papers.PaperData(
            title=plan.title,
            description=plan.description,
            opens_at=today,
            closes_at=today + dt.timedelta(weeks=plan.open_weeks),
            time_limit=plan.minutes * 60,
            question_ids=_draw(rng, plan, pool, taken),
        )
        made.append(papers.paper_create(actor=operator, kind=PaperKind.SPECIAL, data=data))
    return [papers.paper_publish(actor=operator, paper=paper) for paper in made]


# --- seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizDemoSummary:
    categories: int
    questions: int
    by_type: dict[str, int]
    weekly: int  # weekly sets published
    special: int  # special papers published

    def line(self) -> str:
        if not self.questions:
            return "答题：暂无演示题库。"
        types = "、".join(
            f"{name} {self.by_type.get(type_, 0)}" for type_, name in TYPE_NAMES.items()
        )
        return (
            f"答题：题库 {self.categories} 个分类 {self.questions} 道题（{types}），"
            f"每周答题 {self.weekly} 套，专项答题 {self.special} 套。"
        )


def quizzes_demo_exists() -> bool:
    return Question.objects.filter(supplier=DEMO_SUPPLIER).exists()


def quizzes_demo_summary() -> QuizDemoSummary:
    """Counts of the demo bank and the published papers as they stand (read-only)."""
    demo = Question.objects.filter(supplier=DEMO_SUPPLIER)
    by_type = Counter(demo.values_list("type", flat=True))
    published = Paper.objects.filter(is_published=True)
    return QuizDemoSummary(
        categories=demo.values("category").distinct().count(),
        questions=sum(by_type.values()),
        by_type=dict(by_type),
        weekly=published.filter(kind=PaperKind.WEEKLY).count(),
        special=published.filter(kind=PaperKind.SPECIAL).count(),
    )


def _bank_create(files: list[BankFile]) -> list[Question]:
    """The categories (those missing) and every question, through the bank's services."""
    categories = {c.name: c for c in Category.objects.filter(name__in=[f.category for f in files])}
    made = []
    for file in files:
        if file.category not in categories:
            categories[file.category] = bank.category_create(actor=None, name=file.category)
        category = categories[file.category]
        for number, question in enumerate(file.questions, start=1):
            data = {**question_data(file, question), "category": category}
            try:
                made.append(
                    bank.question_create(actor=None, data=data, status=QuestionStatus.ACTIVE)
                )
            except ValidationFailed as error:
                raise QuizDemoError(
                    f"{file.name} 第 {number} 题被题库拒绝：{error.details.get('fields')}"
                ) from None
    return made


@transaction.atomic
def seed_quizzes(*, seed: int = QUIZ_DEMO_SEED, at: dt.datetime | None = None) -> QuizDemoSummary:
    """Load the demo bank and publish the demo papers; all or nothing. Does nothing when the
    demo's questions exist already. Needs the organisations' demo (its operator)."""
    if quizzes_demo_exists():
        return quizzes_demo_summary()
    at = at or now()
    operator = demo_operator()
    questions = _bank_create(bank_files())
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    create_demo_papers(operator=operator, questions=questions, rng=rng, at=at)
    return quizzes_demo_summary()
