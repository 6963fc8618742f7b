"""Grading of every question type, fill-in variants included, and the shape checks."""

from __future__ import annotations

import pytest

from xuexi.core.errors import ValidationFailed
from xuexi.quizzes.grading import clean_answer, is_correct, normalise

OPTIONS = [{"key": k, "text": k} for k in "ABCD"]


@pytest.mark.parametrize(
    ("type_", "key", "given", "right"),
    [
        ("single", ["B"], ["B"], True),
        ("single", ["B"], ["A"], False),
        ("multiple", ["A", "B", "D"], ["D", "B", "A"], True),  # order does not matter
        ("multiple", ["A", "B", "D"], ["A", "B"], False),  # a part is wrong
        ("multiple", ["A", "B"], ["A", "B", "C"], False),  # a key too many is wrong
        ("true_false", ["T"], ["T"], True),
        ("true_false", ["T"], ["F"], False),
        ("fill", [["乡村"], ["美丽", "美丽的"]], ["乡村", "美丽的"], True),  # a variant
        (
            "fill",
            [["乡村"], ["美丽", "美丽的"]],
            [" 乡 村 ", "美丽。"],
            True,
        ),  # spaces, punctuation
        ("fill", [["乡村"], ["美丽"]], ["美丽", "乡村"], False),  # blanks in order
        ("fill", [["WTO"]], ["ｗｔｏ"], True),  # full-width and case folded
        ("fill", [["2035"]], ["２０３５年"], False),  # an extra character is another answer
    ],
)
def test_grading(type_, key, given, right):
    assert is_correct(type_, key, given) is right


@pytest.mark.parametrize(
    ("type_", "raw", "blanks"),
    [
        ("single", "B", 0),  # not a list
        ("single", [], 0),
        ("single", ["A", "B"], 0),  # one choice only
        ("single", ["E"], 0),  # no such option
        ("multiple", [1, 2], 0),  # not strings
        ("true_false", ["A"], 0),
        ("fill", ["乡村"], 2),  # one blank missing
        ("fill", ["乡" * 101], 1),  # too long
        ("fill", {"0": "乡村"}, 1),
    ],
)
def test_malformed_answers_are_refused_not_graded(type_, raw, blanks):
    with pytest.raises(ValidationFailed):
        clean_answer(type_, OPTIONS, blanks, raw)


def test_normalise():
    assert normalise("　Ａｂ　Ｃ。") == "abc"
    assert normalise("“新时代”") == "新时代"
