"""The operators' rule-set editor (console 积分规则 → 新建): forms and the merge behind them.

One page edits a rule set in two places at once:

- a table with one row per rule for the fields operators change most (title, points per
  occurrence and per unit, daily and weekly caps, shared cap group) and a 停用 box;
- a JSON text of the whole rule set (``caps`` and ``rules``, one rule per line) for everything
  else: weekdays, time-of-day multipliers, first N, points by index, outcome or threshold,
  adding a rule.

The page also carries, hidden, the rule set both were filled from (``base``). On submit
``merge`` starts from the JSON text and applies each table cell the operator changed against
that base: an edit counts wherever it was made, and a field changed in both places to different
values is refused on its cell, never silently overridden. "检查" re-fills both from the merged
result; nothing is saved until "保存". The engine (``scoring.parse``) judges the result; its
messages are put into Chinese here and shown on the cell or the text they are about.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xuexi.accounts.forms import ServiceForm
from xuexi.core.text import enumeration
from xuexi.core.time import business_day
from xuexi.points import scoring
from xuexi.points.models import RuleSet

MAX_TEXT = 100_000  # characters of the JSON text (a full set is ~2,000)
COMMON_FIELDS = ("title", "points", "unit_points", "daily_cap", "weekly_cap", "cap_group")
TOP_KEYS = ("caps", "rules")
OUTCOME_LABELS = {
    "win": gettext_lazy("胜"),
    "loss": gettext_lazy("负"),
    "full": gettext_lazy("满分"),
    "pass": gettext_lazy("及格"),
    "partial": gettext_lazy("未满分"),
    "any": gettext_lazy("任意结果"),
}
FIELD_LABELS = {
    "title": gettext_lazy("名称"),
    "points": gettext_lazy("每次积分"),
    "unit_points": gettext_lazy("每单位积分"),
    "unit_size": gettext_lazy("单位数量"),
    "daily_cap": gettext_lazy("每日上限"),
    "weekly_cap": gettext_lazy("每周上限"),
    "cap_group": gettext_lazy("共享上限组"),
    "first_n": gettext_lazy("前 N 次计分"),
    "factor": gettext_lazy("时段倍数"),
    "threshold units": gettext_lazy("门槛数量"),
    "threshold points": gettext_lazy("门槛积分"),
}


# --- plain data ↔ text ----------------------------------------------------------------------


def editable_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """The part of a stored rule set the editor works on: ``caps`` and ``rules``."""
    data = data or {}
    return {
        "caps": dict(data.get("caps") or {}),
        "rules": [dict(rule) for rule in data.get("rules") or []],
    }


def data_json(data: dict[str, Any]) -> str:
    """``caps`` and ``rules`` as JSON with one rule per line: short enough to read whole."""
    caps = json.dumps(data.get("caps") or {}, ensure_ascii=False)
    rules = [json.dumps(rule, ensure_ascii=False) for rule in data.get("rules") or []]
    if not rules:
        return '{\n  "caps": ' + caps + ',\n  "rules": []\n}\n'
    body = ",\n".join(f"    {rule}" for rule in rules)
    return '{\n  "caps": ' + caps + ',\n  "rules": [\n' + body + "\n  ]\n}\n"


def _normal(rule: dict[str, Any] | None, name: str) -> Any:
    """A common field as the table compares it: 0 for no points, None for no cap, "" for no
    group or title."""
    rule = rule or {}
    value = rule.get(name)
    if name in ("points", "unit_points"):
        return 0 if value is None else value
    if name in ("title", "cap_group"):
        return "" if value is None else str(value).strip()
    return value


def _set(rule: dict[str, Any], name: str, value: Any) -> None:
    if value in (None, "", 0) and name != "title":
        rule.pop(name, None)
    else:
        rule[name] = value


# --- the engine's messages, in Chinese ------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One refusal: on a rule's table cell (``rule`` and ``field``) or on the text.
    ``message`` reads on the cell; ``full`` names the rule, for the text."""

    message: str
    rule: str = ""
    field: str = ""

    @property
    def full(self) -> str:
        if not self.rule:
            return self.message
        return _("规则 %(rule)s：") % {"rule": self.rule} + self.message


def _label(name: str) -> str:
    if name.startswith("points of "):
        outcome = name.removeprefix("points of ")
        return _("「%(outcome)s」的积分") % {"outcome": str(OUTCOME_LABELS.get(outcome, outcome))}
    return str(FIELD_LABELS.get(name, name))


TABLE_WHATS = {
    "a multiplier": gettext_lazy("时段倍数 multipliers 的每一项"),
    "by_index": "by_index",
    "by_outcome": "by_outcome",
    "each [[rules]] entry": gettext_lazy("rules 的每一项"),
    "[caps]": "caps",
}


def _bare(value: str) -> str:
    return value.strip().strip("'\"")


def _integer(parts: dict[str, str]) -> str:
    kind = _("正整数") if parts["kind"] == "positive" else _("不小于 0 的整数")
    return _("%(what)s必须是%(kind)s。") % {"what": _label(parts["what"]), "kind": kind}


_RULE = r"^(?:rule (?P<rule>[a-z_]+)(?::\s*|\s+))?"
# The engine's refusals (scoring.py), most specific first: (pattern, table cell, message).
_MESSAGES: list[tuple[re.Pattern[str], str, Any]] = [
    (
        re.compile(r"^unknown rule code (?P<code>.+)$"),
        "",
        lambda p: _("不认识的规则代码 %(code)s。") % {"code": _bare(p["code"])},
    ),
    (
        re.compile(_RULE + r"unknown fields \[(?P<fields>.*)\]$"),
        "",
        lambda p: _("不认识的字段 %(fields)s。") % {"fields": p["fields"].replace("'", "")},
    ),
    (re.compile(_RULE + r"a title is required$"), "title", lambda p: _("请填写名称。")),
    (
        re.compile(_RULE + r"cap group (?P<group>.+) has no cap in \[caps\]$"),
        "cap_group",
        lambda p: _("共享上限组 %(group)s 没有在 caps 中设定上限。") % {"group": _bare(p["group"])},
    ),
    (
        re.compile(r"^cap of group (?P<group>.+) must be a positive integer$"),
        "",
        lambda p: _("共享上限组 %(group)s 的上限必须是正整数。") % {"group": p["group"]},
    ),
    (
        re.compile(_RULE + r"(?P<what>.+) must be a (?P<kind>positive|non-negative) integer$"),
        "*what",
        _integer,
    ),
    (
        re.compile(_RULE + r"needs a daily cap, a weekly cap or a cap group$"),
        "daily_cap",
        lambda p: _("须设每日上限、每周上限或共享上限组。"),
    ),
    (
        re.compile(_RULE + r"weekdays are ISO numbers"),
        "",
        lambda p: _("计分日 weekdays 须是 1（周一）到 7（周日）的数字列表。"),
    ),
    (
        re.compile(_RULE + r"multipliers is a list of tables$"),
        "",
        lambda p: _("时段倍数 multipliers 须是列表，每项含 start、end、factor。"),
    ),
    (
        re.compile(_RULE + r"must be a time like 06:00$"),
        "",
        lambda p: _("时段倍数的时间须写成 06:00 这样的格式。"),
    ),
    (
        re.compile(_RULE + r"a multiplier window must end after it starts$"),
        "",
        lambda p: _("时段倍数的结束时间须晚于开始时间。"),
    ),
    (
        re.compile(_RULE + r"by_index keys are occurrence numbers from 1$"),
        "",
        lambda p: _("按次序计分 by_index 的键须是从 1 开始的次序号，值是按结果的积分。"),
    ),
    (
        re.compile(_RULE + r"unknown outcome (?P<outcome>.+)$"),
        "",
        lambda p: (
            _("不认识的结果 %(outcome)s（可用 win、loss、full、pass、partial）。")
            % {"outcome": _bare(p["outcome"])}
        ),
    ),
    (
        re.compile(_RULE + r"scores nothing"),
        "points",
        lambda p: _("不计任何积分：请设每次积分、每单位积分或特别计分。"),
    ),
    (
        re.compile(_RULE + r"by_threshold is a list of"),
        "",
        lambda p: _("按门槛计分 by_threshold 须是 [数量, 积分] 的列表。"),
    ),
    (
        re.compile(_RULE + r"threshold units must rise$"),
        "",
        lambda p: _("按门槛计分的数量须逐项增加。"),
    ),
    (re.compile(_RULE + r"appears twice$"), "", lambda p: _("出现了两次。")),
    (
        re.compile(_RULE + r"(?P<what>.+) must be a table$"),
        "",
        lambda p: (
            _("%(what)s 须是 JSON 对象（{…}）。")
            % {"what": str(TABLE_WHATS.get(p["what"], p["what"]))}
        ),
    ),
    (re.compile(r"^no rules$"), "", lambda p: _("至少要有一项规则。")),
    (re.compile(r"^rules are \[\[rules\]\] tables$"), "", lambda p: _("rules 须是列表。")),
]


def explain(error: scoring.RuleSetInvalid | str, *, set_code: str = "") -> Problem:
    """The engine's (English) refusal as a Chinese ``Problem``, placed on the table cell it is
    about when there is one; an unknown message is shown as it is, after a Chinese lead."""
    text = str(error)
    if set_code and text.startswith(f"{set_code}: "):
        text = text[len(set_code) + 2 :]
    for pattern, cell, message in _MESSAGES:
        found = pattern.search(text)
        if found is None:
            continue
        parts = {key: value or "" for key, value in found.groupdict().items()}
        rule = parts.get("rule", "")
        if cell == "*what":
            cell = parts["what"] if parts["what"] in COMMON_FIELDS else ""
        return Problem(message(parts), rule, cell)
    return Problem(_("规则数据有误：%(detail)s") % {"detail": text})


# --- forms ----------------------------------------------------------------------------------


class RuleSetHeadForm(ServiceForm):
    """The new set's identity: code, title, effective date (tomorrow at the earliest), note."""

    code = forms.CharField(
        label=gettext_lazy("编号"),
        max_length=40,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                gettext_lazy("编号只能包含字母、数字、点、横线和下划线，且以字母或数字开头。"),
            )
        ],
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "2026-07"}),
        help_text=gettext_lazy("唯一，建议用生效年月，如 2026-07。"),
    )
    title = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：2026 年 7 月积分规则")}
        ),
    )
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=gettext_lazy("变更说明"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("选填：改了什么、依据是什么，会随规则保存。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tomorrow = business_day() + dt.timedelta(days=1)
        effective = self.fields["effective_from"]
        effective.widget.attrs["min"] = self.tomorrow.isoformat()
        effective.help_text = _("最早 %(day)s（明天，北京时间）；从这天零点起按新规则计分。") % {
            "day": self.tomorrow.isoformat()
        }

    def clean_code(self) -> str:
        code = cast(str, self.cleaned_data["code"]).strip()
        if RuleSet.objects.filter(code=code).exists():
            raise forms.ValidationError(_("编号 %(code)s 已被使用，请换一个。") % {"code": code})
        return code

    def clean_effective_from(self) -> dt.date:
        day = cast(dt.date, self.cleaned_data["effective_from"])
        if day < self.tomorrow:
            raise forms.ValidationError(_("新规则只能从明天或以后生效，不能追溯。"))
        taken = RuleSet.objects.filter(effective_from=day).first()
        if taken is not None:
            raise forms.ValidationError(
                _("%(day)s 已有积分规则「%(title)s」，请另选日期。")
                % {"day": day.isoformat(), "title": taken.title}
            )
        return day


class RuleSetTextForm(ServiceForm):
    """The JSON text of the whole set, and (hidden) the set the page was filled from."""

    rules = forms.CharField(
        label=gettext_lazy("完整规则（JSON）"),
        max_length=MAX_TEXT,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 16, "spellcheck": "false", "wrap": "off", "class": "ruleset-text"}
        ),
        help_text=gettext_lazy(
            "每行一项规则。表格之外的设置在这里改：计分日 weekdays（1 周一 … 7 周日）、"
            "时段倍数 multipliers、前 N 次计分 first_n、按次序 by_index、按结果 by_outcome、"
            "按门槛 by_threshold、单位数量 unit_size；共享上限组的上限写在 caps 中。"
            "新增一项规则：在 rules 中加一行，再点“检查”。"
        ),
    )
    base = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_TEXT)

    def base_data(self) -> dict[str, Any] | None:
        """The set the page was filled from (the merge's reference); None if unreadable."""
        try:
            base = json.loads(self.cleaned_data.get("base") or "")
        except ValueError:
            return None
        if not isinstance(base, dict) or not isinstance(base.get("rules"), list):
            return None
        return base


class RuleRowForm(forms.Form):
    """One rule's common fields. A row marked 停用 is dropped, whatever else it holds."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    title = forms.CharField(label=gettext_lazy("名称"), max_length=50)
    points = forms.IntegerField(label=gettext_lazy("每次积分"), min_value=0, required=False)
    unit_points = forms.IntegerField(label=gettext_lazy("每单位积分"), min_value=0, required=False)
    daily_cap = forms.IntegerField(label=gettext_lazy("每日上限"), min_value=1, required=False)
    weekly_cap = forms.IntegerField(label=gettext_lazy("每周上限"), min_value=1, required=False)
    cap_group = forms.CharField(
        label=gettext_lazy("共享上限组"),
        max_length=40,
        required=False,
        validators=[
            RegexValidator(r"^[A-Za-z0-9_-]*$", gettext_lazy("只能包含字母、数字、横线和下划线。"))
        ],
    )
    remove = forms.BooleanField(label=gettext_lazy("停用"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code = str(self.initial.get("code") or self.data.get(self.add_prefix("code"), ""))
        typed = str(self.data.get(self.add_prefix("title"), "")).strip()
        name = str(self.initial.get("title") or typed or code)
        self.rule_code = code
        self.rule_name = name
        for field_name, bound in self.fields.items():
            if field_name == "code":
                continue
            widget = bound.widget
            widget.attrs["aria-label"] = f"{name}（{code}）：{bound.label}"
            if isinstance(bound, forms.IntegerField):
                widget.attrs.update({"inputmode": "numeric", "class": "ruleset-num"})
            elif field_name == "title":
                widget.attrs["class"] = "ruleset-title"
            elif field_name == "cap_group":
                widget.attrs["class"] = "ruleset-group"

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and getattr(self, "cleaned_data", {}).get("remove"):
            self._errors = ErrorDict()  # a rule being dropped needs no valid values

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": (data.get("title") or "").strip(),
            "points": data.get("points") or 0,
            "unit_points": data.get("unit_points") or 0,
            "daily_cap": data.get("daily_cap"),
            "weekly_cap": data.get("weekly_cap"),
            "cap_group": (data.get("cap_group") or "").strip(),
        }


class BaseRuleRowFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for row in self.forms:
            code = getattr(row, "cleaned_data", {}).get("code")
            if not code:
                continue
            if code in seen:
                raise forms.ValidationError(_("表格中规则 %(code)s 出现了两次。") % {"code": code})
            seen.add(code)


RuleRowFormSet = forms.formset_factory(
    RuleRowForm,
    formset=BaseRuleRowFormSet,
    extra=0,
    max_num=len(scoring.RULE_CODES),
    validate_max=True,
    absolute_max=len(scoring.RULE_CODES),
)


def row_initial(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's rows for ``data``: blank cells for no points, no cap, no group."""
    rows = []
    for rule in data.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        rows.append(
            {
                "code": rule.get("code", ""),
                "title": rule.get("title", ""),
                "points": rule.get("points") or None,
                "unit_points": rule.get("unit_points") or None,
                "daily_cap": rule.get("daily_cap"),
                "weekly_cap": rule.get("weekly_cap"),
                "cap_group": rule.get("cap_group", ""),
            }
        )
    return rows


# --- the merge ------------------------------------------------------------------------------


@dataclass
class Merged:
    """The editor's outcome: the merged ``caps`` and ``rules`` and the problems found."""

    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_text(text: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The JSON text as ``{"caps", "rules"}``, or the problems that stop reading it."""
    try:
        data = json.loads(text)
    except ValueError as error:
        line = getattr(error, "lineno", None)
        column = getattr(error, "colno", None)
        if line is None:
            return None, [Problem(_("JSON 格式有误，请检查括号、引号和逗号。"))]
        return None, [
            Problem(
                _("JSON 格式有误：第 %(line)s 行第 %(column)s 列附近，请检查括号、引号和逗号。")
                % {"line": line, "column": column}
            )
        ]
    if not isinstance(data, dict):
        return None, [Problem(_("规则须是一个 JSON 对象，包含 caps 和 rules 两项。"))]
    unknown = [key for key in data if key not in TOP_KEYS]
    if unknown:
        return None, [
            Problem(
                _(
                    "不认识的项 %(keys)s：JSON 只包含 caps 和 rules；"
                    "编号、名称、生效日期和说明请在上方填写。"
                )
                % {"keys": enumeration(str(k) for k in unknown)}
            )
        ]
    caps = data.get("caps") or {}
    if not isinstance(caps, dict):
        return None, [Problem(_('caps 须是 JSON 对象，如 {"reading": 12}。'))]
    rules = data.get("rules")
    if not isinstance(rules, list):
        return None, [Problem(_("rules 须是列表，每项是一项规则。"))]
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or not isinstance(rule.get("code"), str):
            problems.append(
                Problem(_("rules 的第 %(n)s 项须是含 code 的 JSON 对象。") % {"n": number})
            )
            continue
        if rule["code"] in seen:
            problems.append(Problem(_("规则 %(rule)s 出现了两次。") % {"rule": rule["code"]}))
        seen.add(rule["code"])
    if problems:
        return None, problems
    return {"caps": caps, "rules": [dict(rule) for rule in rules]}, []


def merge(
    base: dict[str, Any], text: dict[str, Any], rows: Iterable[tuple[str, dict[str, Any], bool]]
) -> Merged:
    """The text with the table's edits applied: each ``(code, values, removed)`` row changes
    the fields whose value differs from ``base``; a field the text changed too, to another
    value, is a problem on that cell."""
    base_rules = {
        rule.get("code"): rule for rule in base.get("rules") or [] if isinstance(rule, dict)
    }
    text_rules = {rule["code"]: rule for rule in text["rules"]}
    removed: set[str] = set()
    problems: list[Problem] = []
    for code, values, remove in rows:
        if remove:
            removed.add(code)
            continue
        before = base_rules.get(code)
        changed = {
            name: values[name] for name in COMMON_FIELDS if values[name] != _normal(before, name)
        }
        if not changed:
            continue
        target = text_rules.get(code)
        if target is None:
            problems.append(
                Problem(
                    _("这项规则已从 JSON 中删除，表格中的修改无法应用；请恢复 JSON 或勾选停用。"),
                    code,
                    next(iter(changed)),
                )
            )
            continue
        for name, value in changed.items():
            theirs = _normal(target, name)
            if theirs != _normal(before, name) and theirs != value:
                problems.append(
                    Problem(
                        _("JSON 中此项也改成了 %(value)s，请只在一处修改。")
                        % {"value": theirs if theirs not in ("", None) else _("空")},
                        code,
                        name,
                    )
                )
                continue
            _set(target, name, value)
    rules = [rule for rule in text["rules"] if rule["code"] not in removed]
    return Merged({"caps": text["caps"], "rules": rules}, problems)


@dataclass
class Draft:
    """A checked rule set: the data to store and its parsed form."""

    data: dict[str, Any]
    spec: scoring.RuleSetSpec


def build(
    *,
    text_form: RuleSetTextForm,
    rows: forms.BaseFormSet[RuleRowForm],
    code: str,
    title: str,
    effective_from: dt.date,
    note: str = "",
) -> Draft | None:
    """Merge the table into the text and let the engine judge the result; every problem is
    added to the form or the row it is about. None when anything is wrong."""
    text_ok, rows_ok = text_form.is_valid(), rows.is_valid()  # both: every error shows
    if not (text_ok and rows_ok):
        return None
    text, problems = read_text(text_form.cleaned_data["rules"])
    if text is None:
        for problem in problems:
            text_form.add_error("rules", problem.full)
        return None
    by_code = {row.cleaned_data["code"]: row for row in rows.forms if row.cleaned_data.get("code")}
    edits = []
    for rule_code, row in by_code.items():
        removed = bool(row.cleaned_data.get("remove"))
        edits.append((rule_code, {} if removed else row.values(), removed))
    # Without a readable reference (a tampered page) the table's values win over the text.
    base = text_form.base_data()
    merged = merge(base if base is not None else copy.deepcopy(text), text, edits)
    if merged.ok:
        data = {
            "ruleset": {
                "code": code,
                "title": title,
                "effective_from": effective_from.isoformat(),
                "note": note,
            },
            **merged.data,
        }
        try:
            spec = scoring.parse(data)
        except scoring.RuleSetInvalid as error:
            merged.problems.append(explain(error, set_code=code))
        else:
            return Draft(spec.as_data(), spec)
    for problem in merged.problems:
        on_row = by_code.get(problem.rule)
        if on_row is not None and problem.field in COMMON_FIELDS:
            on_row.add_error(problem.field, problem.message)
        else:
            text_form.add_error("rules", problem.full)
    return None
