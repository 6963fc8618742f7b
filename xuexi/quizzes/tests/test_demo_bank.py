"""The demo question bank: its files parse, every question passes the bank's own checks, the
types come in the stated shares, the weekly set and the two special papers are published and
can be answered through the services, and seeding twice changes nothing.

The file checks read ``demo_bank/`` without the database. The rest seeds the organisations'
demo (for its operator) and the bank once for the module inside a transaction rolled back at
the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count

from xuexi.accounts.models import User
from xuexi.core.audit import AuditEntry
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.organizations import demo as organizations_demo
from xuexi.quizzes import demo as quizzes_demo
from xuexi.quizzes.bank import BLANK, question_clean
from xuexi.quizzes.grading import normalise
from xuexi.quizzes.models import (
    AttemptQuestion,
    AttemptState,
    Category,
    Paper,
    PaperKind,
    PaperQuestion,
    Question,
    QuestionStatus,
    QuestionType,
    QuestionVersion,
)
from xuexi.quizzes.papers import week_start
from xuexi.quizzes.services import attempt_answer, attempt_finish, attempt_start
from xuexi.quizzes.tests.factories import right_answer

pytestmark = pytest.mark.django_db

FILES = quizzes_demo.bank_files()
QUESTIONS = [(file, question) for file in FILES for question in file.questions]
# Shares of the bank by type (the brief: ~45 / 20 / 20 / 15 %), with some room either side.
SHARES = {
    QuestionType.SINGLE: (0.40, 0.50),
    QuestionType.MULTIPLE: (0.15, 0.25),
    QuestionType.TRUE_FALSE: (0.15, 0.25),
    QuestionType.FILL: (0.10, 0.20),
}
MEMBER_PHONE = "13800000005"  # the demo's ordinary member


def _id(item: tuple[quizzes_demo.BankFile, dict[str, Any]]) -> str:
    file, question = item
    return f"{file.name}:{question['stem'][:16]}"


# --- the files, without the database ---------------------------------------------------------


def test_every_file_parses_and_holds_one_category() -> None:
    names = sorted(path.name for path in quizzes_demo.DEMO_BANK_DIR.glob("*.toml"))
    assert sorted(file.name for file in FILES) == names
    assert len(FILES) >= 8
    assert len({file.category for file in FILES}) == len(FILES)
    assert len({file.position for file in FILES}) == len(FILES)
    for file in FILES:
        assert 35 <= len(file.questions) <= 50, file.name
        assert file.recommender
        assert file.origin
        assert file.tags.split(",")[0] == file.category


def test_the_bank_holds_over_300_questions_in_the_stated_shares() -> None:
    assert len(QUESTIONS) >= 320
    types = Counter(question["type"] for _file, question in QUESTIONS)
    assert set(types) == set(QuestionType.values)
    for type_, (low, high) in SHARES.items():
        assert low <= types[type_] / len(QUESTIONS) <= high, (type_, types)
    for file in FILES:  # every category mixes all four types
        assert {q["type"] for q in file.questions} == set(QuestionType.values), file.name


def test_difficulty_spreads_over_the_whole_range() -> None:
    levels = Counter(question["difficulty"] for _file, question in QUESTIONS)
    assert set(levels) == {1, 2, 3, 4, 5}
    assert levels[1] + levels[2] <= 0.7 * len(QUESTIONS)
    assert levels[4] + levels[5] >= 0.1 * len(QUESTIONS)


def test_no_two_questions_share_a_stem() -> None:
    stems = Counter(re.sub(r"\s+", "", question["stem"]) for _file, question in QUESTIONS)
    assert [stem for stem, n in stems.items() if n > 1] == []


@pytest.mark.parametrize("item", QUESTIONS, ids=_id)
def test_every_question_passes_question_clean(
    item: tuple[quizzes_demo.BankFile, dict[str, Any]],
) -> None:
    file, question = item
    data = quizzes_demo.question_data(file, question)
    clean = question_clean({**data, "category": Category(name=file.category)})
    assert clean.type == question["type"]
    assert clean.supplier == quizzes_demo.DEMO_SUPPLIER
    assert clean.recommender
    assert clean.origin
    assert clean.tags
    assert 1 <= len(clean.explanation) <= 160  # one or two sentences
    assert clean.explanation.count("。") <= 3
    assert 20 <= len(clean.hint) <= 400  # a short source passage
    assert question.get("difficulty") == clean.difficulty  # set, not defaulted


@pytest.mark.parametrize("item", QUESTIONS, ids=_id)
def test_answers_reference_existing_options_and_the_hint_holds_them(
    item: tuple[quizzes_demo.BankFile, dict[str, Any]],
) -> None:
    file, question = item
    data = quizzes_demo.question_data(file, question)
    clean = question_clean({**data, "category": Category(name=file.category)})
    keys = [option["key"] for option in clean.options]
    if clean.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        assert len(clean.options) >= 3
        assert set(clean.answer) <= set(keys)
        assert len(clean.answer) < len(keys)  # at least one wrong option to avoid
        assert len(question["answer"]) == len(clean.answer)  # nothing dropped on the way
    if clean.type == QuestionType.SINGLE:
        assert len(clean.answer) == 1
    if clean.type == QuestionType.MULTIPLE:
        assert len(clean.answer) >= 2
    if clean.type == QuestionType.TRUE_FALSE:
        assert clean.options == []
        assert clean.answer in (["T"], ["F"])
    if clean.type == QuestionType.FILL:
        assert len(BLANK.findall(clean.stem)) == len(clean.answer)
        hint = normalise(clean.hint)
        for variants in clean.answer:
            assert any(normalise(variant) in hint for variant in variants), variants
            assert len({normalise(v) for v in variants}) == len(variants)


def test_true_false_answers_are_not_all_the_same() -> None:
    answers = Counter(q["answer"] for _file, q in QUESTIONS if q["type"] == QuestionType.TRUE_FALSE)
    assert set(answers) == {"正确", "错误"}
    assert min(answers.values()) >= 0.3 * sum(answers.values())


def test_a_file_with_an_unknown_field_or_bad_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        'category = "甲"\nposition = 1\n[[questions]]\ntype = "single"\nanswr = "A"\n', "utf-8"
    )
    with pytest.raises(quizzes_demo.QuizDemoError, match="answr"):
        quizzes_demo.bank_files(tmp_path)
    (tmp_path / "a.toml").write_text('category = "甲\n', "utf-8")
    with pytest.raises(quizzes_demo.QuizDemoError, match=r"a\.toml"):
        quizzes_demo.bank_files(tmp_path)


# --- seeded ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    summary: quizzes_demo.QuizDemoSummary
    at: dt.datetime
    seconds: float


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Seeded]:
    with django_db_blocker.unblock(), transaction.atomic():
        organizations_demo.demo_seed()
        at = now()
        started = time.perf_counter()
        summary = quizzes_demo.seed_quizzes(at=at)
        seconds = time.perf_counter() - started
        connection.check_constraints()
        yield Seeded(summary, at, seconds)
        transaction.set_rollback(True)


def _demo_questions() -> Any:
    return Question.objects.filter(supplier=quizzes_demo.DEMO_SUPPLIER)


def test_every_question_is_in_the_bank_active_with_one_version(seeded: Seeded) -> None:
    questions = _demo_questions().select_related("current", "category")
    assert questions.count() == len(QUESTIONS) == seeded.summary.questions
    assert seeded.summary.categories == len(FILES)
    assert not questions.exclude(status=QuestionStatus.ACTIVE).exists()
    assert QuestionVersion.objects.filter(question__in=questions).count() == len(QUESTIONS)
    by_category = dict(questions.values_list("category__name").annotate(n=Count("id")).order_by())
    assert by_category == {file.category: len(file.questions) for file in FILES}
    names = list(Category.objects.order_by("position", "id").values_list("name", flat=True))
    assert names == [file.category for file in FILES]
    stems = {q.current.stem: q for q in questions}
    for file, question in QUESTIONS:  # what was written is what the file says
        made = stems[question["stem"]]
        assert made.category.name == file.category
        assert made.type == question["type"]
        assert made.difficulty == question["difficulty"]
        assert made.current.hint == question["hint"]
        assert made.current.explanation == question["explanation"]
    assert seeded.summary.by_type == dict(Counter(q["type"] for _f, q in QUESTIONS))


def test_the_bank_writes_are_the_system_s_and_the_papers_the_operator_s(seeded: Seeded) -> None:
    operator = quizzes_demo.demo_operator()
    assert not _demo_questions().exclude(created_by=None).exists()
    assert not AuditEntry.objects.filter(action__startswith="question").exists()
    assert set(Paper.objects.values_list("created_by", flat=True)) == {operator.pk}
    entries = AuditEntry.objects.filter(actor=operator, action__startswith="paper.")
    actions = Counter(entries.values_list("action", flat=True))
    assert actions == {"paper.create": 3, "paper.publish": 3}


def test_this_week_has_its_weekly_set_of_five_mixed_questions(seeded: Seeded) -> None:
    weekly = Paper.objects.get(kind=PaperKind.WEEKLY)
    assert weekly.is_published
    assert weekly.opens_at == week_start(seeded.at)
    assert weekly.closes_at is None
    assert weekly.time_limit == 0
    monday = week_start(seeded.at)
    assert weekly.title.startswith(f"每周答题（{monday.month}月{monday.day}日")
    slots = list(PaperQuestion.objects.filter(paper=weekly).select_related("question__category"))
    assert len(slots) == 5
    assert {slot.question.type for slot in slots} == set(QuestionType.values)
    assert len({slot.question.category_id for slot in slots}) == 5


def test_two_special_papers_are_open_now_and_timed(seeded: Seeded) -> None:
    specials = list(Paper.objects.filter(kind=PaperKind.SPECIAL).order_by("title"))
    assert sorted(p.slots.count() for p in specials) == [5, 10]
    today = seeded.at.astimezone(BUSINESS_TZ).date()
    for paper in specials:
        assert paper.is_published
        assert paper.time_limit > 0
        assert paper.opens_at.astimezone(BUSINESS_TZ).date() == today
        assert paper.opens_at <= seeded.at
        assert paper.closes_at is not None
        assert paper.closes_at - seeded.at >= dt.timedelta(weeks=3)
    used = list(PaperQuestion.objects.values_list("question_id", flat=True))
    assert len(used) == len(set(used)) == 20  # no question in two demo papers
    assert not Question.objects.filter(pk__in=used).exclude(status=QuestionStatus.ACTIVE).exists()


@pytest.mark.parametrize("kind", [PaperKind.WEEKLY, PaperKind.SPECIAL])
def test_the_papers_can_be_started_answered_and_finished(seeded: Seeded, kind: str) -> None:
    member = User.objects.get(phone=MEMBER_PHONE)
    for paper in Paper.objects.filter(kind=kind):
        attempt = attempt_start(member=member, kind=kind, paper_id=paper.pk)
        assert attempt.paper_id == paper.pk
        assert attempt.scoring
        assert (attempt.deadline is not None) == (kind == PaperKind.SPECIAL)
        rows = AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
        assert [row.question_id for row in rows] == list(
            paper.slots.order_by("position").values_list("question_id", flat=True)
        )
        for row in rows:
            result = attempt_answer(
                member=member,
                attempt_id=attempt.pk,
                question_id=row.pk,
                answer=right_answer(row.version, row.question.type),
            )
            assert result.correct, row.version.stem
            assert result.explanation
        finished = attempt_finish(member=member, attempt_id=attempt.pk)
        assert finished.score == 100
        assert finished.correct_count == finished.question_count == paper.slots.count()
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.FINISHED


def test_every_fill_question_accepts_each_of_its_variants(seeded: Seeded) -> None:
    """Graded as a member answers: each accepted variant, typed as written, is right."""
    from xuexi.quizzes import grading

    fills = _demo_questions().filter(type=QuestionType.FILL).select_related("current")
    assert fills.count() == sum(1 for _f, q in QUESTIONS if q["type"] == QuestionType.FILL)
    for question in fills:
        answer = question.current.answer
        for index, variants in enumerate(answer):
            for variant in variants:
                given = [v[0] for v in answer]
                given[index] = variant
                assert grading.is_correct(QuestionType.FILL, answer, given), variant


def test_seeding_again_changes_nothing(seeded: Seeded) -> None:
    def state() -> tuple[object, ...]:
        return (
            list(Question.objects.order_by("pk").values_list("pk", "current_id", "status")),
            QuestionVersion.objects.count(),
            list(Category.objects.order_by("pk").values_list("pk", "name", "position")),
            list(Paper.objects.order_by("pk").values_list("pk", "title", "opens_at", "closes_at")),
            list(PaperQuestion.objects.order_by("pk").values_list("paper", "question", "position")),
            AuditEntry.objects.count(),
        )

    before = state()
    assert quizzes_demo.quizzes_demo_exists()
    assert quizzes_demo.seed_quizzes() == seeded.summary
    assert quizzes_demo.seed_quizzes(at=seeded.at + dt.timedelta(days=8)) == seeded.summary
    assert state() == before


def test_the_same_seed_and_moment_choose_the_same_papers(seeded: Seeded) -> None:
    def papers() -> list[tuple[str, list[str]]]:
        rows = PaperQuestion.objects.order_by("paper__kind", "paper__title", "position")
        chosen: dict[str, list[str]] = {}
        for title, stem in rows.values_list("paper__title", "question__current__stem"):
            chosen.setdefault(title, []).append(stem)
        return list(chosen.items())

    first = papers()
    PaperQuestion.objects.all().delete()
    Paper.objects.all().delete()
    Question.objects.update(current=None)
    QuestionVersion.objects.all().delete()
    Question.objects.all().delete()
    assert not quizzes_demo.quizzes_demo_exists()
    quizzes_demo.seed_quizzes(at=seeded.at)
    assert papers() == first


def test_the_operator_is_needed_for_the_papers(seeded: Seeded) -> None:
    User.objects.filter(phone="13800000000").update(phone="13799999999")
    with pytest.raises(quizzes_demo.QuizDemoError, match="运营账号"):
        quizzes_demo.demo_operator()


def test_a_question_the_bank_refuses_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        'category = "理论学习"\nposition = 1\n[[questions]]\ntype = "fill"\n'
        'stem = "没有空的填空题。"\nanswer = [["甲"]]\nexplanation = "解析。"\nhint = "甲。"\n'
        "difficulty = 2\n",
        "utf-8",
    )
    with pytest.raises(quizzes_demo.QuizDemoError, match=r"x\.toml 第 1 题.*stem"):
        quizzes_demo._bank_create(quizzes_demo.bank_files(tmp_path))


def test_the_command_reports_the_bank(seeded: Seeded) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "已存在" in out.getvalue()
    assert f"题库 {len(FILES)} 个分类 {len(QUESTIONS)} 道题" in out.getvalue()
    assert "每周答题 1 套，专项答题 2 套" in out.getvalue()


def test_seeding_is_fast(seeded: Seeded) -> None:
    assert seeded.seconds < 15, seeded.seconds  # a few seconds at most, even on a slow runner
