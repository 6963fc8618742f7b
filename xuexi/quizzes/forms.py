"""Forms of the quiz console (题库 · 题目分类 · 题库导入 · 专项答题 · 每周答题).

They only shape what an operator typed into the data the services take; the rules live in
``bank.question_clean`` and ``papers`` and answer per field, and ``add_domain_error`` puts
each answer next to the field it is about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.forms.boundfield import BoundField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from xuexi.accounts.forms import ServiceForm
from xuexi.core.errors import DomainError, ValidationFailed
from xuexi.core.time import BUSINESS_TZ
from xuexi.quizzes import bank, excel
from xuexi.quizzes.models import Category, PaperKind, Question, QuestionType

OPTION_FIELDS = tuple(f"option_{key.lower()}" for key in bank.OPTION_KEYS)
DIFFICULTY_LABELS = {
    1: gettext_lazy("1 · 容易"),
    2: gettext_lazy("2 · 较易"),
    3: gettext_lazy("3 · 中等"),
    4: gettext_lazy("4 · 较难"),
    5: gettext_lazy("5 · 难"),
}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _datetime_field(label: Any, *, required: bool, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
        error_messages={
            "invalid": gettext_lazy("请填写正确的日期和时间。"),
            "required": gettext_lazy("请填写开始时间。"),
        },
    )


# --- questions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionRow:
    """One line of the options editor: the letter, its text field and its 正确 checkbox."""

    key: str
    text: BoundField
    correct: Any  # the checkbox of ``correct`` for this key


class QuestionForm(ServiceForm):
    """A question as the operator writes it: the type's own part of the form is read
    (options and right keys, 正确/错误, or blanks with their accepted answers)."""

    type = forms.ChoiceField(
        label=gettext_lazy("题型"),
        choices=QuestionType.choices,
        initial=QuestionType.SINGLE,
        widget=forms.RadioSelect,
    )
    category = forms.TypedChoiceField(
        label=gettext_lazy("分类"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("请选择分类。"),
            "invalid_choice": gettext_lazy("该分类不存在，请重新选择。"),
        },
    )
    stem = forms.CharField(
        label=gettext_lazy("题干"),
        max_length=bank.LIMITS["stem"],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("填空题在题干中用 ____ 或（ ）标出每个空。"),
        error_messages={"required": gettext_lazy("请填写题干。")},
    )
    correct = forms.MultipleChoiceField(
        label=gettext_lazy("正确答案"),
        choices=[(key, key) for key in bank.OPTION_KEYS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    truth = forms.ChoiceField(
        label=gettext_lazy("正确答案"),
        choices=[
            ("T", pgettext_lazy("true or false", "正确")),
            ("F", pgettext_lazy("true or false", "错误")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    blanks = forms.CharField(
        label=gettext_lazy("各空答案"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("乡村\n美丽|美丽的")}),
        help_text=gettext_lazy(
            "每行一个空，按题干中空的顺序；同一个空的多个可接受答案用 | 分隔。"
            "判分时忽略空格、全半角和首尾标点。"
        ),
    )
    explanation = forms.CharField(
        label=gettext_lazy("解析"),
        required=False,
        max_length=bank.LIMITS["explanation"],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    hint = forms.CharField(
        label=gettext_lazy("出题依据"),
        required=False,
        max_length=bank.LIMITS["hint"],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("答题时点“查看提示”显示的原文段落。"),
    )
    hint_item = forms.IntegerField(
        label=gettext_lazy("出处文章编号"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=gettext_lazy("选填：平台内原文的编号，学员可从提示跳转阅读。"),
        error_messages={"invalid": gettext_lazy("请填写文章编号（数字）。")},
    )
    difficulty = forms.TypedChoiceField(
        label=gettext_lazy("难度"),
        coerce=int,
        choices=list(DIFFICULTY_LABELS.items()),
        initial=2,
    )
    tags = forms.CharField(
        label=gettext_lazy("标签"),
        required=False,
        max_length=excel.TEXT_LIMITS["tags"],
        help_text=gettext_lazy("多个标签用逗号分隔。"),
    )
    supplier = forms.CharField(
        label=gettext_lazy("供题单位"), required=False, max_length=excel.TEXT_LIMITS["supplier"]
    )
    recommender = forms.CharField(
        label=gettext_lazy("推荐人"), required=False, max_length=excel.TEXT_LIMITS["recommender"]
    )
    origin = forms.CharField(
        label=gettext_lazy("出处"),
        required=False,
        max_length=excel.TEXT_LIMITS["origin"],
        help_text=gettext_lazy("如书名、文件名或讲话名称及页码。"),
    )

    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        question: Question | None = None,
        **kwargs: Any,
    ) -> None:
        if question is not None and not kwargs.get("initial"):
            kwargs["initial"] = question_initial(question)
        super().__init__(*args, **kwargs)
        self.question = question
        category_field = cast(forms.TypedChoiceField, self.fields["category"])
        category_field.choices = [
            ("", gettext_lazy("请选择分类")),
            *((category.pk, category.name) for category in categories),
        ]
        for name, key in zip(OPTION_FIELDS, bank.OPTION_KEYS, strict=True):
            self.fields[name] = forms.CharField(
                label=gettext_lazy("选项%(key)s") % {"key": key},
                required=False,
                max_length=bank.LIMITS["option"],
            )
        if question is not None:
            del self.fields["type"]  # the type never changes (bank.question_update)
            if question.type != QuestionType.FILL:
                self.fields["stem"].help_text = ""
        self.part_errors: dict[str, str] = {}

    @property
    def question_type(self) -> str:
        if self.question is not None:
            return self.question.type
        value = self.data.get("type") if self.is_bound else self.initial.get("type")
        return str(value or QuestionType.SINGLE)

    def option_rows(self) -> list[OptionRow]:
        checkboxes = {str(box.data["value"]): box for box in self["correct"]}
        return [
            OptionRow(key=key, text=self[name], correct=checkboxes[key])
            for name, key in zip(OPTION_FIELDS, bank.OPTION_KEYS, strict=True)
        ]

    def bank_data(self) -> dict[str, Any]:
        """The cleaned form as ``bank.question_clean`` takes it."""
        fields = self.cleaned_data
        question_type = self.question_type
        if question_type == QuestionType.TRUE_FALSE:
            answer: Any = fields.get("truth") or ""
        elif question_type == QuestionType.FILL:
            answer = [line for line in fields.get("blanks", "").splitlines() if line.strip()]
        else:
            answer = list(fields.get("correct") or [])
        return {
            "type": question_type,
            "category": Category.objects.filter(pk=fields["category"]).first(),
            "stem": fields["stem"],
            "options": [fields.get(name, "") for name in OPTION_FIELDS],
            "answer": answer,
            "explanation": fields.get("explanation", ""),
            "hint": fields.get("hint", ""),
            "hint_item_id": fields.get("hint_item"),
            "difficulty": fields["difficulty"],
            "tags": fields.get("tags", ""),
            "supplier": fields.get("supplier", ""),
            "recommender": fields.get("recommender", ""),
            "origin": fields.get("origin", ""),
        }

    def add_domain_error(self, error: DomainError) -> None:
        """The bank's answer per field: options and answers go to the type's part of the form
        (``part_errors``), the rest to their fields."""
        if not isinstance(error, ValidationFailed):
            super().add_domain_error(error)
            return
        choice = self.question_type in (QuestionType.SINGLE, QuestionType.MULTIPLE)
        for name, message in error.details.get("fields", {}).items():
            if name == "answer" and choice and not self.cleaned_data.get("correct"):
                # The bank speaks of letters (the import's words); here they are boxes.
                self.part_errors[name] = str(_("请勾选正确的选项。"))
            elif name in ("options", "answer"):
                self.part_errors[name] = str(message)
            elif name == "hint_item_id":
                self.add_error("hint_item", message)
            else:
                self.add_error(name if name in self.fields else None, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.part_errors)


def question_initial(question: Question) -> dict[str, Any]:
    version = question.current
    initial: dict[str, Any] = {
        "category": question.category_id,
        "difficulty": question.difficulty,
        "tags": question.tags,
        "supplier": question.supplier,
        "recommender": question.recommender,
        "origin": question.origin,
    }
    if version is None:
        return initial
    initial.update(
        {
            "stem": version.stem,
            "explanation": version.explanation,
            "hint": version.hint,
            "hint_item": version.hint_item_id,
        }
    )
    for name, option in zip(OPTION_FIELDS, version.options, strict=False):
        initial[name] = option["text"]
    if question.type == QuestionType.TRUE_FALSE:
        initial["truth"] = (version.answer or ["T"])[0]
    elif question.type == QuestionType.FILL:
        initial["blanks"] = "\n".join("|".join(variants) for variants in version.answer)
    else:
        initial["correct"] = list(version.answer)
    return initial


class CategoryForm(ServiceForm):
    name = forms.CharField(
        label=gettext_lazy("分类名称"),
        max_length=bank.CATEGORY_NAME_LIMIT,
        error_messages={"required": gettext_lazy("请填写分类名称。")},
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("题目文件"),
        help_text=gettext_lazy("支持 .xlsx 和 .csv，不超过 5 MB、5,000 道题。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        error_messages={"required": gettext_lazy("请选择要上传的文件。")},
    )


# --- papers ------------------------------------------------------------------------------------


class PaperForm(ServiceForm):
    """A special paper or a weekly set: what it is, when it runs, and which questions (their
    ids in order in ``questions``, kept by the picker between its buttons)."""

    title = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=80,
        error_messages={"required": gettext_lazy("请填写名称。")},
    )
    description = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    questions = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: str, frozen: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.frozen = frozen
        if kind == PaperKind.SPECIAL:
            self.fields["opens_at"] = _datetime_field(gettext_lazy("开始时间"), required=True)
            self.fields["closes_at"] = _datetime_field(
                gettext_lazy("截止时间"),
                required=False,
                help_text=gettext_lazy("留空则长期开放。"),
            )
            self.fields["time_limit"] = forms.IntegerField(
                label=gettext_lazy("限时（分钟）"),
                min_value=1,
                max_value=120,
                initial=10,
                error_messages={
                    "required": gettext_lazy("请填写限时。"),
                    "invalid": gettext_lazy("请填写 1 到 120 的整数。"),
                    "min_value": gettext_lazy("限时应为 1 到 120 分钟。"),
                    "max_value": gettext_lazy("限时应为 1 到 120 分钟。"),
                },
            )
        else:
            self.fields["week"] = forms.DateField(
                label=gettext_lazy("所属周"),
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                help_text=gettext_lazy("选这一周中的任一天；每周答题在这周的周一 0 点开放。"),
                error_messages={
                    "required": gettext_lazy("请选择所属的周。"),
                    "invalid": gettext_lazy("请填写正确的日期。"),
                },
            )
        if frozen:
            # A started paper keeps what was asked (papers.paper_update): shown, not sent.
            for name in ("opens_at", "time_limit", "week"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def question_ids(self) -> list[int]:
        return parse_ids(self.data.get("questions", "") if self.is_bound else "")

    def opens_at(self) -> dt.datetime | None:
        fields = self.cleaned_data
        if self.kind == PaperKind.WEEKLY:
            day = fields.get("week")
            return dt.datetime.combine(day, dt.time.min, tzinfo=BUSINESS_TZ) if day else None
        value = fields.get("opens_at")
        return value if isinstance(value, dt.datetime) else None

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, ValidationFailed):
            for name, message in error.details.get("fields", {}).items():
                if name == "opens_at" and self.kind == PaperKind.WEEKLY:
                    name = "week"
                if name == "time_limit" and "time_limit" not in self.fields:
                    name = "questions"
                self.add_error(name if name in self.fields else None, message)
            return
        super().add_domain_error(error)


def parse_ids(text: str, *, limit: int = 20) -> list[int]:
    """``"12,5,7"`` → ``[12, 5, 7]``: ids in order, each once, junk dropped."""
    ids: list[int] = []
    for part in str(text).replace("，", ",").split(","):
        part = part.strip()
        if part.isdigit() and len(part) < 12 and int(part) not in ids:
            ids.append(int(part))
    return ids[:limit]
