"""The bank: validation in Chinese per field, and versions that keep old attempts true."""

from __future__ import annotations

import pytest

from xuexi.core.errors import ValidationFailed
from xuexi.quizzes.bank import question_clean, question_create, question_update
from xuexi.quizzes.models import Category, Question, QuestionVersion
from xuexi.quizzes.tests.factories import FILL, SINGLE

pytestmark = pytest.mark.django_db


def current(question: Question) -> QuestionVersion:
    assert question.current is not None
    return question.current


@pytest.fixture
def category():
    return Category.objects.create(name="理论学习")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "essay"}, "type"),
        ({"category": "没有的分类"}, "category"),
        ({"stem": " "}, "stem"),
        ({"options": ["只有一个"]}, "options"),
        ({"options": ["甲", "甲", "乙"]}, "options"),
        ({"answer": "E"}, "answer"),
        ({"answer": "AB"}, "answer"),  # single choice, two keys
        ({"type": "multiple", "answer": "A"}, "answer"),  # multiple needs two
        ({"type": "true_false", "answer": "也许"}, "answer"),
        ({**FILL, "answer": [["乡村"]]}, "stem"),  # two blanks in the stem, one answer
        ({**FILL, "answer": [["乡村"], [" "]]}, "answer"),
        ({"difficulty": 9}, "difficulty"),
        ({"hint_item_id": 999999}, "hint_item_id"),
    ],
)
def test_bad_questions_name_the_field(category, changes, field):
    with pytest.raises(ValidationFailed) as caught:
        question_clean({**SINGLE, "category": category.name, **changes})
    assert field in caught.value.details["fields"]


def test_answers_are_stored_in_one_shape(category):
    multiple = question_create(
        actor=None, data={**SINGLE, "type": "multiple", "answer": "c,a", "category": category}
    )
    true_false = question_create(
        actor=None,
        data={"type": "true_false", "stem": "对吗？", "answer": "对", "category": category},
    )
    fill = question_create(
        actor=None, data={**FILL, "answer": ["乡村", "美丽|美丽的"], "category": category}
    )
    assert current(multiple).answer == ["A", "C"]
    assert current(true_false).answer == ["T"]
    assert current(fill).answer == [["乡村"], ["美丽", "美丽的"]]  # fmt: skip


def test_editing_makes_a_new_version_and_keeps_the_old(category, personas):
    editor = personas["operator"]  # only platform operators edit the bank (access.py)
    question = question_create(actor=None, data={**SINGLE, "category": category})
    first = current(question)
    question = question_update(
        actor=editor,
        question=question,
        data={**SINGLE, "category": category, "stem": "改过的题干？", "type": "multiple"},
    )
    assert current(question).number == 2
    assert question.type == "single"  # the type never changes
    assert QuestionVersion.objects.get(pk=first.pk).stem == SINGLE["stem"]  # fmt: skip
