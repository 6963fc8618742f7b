"""The question bank's writes: create, edit (a new version), activate, retire; categories; the
Excel import's all-or-nothing write.

``question_clean`` checks one question's data the same way for the console form, the API and
the Excel import, and answers with Chinese messages per field.

Every write takes the ``actor`` and refuses anyone but a platform operator
(``xuexi.quizzes.access``) before it reads anything, so a page or endpoint that forgot to ask
still cannot change the bank. ``actor=None`` is the system itself (demo data, management
commands): no page or API passes it. Each write done by an operator leaves an audit entry
filed under his root node.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.models import Item
from xuexi.core.audit import audit_record
from xuexi.core.errors import ValidationFailed
from xuexi.core.time import now
from xuexi.organizations.models import Organization
from xuexi.quizzes.access import require_bank_operator
from xuexi.quizzes.models import Category, Question, QuestionStatus, QuestionType, QuestionVersion

OPTION_KEYS = "ABCDEFGH"
BLANK = re.compile(r"_{2,}|（\s*）|\(\s*\)")  # ____ or （ ） marks a blank in a fill-in stem
TRUE_FALSE_WORDS = {k: ["T"] for k in ("T", "正确", "对", "√")} | {
    k: ["F"] for k in ("F", "错误", "错", "×")
}
WRITE_BATCH = 500
LIMITS = {"stem": 500, "option": 200, "explanation": 1000, "hint": 2000, "variant": 100}


@dataclass(frozen=True)
class CleanQuestion:
    type: str
    category: Category
    stem: str
    options: list[dict[str, str]]
    answer: Any
    explanation: str
    hint: str
    hint_item: Item | None
    difficulty: int
    tags: str
    supplier: str
    recommender: str
    origin: str


def _text(data: dict[str, Any], name: str) -> str:
    return str(data.get(name) or "").strip()


def question_clean(data: dict[str, Any]) -> CleanQuestion:
    """Check a question's data; ``ValidationFailed`` names every wrong field.

    ``data``: type, category (a Category or its name), stem, options (list of texts, keyed
    A, B, … in order), answer (option keys for choice types — a string like "AC" or a list;
    T/F or 正确/错误 for true-false; for fill-in a list of blanks, each a list of accepted
    variants or a string with variants separated by "|"), explanation, hint, hint_item_id,
    difficulty 1–5, tags, supplier, recommender, origin. ``hint_item`` (an Item) may stand
    for ``hint_item_id`` when the caller has fetched it already.
    """
    errors: dict[str, str] = {}
    type_ = _text(data, "type")
    if type_ not in QuestionType.values:
        errors["type"] = _("题型无效：应为单选题、多选题、判断题或填空题。")
    category = data.get("category")
    if not isinstance(category, Category):
        category = Category.objects.filter(name=str(category or "").strip()).first()
        if category is None:
            errors["category"] = _("分类不存在。")
    stem = _text(data, "stem")
    if not stem:
        errors["stem"] = _("请填写题干。")
    elif len(stem) > LIMITS["stem"]:
        errors["stem"] = _("题干不能超过 %(n)d 个字。") % {"n": LIMITS["stem"]}
    options: list[dict[str, str]] = []
    answer: Any = None
    if type_ in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        texts = [str(t).strip() for t in data.get("options") or [] if str(t).strip()]
        if not 2 <= len(texts) <= len(OPTION_KEYS):
            errors["options"] = _("选择题需要 2 到 8 个选项。")
        elif any(len(t) > LIMITS["option"] for t in texts):
            errors["options"] = _("选项不能超过 %(n)d 个字。") % {"n": LIMITS["option"]}
        elif len(set(texts)) != len(texts):
            errors["options"] = _("选项不能重复。")
        options = [{"key": OPTION_KEYS[i], "text": t} for i, t in enumerate(texts)]
        raw = data.get("answer") or []
        keys = [k.strip().upper() for k in (list(raw) if isinstance(raw, str) else raw)]
        keys = [k for k in dict.fromkeys(keys) if k and k not in ",，、 "]
        valid = {o["key"] for o in options}
        if not keys or any(k not in valid for k in keys):
            errors["answer"] = _("答案应为选项字母，如 A 或 AC。")
        elif type_ == QuestionType.SINGLE and len(keys) != 1:
            errors["answer"] = _("单选题只能有一个正确选项。")
        elif type_ == QuestionType.MULTIPLE and len(keys) < 2:
            errors["answer"] = _("多选题至少有两个正确选项。")
        answer = sorted(keys)
    elif type_ == QuestionType.TRUE_FALSE:
        raw = data.get("answer")
        value = (raw[0] if isinstance(raw, list) and raw else str(raw or "")).strip().upper()
        answer = {
            "T": ["T"],
            "正确": ["T"],
            "对": ["T"],
            "F": ["F"],
            "错误": ["F"],
            "错": ["F"],
        }.get(value)
        if answer is None:
            errors["answer"] = _("判断题答案应为“正确”或“错误”。")
    elif type_ == QuestionType.FILL:
        raw = data.get("answer") or []
        blanks = raw if isinstance(raw, list) else [raw]
        answer = []
        for blank in blanks:
            variants = blank if isinstance(blank, list) else str(blank).split("|")
            variants = [str(v).strip() for v in variants if str(v).strip()]
            answer.append(variants)
        if not answer or any(not variants for variants in answer):
            errors["answer"] = _("请为每个空填写答案（多个可接受答案用“|”分隔）。")
        elif any(len(v) > LIMITS["variant"] for variants in answer for v in variants):
            errors["answer"] = _("答案过长。")
        elif stem and len(BLANK.findall(stem)) != len(answer):
            errors["stem"] = _(
                "题干中的空（用“____”或“（ ）”标出）应有 %(n)d 个，与答案数一致。"
            ) % {"n": len(answer)}
    explanation, hint = _text(data, "explanation"), _text(data, "hint")
    if len(explanation) > LIMITS["explanation"]:
        errors["explanation"] = _("解析过长。")
    if len(hint) > LIMITS["hint"]:
        errors["hint"] = _("出题依据过长。")
    given = data.get("hint_item")  # an Item the caller fetched already (the import, in bulk)
    hint_item = given if isinstance(given, Item) else None
    if hint_item is None and data.get("hint_item_id"):
        hint_item = Item.objects.filter(pk=data["hint_item_id"]).first()
        if hint_item is None:
            errors["hint_item_id"] = _("出处文章不存在。")
    try:
        difficulty = int(data.get("difficulty") or 2)
    except (TypeError, ValueError):
        difficulty = 0
    if not 1 <= difficulty <= 5:
        errors["difficulty"] = _("难度应为 1 到 5。")
    if errors or not isinstance(category, Category):
        raise ValidationFailed(errors)
    return CleanQuestion(
        type=type_,
        category=category,
        stem=stem,
        options=options,
        answer=answer,
        explanation=explanation,
        hint=hint,
        hint_item=hint_item,
        difficulty=difficulty,
        tags=_text(data, "tags")[:200],
        supplier=_text(data, "supplier")[:60],
        recommender=_text(data, "recommender")[:60],
        origin=_text(data, "origin")[:120],
    )


def _unsaved_version(question: Question, clean: CleanQuestion, number: int) -> QuestionVersion:
    return QuestionVersion(
        question=question,
        number=number,
        stem=clean.stem,
        options=clean.options,
        answer=clean.answer,
        explanation=clean.explanation,
        hint=clean.hint,
        hint_item=clean.hint_item,
    )


def _version(question: Question, clean: CleanQuestion, number: int) -> QuestionVersion:
    version = _unsaved_version(question, clean, number)
    version.save(force_insert=True)
    return version


def _operator_root(actor: User | None) -> Organization | None:
    """The operator's root node (``Forbidden`` for anyone else); None for the system."""
    return None if actor is None else require_bank_operator(actor)


def _unsaved_question(*, actor: User | None, clean: CleanQuestion, status: str) -> Question:
    return Question(
        type=clean.type,
        category=clean.category,
        tags=clean.tags,
        difficulty=clean.difficulty,
        status=status,
        supplier=clean.supplier,
        recommender=clean.recommender,
        origin=clean.origin,
        draw_key=random.random(),  # noqa: S311 - a draw, not a secret
        created_by=actor,
    )


def _new_question(*, actor: User | None, clean: CleanQuestion, status: str) -> Question:
    question = _unsaved_question(actor=actor, clean=clean, status=status)
    question.save(force_insert=True)
    question.current = _version(question, clean, 1)
    question.save(update_fields=["current"])
    return question


def _new_questions(*, actor: User | None, creates: list[ImportCreate]) -> list[int]:
    """``_new_question`` for many at once: three statements a batch, not three a question."""
    questions = Question.objects.bulk_create(
        [_unsaved_question(actor=actor, clean=item.clean, status=item.status) for item in creates],
        batch_size=WRITE_BATCH,
    )
    versions = QuestionVersion.objects.bulk_create(
        [
            _unsaved_version(question, item.clean, 1)
            for question, item in zip(questions, creates, strict=True)
        ],
        batch_size=WRITE_BATCH,
    )
    for question, version in zip(questions, versions, strict=True):
        question.current = version
    Question.objects.bulk_update(questions, ["current"], batch_size=WRITE_BATCH)
    return [question.pk for question in questions]


@transaction.atomic
def question_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    status: str = QuestionStatus.ACTIVE,
    ip: str | None = None,
) -> Question:
    root = _operator_root(actor)
    if status not in QuestionStatus.values:
        raise ValidationFailed({"status": _("状态无效。")})
    question = _new_question(actor=actor, clean=question_clean(data), status=status)
    if actor is not None:
        audit_record(
            actor=actor,
            action="question.create",
            target=question,
            organization=root,
            after={"status": status, "type": question.type, "category": question.category.name},
            ip=ip,
        )
    return question


def question_content_changed(version: QuestionVersion | None, clean: CleanQuestion) -> bool:
    """Whether ``clean`` asks something else than ``version``: a new version is due."""
    if version is None:
        return True
    return (
        version.stem != clean.stem
        or version.options != clean.options
        or version.answer != clean.answer
        or version.explanation != clean.explanation
        or version.hint != clean.hint
        or version.hint_item_id != (clean.hint_item.pk if clean.hint_item else None)
    )


def _describing_fields(question: Question) -> dict[str, Any]:
    return {
        "category": question.category_id,
        "tags": question.tags,
        "difficulty": question.difficulty,
        "supplier": question.supplier,
        "recommender": question.recommender,
        "origin": question.origin,
    }


def question_differs(question: Question, clean: CleanQuestion) -> bool:
    """Whether saving ``clean`` would change ``question`` at all: a new version, or one of
    its describing fields (category, tags, difficulty, provenance)."""
    wanted = {
        "category": clean.category.pk,
        "tags": clean.tags,
        "difficulty": clean.difficulty,
        "supplier": clean.supplier,
        "recommender": clean.recommender,
        "origin": clean.origin,
    }
    return question_content_changed(question.current, clean) or (
        _describing_fields(question) != wanted
    )


def _revise(question: Question, clean: CleanQuestion) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply ``clean`` to a locked ``question``: a new version when what it asks changed, the
    describing fields in place. Returns what changed, before and after (empty: nothing)."""
    before, after = _describing_fields(question), {}
    if question_content_changed(question.current, clean):
        number = (
            question.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        before["version"] = number - 1
        after["version"] = number
        question.current = _version(question, clean, number)
    question.category = clean.category
    question.tags, question.difficulty = clean.tags, clean.difficulty
    question.supplier, question.recommender, question.origin = (
        clean.supplier,
        clean.recommender,
        clean.origin,
    )
    after.update({k: v for k, v in _describing_fields(question).items() if before.get(k) != v})
    before = {k: v for k, v in before.items() if k in after}
    if after:
        question.updated_at = now()
        question.save()
    return before, after


@transaction.atomic
def question_update(
    *, actor: User | None, question: Question, data: dict[str, Any], ip: str | None = None
) -> Question:
    """Edit a question: what it asks becomes a new version (attempts keep the one they asked);
    the type never changes (make a new question instead). Saving the same content again
    writes no version and no audit entry."""
    root = _operator_root(actor)
    # FOR UPDATE OF the question only: PostgreSQL refuses to lock the nullable side of the
    # outer join to its current version.
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("current")
        .get(pk=question.pk)
    )
    clean = question_clean({**data, "type": question.type})
    before, after = _revise(question, clean)
    if after and actor is not None:
        audit_record(
            actor=actor,
            action="question.update",
            target=question,
            organization=root,
            before=before,
            after=after,
            ip=ip,
        )
    return question


@transaction.atomic
def question_set_status(
    *, actor: User | None, question: Question, status: str, ip: str | None = None
) -> Question:
    """启用 / 停用 / back to 草稿. Only active questions are drawn into daily and challenge
    quizzes; a paper keeps the questions it was published with whatever their status."""
    root = _operator_root(actor)
    if status not in QuestionStatus.values:
        raise ValidationFailed({"status": _("状态无效。")})
    before = (
        Question.objects.select_for_update().values_list("status", flat=True).get(pk=question.pk)
    )
    question.status = status
    if before == status:
        return question
    Question.objects.filter(pk=question.pk).update(status=status, updated_at=now())
    if actor is not None:
        audit_record(
            actor=actor,
            action="question.status",
            target=question,
            organization=root,
            before={"status": before},
            after={"status": status},
            ip=ip,
        )
    return question


# --- categories ------------------------------------------------------------------------------

CATEGORY_NAME_LIMIT = 40


def _category_name(name: str, *, keep: Category | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": _("请填写分类名称。")})
    if len(name) > CATEGORY_NAME_LIMIT:
        raise ValidationFailed(
            {"name": _("分类名称不能超过 %(n)d 个字。") % {"n": CATEGORY_NAME_LIMIT}}
        )
    taken = Category.objects.filter(name=name)
    if keep is not None:
        taken = taken.exclude(pk=keep.pk)
    if taken.exists():
        raise ValidationFailed({"name": _("已有同名的分类「%(name)s」。") % {"name": name}})
    return name


@transaction.atomic
def category_create(*, actor: User | None, name: str, ip: str | None = None) -> Category:
    """A new category, last in the order."""
    root = _operator_root(actor)
    name = _category_name(name)
    last = Category.objects.order_by("-position").values_list("position", flat=True).first()
    category = Category.objects.create(name=name, position=(last or 0) + 1)
    if actor is not None:
        audit_record(
            actor=actor,
            action="question_category.create",
            target=category,
            organization=root,
            after={"name": name},
            ip=ip,
        )
    return category


@transaction.atomic
def category_rename(
    *, actor: User | None, category: Category, name: str, ip: str | None = None
) -> Category:
    root = _operator_root(actor)
    category = Category.objects.select_for_update().get(pk=category.pk)
    name = _category_name(name, keep=category)
    if name == category.name:
        return category
    before = category.name
    category.name = name
    category.save(update_fields=["name"])
    if actor is not None:
        audit_record(
            actor=actor,
            action="question_category.rename",
            target=category,
            organization=root,
            before={"name": before},
            after={"name": name},
            ip=ip,
        )
    return category


# --- the Excel import's write ----------------------------------------------------------------


@dataclass(frozen=True)
class ImportCreate:
    row: int
    clean: CleanQuestion
    status: str


@dataclass(frozen=True)
class ImportUpdate:
    row: int
    question_id: int
    clean: CleanQuestion
    status: str


@dataclass(frozen=True)
class ImportResult:
    created: list[int]  # question ids, in the file's order
    updated: list[int]
    unchanged: int


@transaction.atomic
def questions_import(
    *,
    actor: User | None,
    creates: list[ImportCreate],
    updates: list[ImportUpdate],
    unchanged: int = 0,
    file_name: str = "",
    ip: str | None = None,
) -> ImportResult:
    """Write a checked import: new questions, and new versions or new describing fields of
    existing ones, with one ``question.import`` audit entry.

    ``xuexi.quizzes.excel.bank_import`` checks the rows and calls this in one transaction,
    so that nothing is written unless every row passed. The questions updated are locked in
    id order, so that an edit from the console waits for the import or the import for it.
    """
    root = _operator_root(actor)
    created = _new_questions(actor=actor, creates=creates)
    locked = (
        Question.objects.select_for_update(of=("self",))
        .select_related("current")
        .in_bulk(sorted(item.question_id for item in updates))
    )
    updated: list[int] = []
    moment = now()
    for item in updates:
        question = locked[item.question_id]
        _before, after = _revise(question, item.clean)
        if question.status != item.status:
            Question.objects.filter(pk=question.pk).update(status=item.status, updated_at=moment)
            after["status"] = item.status
        if after:
            updated.append(question.pk)
    audit_record(
        actor=actor,
        action="question.import",
        target_type="question",
        target_label=file_name[:200],
        organization=root,
        after={
            "file": file_name[:200],
            "created": len(created),
            "updated": len(updated),
            "unchanged": unchanged + len(updates) - len(updated),
            "created_ids": _id_ranges(created),
            "updated_ids": _id_ranges(updated),
        },
        ip=ip,
    )
    return ImportResult(
        created=created, updated=updated, unchanged=unchanged + len(updates) - len(updated)
    )


def _id_ranges(ids: list[int]) -> str:
    """``[3, 4, 5, 9]`` → ``"3-5,9"``: an import's ids, short enough for the audit log."""
    runs: list[list[int]] = []
    for value in sorted(ids):
        if runs and runs[-1][1] == value - 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)
