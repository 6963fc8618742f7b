"""The question bank's writes: create, edit (a new version), activate, retire.

``question_clean`` checks one question's data the same way for the console form, the API and
the Excel import, and answers with Chinese messages per field.
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
from xuexi.quizzes.models import Category, Question, QuestionStatus, QuestionType, QuestionVersion

OPTION_KEYS = "ABCDEFGH"
BLANK = re.compile(r"_{2,}|（\s*）|\(\s*\)")  # ____ or （ ） marks a blank in a fill-in stem
TRUE_FALSE_WORDS = {k: ["T"] for k in ("T", "正确", "对", "√")} | {
    k: ["F"] for k in ("F", "错误", "错", "×")
}
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
    difficulty 1–5, tags, supplier, recommender, origin.
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
    hint_item = None
    if data.get("hint_item_id"):
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


def _version(question: Question, clean: CleanQuestion, number: int) -> QuestionVersion:
    return QuestionVersion.objects.create(
        question=question,
        number=number,
        stem=clean.stem,
        options=clean.options,
        answer=clean.answer,
        explanation=clean.explanation,
        hint=clean.hint,
        hint_item=clean.hint_item,
    )


@transaction.atomic
def question_create(
    *, actor: User | None, data: dict[str, Any], status: str = QuestionStatus.ACTIVE
) -> Question:
    clean = question_clean(data)
    question = Question.objects.create(
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
    question.current = _version(question, clean, 1)
    question.save(update_fields=["current"])
    return question


@transaction.atomic
def question_update(*, actor: User, question: Question, data: dict[str, Any]) -> Question:
    """Edit a question: what it asks becomes a new version (attempts keep the one they asked);
    the type never changes (make a new question instead)."""
    question = Question.objects.select_for_update().get(pk=question.pk)
    clean = question_clean({**data, "type": question.type})
    number = (
        question.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    before = {"version": number - 1}
    question.current = _version(question, clean, number)
    question.category = clean.category
    question.tags, question.difficulty = clean.tags, clean.difficulty
    question.supplier, question.recommender, question.origin = (
        clean.supplier,
        clean.recommender,
        clean.origin,
    )
    question.updated_at = now()
    question.save()
    audit_record(
        actor=actor,
        action="question.update",
        target=question,
        before=before,
        after={"version": number},
    )
    return question


@transaction.atomic
def question_set_status(*, actor: User, question: Question, status: str) -> Question:
    if status not in QuestionStatus.values:
        raise ValidationFailed({"status": _("状态无效。")})
    before = question.status
    Question.objects.filter(pk=question.pk).update(status=status, updated_at=now())
    question.status = status
    audit_record(
        actor=actor,
        action="question.status",
        target=question,
        before={"status": before},
        after={"status": status},
    )
    return question
