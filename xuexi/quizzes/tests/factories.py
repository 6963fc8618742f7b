"""A small bank for tests: every type, in two categories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xuexi.core.time import now
from xuexi.quizzes.bank import question_create
from xuexi.quizzes.models import Category, Paper, PaperQuestion, Question

SINGLE = {
    "type": "single",
    "stem": "党的二十大在哪一年召开？",
    "options": ["2017", "2022", "2027"],
    "answer": "B",
    "explanation": "党的二十大于 2022 年 10 月召开。",
    "hint": "2022 年 10 月，党的二十大召开。",
}
MULTIPLE = {
    "type": "multiple",
    "stem": "下列哪些属于新发展理念？",
    "options": ["创新", "协调", "封闭", "绿色"],
    "answer": "ABD",
    "explanation": "新发展理念：创新、协调、绿色、开放、共享。",
}
TRUE_FALSE = {
    "type": "true_false",
    "stem": "绿水青山就是金山银山。",
    "answer": "正确",
    "explanation": "是。",
}
FILL = {
    "type": "fill",
    "stem": "实施____振兴战略，建设____中国。",
    "answer": [["乡村"], ["美丽", "美丽的"]],
    "explanation": "乡村振兴、美丽中国。",
}


def bank(count: int = 12) -> list[Question]:
    """``count`` active questions cycling through the four types (stems made distinct)."""
    theory, _ = Category.objects.get_or_create(name="理论学习")
    history, _ = Category.objects.get_or_create(name="党史")
    made = []
    for n in range(count):
        kinds: list[dict[str, Any]] = [SINGLE, MULTIPLE, TRUE_FALSE, FILL]
        data = dict(kinds[n % 4])
        data["stem"] = f"{data['stem']}（{n + 1}）" if data["type"] != "fill" else data["stem"]
        data["category"] = theory if n % 2 else history
        made.append(question_create(actor=None, data=data))
    return made


def paper(kind: str, questions: list[Question], *, time_limit: int = 0, **fields: Any) -> Paper:
    made = Paper.objects.create(
        kind=kind,
        title=fields.pop("title", "第一周"),
        opens_at=fields.pop("opens_at", now() - dt.timedelta(hours=1)),
        time_limit=time_limit,
        is_published=True,
        **fields,
    )
    for position, question in enumerate(questions, start=1):
        PaperQuestion.objects.create(paper=made, question=question, position=position)
    return made


def right_answer(version: Any, type_: str) -> list[str]:
    if type_ == "fill":
        return [variants[-1] for variants in version.answer]
    return list(version.answer)


def wrong_answer(version: Any, type_: str) -> list[str]:
    if type_ == "fill":
        return ["错" for _ in version.answer]
    if type_ == "true_false":
        return ["F" if version.answer == ["T"] else "T"]
    if type_ == "multiple":
        return [version.answer[0]]  # a part of the right keys is wrong
    return [next(o["key"] for o in version.options if o["key"] not in version.answer)]
