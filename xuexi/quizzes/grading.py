"""Grading: pure functions from what was asked and what was answered to right or wrong.

Nothing here trusts the client: an answer is checked for shape (keys that exist, one string
per blank, sizes bounded) before it is graded, and a malformed answer is refused, not graded
wrong — a script probing the server learns nothing, and the attempt is not spent.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from xuexi.core.errors import ValidationFailed
from xuexi.quizzes.models import QuestionType

TRUE_FALSE_KEYS = ("T", "F")


def true_false_options() -> list[dict[str, str]]:
    """The two options of a true/false question, in the request's language."""
    return [
        {"key": "T", "text": pgettext("true or false", "正确")},
        {"key": "F", "text": pgettext("true or false", "错误")},
    ]


MAX_BLANK_LENGTH = 100

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = "。．.，,、；;：:！!？?“”\"'‘’（）()《》【】[] "


def normalise(text: str) -> str:
    """A fill-in answer as compared: full-width folded to half-width (NFKC), case folded, spaces
    removed (Chinese has none), punctuation at the ends dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub("", folded).strip(_EDGE_PUNCTUATION)


def option_keys(type_: str, options: list[dict[str, Any]]) -> list[str]:
    if type_ == QuestionType.TRUE_FALSE:
        return list(TRUE_FALSE_KEYS)
    return [str(o["key"]) for o in options]


def clean_answer(type_: str, options: list[dict[str, Any]], blanks: int, raw: Any) -> list[str]:
    """The answer as a list of strings, or ``ValidationFailed`` for a malformed one."""
    # NUL cannot be stored in PostgreSQL's jsonb: refused as malformed, not failed on write.
    if not isinstance(raw, list) or not all(isinstance(p, str) and "\x00" not in p for p in raw):
        raise ValidationFailed({"answer": _("答案格式不正确。")})
    if type_ == QuestionType.FILL:
        if len(raw) != blanks:
            raise ValidationFailed({"answer": _("请填写全部 %(n)d 个空。") % {"n": blanks}})
        if any(len(part) > MAX_BLANK_LENGTH for part in raw):
            raise ValidationFailed({"answer": _("答案过长。")})
        return list(raw)
    keys = option_keys(type_, options)
    chosen = list(dict.fromkeys(raw))
    if not chosen or any(key not in keys for key in chosen):
        raise ValidationFailed({"answer": _("请选择题目中的选项。")})
    if type_ in (QuestionType.SINGLE, QuestionType.TRUE_FALSE) and len(chosen) != 1:
        raise ValidationFailed({"answer": _("本题只能选择一个选项。")})
    return chosen


def is_correct(type_: str, answer_key: Any, given: list[str]) -> bool:
    """Grade a cleaned answer against the version's answer key."""
    if type_ == QuestionType.FILL:
        return len(given) == len(answer_key) and all(
            normalise(part) in {normalise(variant) for variant in variants}
            for part, variants in zip(given, answer_key, strict=True)
        )
    if type_ == QuestionType.MULTIPLE:
        return set(given) == set(answer_key)
    return given == list(answer_key)


def blank_count(type_: str, answer_key: Any) -> int:
    return len(answer_key) if type_ == QuestionType.FILL else 0
