"""The rule engine's pure part: rule specifications and what an action is worth.

No database here. A rule set is data (``rulesets/*.toml`` or an operator's edit); this module
parses it into ``RuleSpec``s, validates it, prices one action, and computes the daily maximum a
member can reach under it — the check against PRODUCT.md §6.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULE_CODES = frozenset(
    {
        "login", "read_article", "article_time", "chosen_reading", "watch_video", "video_time",
        "watch_listen", "daily_quiz", "weekly_quiz", "special_quiz", "challenge_quiz",
        "four_player", "duel", "subscribe", "favourite", "share", "comment", "local_channel",
        "sport", "offline_activity",
    }
)  # fmt: skip
OUTCOMES = frozenset({"win", "loss", "full", "pass", "partial"})
# Administrators' awards for offline study are not part of what a member can earn by himself.
OUTSIDE_DAILY_MAX = frozenset({"offline_activity"})
SHIPPED_DIR = Path(__file__).resolve().parent / "rulesets"


class RuleSetInvalid(ValueError):
    """A rule set that cannot be applied; the message says which rule and why."""


@dataclass(frozen=True)
class Multiplier:
    """Points × ``factor`` for actions between ``start`` (inclusive) and ``end`` (exclusive)."""

    start: dt.time
    end: dt.time
    factor: int

    def covers(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class RuleSpec:
    code: str
    title: str
    points: int = 0  # per occurrence
    unit_points: int = 0  # per completed unit (minutes of reading, of video)
    unit_size: int = 1  # how many units make one ``unit_points`` (1 per 4 minutes → 4)
    daily_cap: int | None = None
    weekly_cap: int | None = None
    cap_group: str = ""  # rules sharing one daily cap (defined in the set's ``caps``)
    weekdays: frozenset[int] = frozenset()  # ISO weekdays the rule scores on; empty = every day
    multipliers: tuple[Multiplier, ...] = ()
    first_n: int | None = None  # only the first N scoring occurrences of a day score
    by_index: dict[int, dict[str, int]] = field(
        default_factory=dict
    )  # occurrence → outcome → points
    by_outcome: dict[str, int] = field(default_factory=dict)  # outcome → points (quizzes)
    # (at least N units, points) steps: 挑战答题 "5 right → 3, 10 or more → 6"
    by_threshold: tuple[tuple[int, int], ...] = ()
    link: str = ""  # where the member goes to earn it ("去看看")

    def scores_on(self, day: dt.date) -> bool:
        return not self.weekdays or day.isoweekday() in self.weekdays

    def raw_points(
        self,
        *,
        moment: dt.time,
        index: int,
        occurrences: int = 1,
        units: int = 0,
        outcome: str | None = None,
    ) -> int:
        """What the action is worth before caps: ``index`` is its place among today's scoring
        occurrences of this rule (1 = first)."""
        if self.first_n is not None and index > self.first_n:
            return 0
        if self.by_index:
            table = self.by_index.get(index) or self.by_index.get(max(self.by_index), {})
            value = table.get(outcome or "", table.get("any", 0))
        elif self.by_outcome:
            value = self.by_outcome.get(outcome or "", 0)
        elif self.by_threshold:
            value = max(
                (points for least, points in self.by_threshold if units >= least), default=0
            )
        else:
            value = self.points * occurrences + self.unit_points * (units // self.unit_size)
        factor = max((m.factor for m in self.multipliers if m.covers(moment)), default=1)
        return max(0, value) * factor


@dataclass(frozen=True)
class RuleSetSpec:
    code: str
    title: str
    effective_from: dt.date
    rules: dict[str, RuleSpec]
    caps: dict[str, int]  # cap group → shared daily cap
    expected_daily_max: int | None = None
    note: str = ""

    def rule(self, code: str) -> RuleSpec | None:
        return self.rules.get(code)

    def daily_cap_of(self, rule: RuleSpec) -> int | None:
        return self.caps.get(rule.cap_group) if rule.cap_group else rule.daily_cap

    def daily_max(self) -> int:
        """The most a member can earn in one day: the best weekday, every cap reached.

        A rule with only a weekly cap can be earned whole on one day; rules sharing a cap
        group count that group's cap once.
        """
        best = 0
        for weekday in range(1, 8):
            day_total, groups = 0, set()
            for rule in self.rules.values():
                if rule.code in OUTSIDE_DAILY_MAX:
                    continue
                if rule.weekdays and weekday not in rule.weekdays:
                    continue
                if rule.cap_group:
                    if rule.cap_group not in groups:
                        groups.add(rule.cap_group)
                        day_total += self.caps[rule.cap_group]
                    continue
                caps = [c for c in (rule.daily_cap, rule.weekly_cap) if c is not None]
                day_total += min(caps) if caps else 0
            best = max(best, day_total)
        return best

    def as_data(self) -> dict[str, Any]:
        """The plain-data form stored in the database (and read back by ``parse``)."""
        return {
            "ruleset": {
                "code": self.code,
                "title": self.title,
                "effective_from": self.effective_from.isoformat(),
                "expected_daily_max": self.expected_daily_max,
                "note": self.note,
            },
            "caps": dict(self.caps),
            "rules": [_rule_data(rule) for rule in self.rules.values()],
        }


def _rule_data(rule: RuleSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"code": rule.code, "title": rule.title}
    for name in ("points", "unit_points", "daily_cap", "weekly_cap", "first_n"):
        value = getattr(rule, name)
        if value:
            data[name] = value
    if rule.unit_size != 1:
        data["unit_size"] = rule.unit_size
    if rule.cap_group:
        data["cap_group"] = rule.cap_group
    if rule.weekdays:
        data["weekdays"] = sorted(rule.weekdays)
    if rule.multipliers:
        data["multipliers"] = [
            {"start": m.start.strftime("%H:%M"), "end": m.end.strftime("%H:%M"), "factor": m.factor}
            for m in rule.multipliers
        ]
    if rule.by_index:
        data["by_index"] = {str(k): dict(v) for k, v in rule.by_index.items()}
    if rule.by_outcome:
        data["by_outcome"] = dict(rule.by_outcome)
    if rule.by_threshold:
        data["by_threshold"] = [list(step) for step in rule.by_threshold]
    if rule.link:
        data["link"] = rule.link
    return data


def _positive(value: Any, what: str, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        raise RuleSetInvalid(
            f"{what} must be a {'non-negative' if allow_zero else 'positive'} integer"
        )
    return value


def _time(value: Any, what: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise RuleSetInvalid(f"{what} must be a time like 06:00") from exc


def _thresholds(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise RuleSetInvalid(f"{where}: by_threshold is a list of [units, points] pairs")
    steps: list[tuple[int, int]] = []
    for step in value:
        if not isinstance(step, list) or len(step) != 2:
            raise RuleSetInvalid(f"{where}: by_threshold is a list of [units, points] pairs")
        least = _positive(step[0], f"{where}: threshold units")
        points = _positive(step[1], f"{where}: threshold points")
        if steps and least <= steps[-1][0]:
            raise RuleSetInvalid(f"{where}: threshold units must rise")
        steps.append((least, points))
    return tuple(steps)


def _table(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleSetInvalid(f"{what} must be a table")
    return value


def _parse_rule(data: dict[str, Any], caps: dict[str, int]) -> RuleSpec:
    data = _table(data, "each [[rules]] entry")
    code = data.get("code")
    if code not in RULE_CODES:
        raise RuleSetInvalid(f"unknown rule code {code!r}")
    where = f"rule {code}"
    known = {
        "code", "title", "points", "unit_points", "unit_size", "daily_cap", "weekly_cap",
        "cap_group", "weekdays", "multipliers", "first_n", "by_index", "by_outcome", "link",
        "by_threshold",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise RuleSetInvalid(f"{where}: unknown fields {sorted(unknown)}")
    title = str(data.get("title") or "").strip()
    if not title:
        raise RuleSetInvalid(f"{where}: a title is required")
    cap_group = str(data.get("cap_group", ""))
    if cap_group and cap_group not in caps:
        raise RuleSetInvalid(f"{where}: cap group {cap_group!r} has no cap in [caps]")
    daily_cap = data.get("daily_cap")
    weekly_cap = data.get("weekly_cap")
    if daily_cap is not None:
        _positive(daily_cap, f"{where}: daily_cap")
    if weekly_cap is not None:
        _positive(weekly_cap, f"{where}: weekly_cap")
    if daily_cap is None and weekly_cap is None and not cap_group:
        raise RuleSetInvalid(f"{where}: needs a daily cap, a weekly cap or a cap group")
    weekdays = data.get("weekdays", [])
    if not isinstance(weekdays, list) or any(
        not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays
    ):
        raise RuleSetInvalid(f"{where}: weekdays are ISO numbers 1 (Monday) to 7 (Sunday)")
    multipliers = []
    if not isinstance(data.get("multipliers", []), list):
        raise RuleSetInvalid(f"{where}: multipliers is a list of tables")
    for item in data.get("multipliers", []):
        item = _table(item, f"{where}: a multiplier")
        start, end = _time(item.get("start"), where), _time(item.get("end"), where)
        if end <= start:
            raise RuleSetInvalid(f"{where}: a multiplier window must end after it starts")
        multipliers.append(
            Multiplier(start, end, _positive(item.get("factor"), f"{where}: factor"))
        )
    by_index: dict[int, dict[str, int]] = {}
    for key, table in _table(data.get("by_index") or {}, f"{where}: by_index").items():
        if not str(key).isdigit() or int(key) < 1 or not isinstance(table, dict):
            raise RuleSetInvalid(f"{where}: by_index keys are occurrence numbers from 1")
        for outcome, value in table.items():
            if outcome not in OUTCOMES | {"any"}:
                raise RuleSetInvalid(f"{where}: unknown outcome {outcome!r}")
            _positive(value, f"{where}: points of {outcome}", allow_zero=True)
        by_index[int(key)] = dict(table)
    by_outcome = dict(_table(data.get("by_outcome") or {}, f"{where}: by_outcome"))
    for outcome, value in by_outcome.items():
        if outcome not in OUTCOMES:
            raise RuleSetInvalid(f"{where}: unknown outcome {outcome!r}")
        _positive(value, f"{where}: points of {outcome}", allow_zero=True)
    by_threshold = _thresholds(data.get("by_threshold", []), where)
    points = data.get("points", 0)
    unit_points = data.get("unit_points", 0)
    _positive(points, f"{where}: points", allow_zero=True)
    _positive(unit_points, f"{where}: unit_points", allow_zero=True)
    if not (points or unit_points or by_index or by_outcome or by_threshold):
        raise RuleSetInvalid(
            f"{where}: scores nothing (points, unit_points, by_index or by_outcome)"
        )
    first_n = data.get("first_n")
    if first_n is not None:
        _positive(first_n, f"{where}: first_n")
    return RuleSpec(
        code=code,
        title=title,
        points=points,
        unit_points=unit_points,
        unit_size=_positive(data.get("unit_size", 1), f"{where}: unit_size"),
        daily_cap=daily_cap,
        weekly_cap=weekly_cap,
        cap_group=cap_group,
        weekdays=frozenset(weekdays),
        multipliers=tuple(multipliers),
        first_n=first_n,
        by_index=by_index,
        by_outcome=by_outcome,
        by_threshold=by_threshold,
        link=str(data.get("link", "")),
    )


def parse(data: dict[str, Any]) -> RuleSetSpec:
    """A rule set from plain data (a TOML file or the database); ``RuleSetInvalid`` if wrong."""
    data = _table(data, "a rule set")
    head = _table(data.get("ruleset") or {}, "[ruleset]")
    code = str(head.get("code") or "").strip()
    if not code:
        raise RuleSetInvalid("[ruleset] needs a code")
    try:
        effective = head.get("effective_from")
        if isinstance(effective, dt.datetime):
            raise ValueError("a date, not a date-time")
        effective_from = (
            effective if isinstance(effective, dt.date) else dt.date.fromisoformat(str(effective))
        )
    except ValueError as exc:
        raise RuleSetInvalid(f"{code}: effective_from must be a date") from exc
    caps = {}
    for group, cap in _table(data.get("caps") or {}, "[caps]").items():
        caps[str(group)] = _positive(cap, f"{code}: cap of group {group}")
    rules: dict[str, RuleSpec] = {}
    if not isinstance(data.get("rules") or [], list):
        raise RuleSetInvalid(f"{code}: rules are [[rules]] tables")
    for item in data.get("rules") or []:
        try:
            rule = _parse_rule(item, caps)
        except RuleSetInvalid as exc:
            raise RuleSetInvalid(f"{code}: {exc}") from exc
        if rule.code in rules:
            raise RuleSetInvalid(f"{code}: rule {rule.code} appears twice")
        rules[rule.code] = rule
    if not rules:
        raise RuleSetInvalid(f"{code}: no rules")
    expected = head.get("expected_daily_max")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise RuleSetInvalid(f"{code}: expected_daily_max must be an integer")
    return RuleSetSpec(
        code=code,
        title=str(head.get("title") or code),
        effective_from=effective_from,
        rules=rules,
        caps=caps,
        expected_daily_max=int(expected) if expected is not None else None,
        note=str(head.get("note") or ""),
    )


def load_file(path: Path) -> RuleSetSpec:
    with path.open("rb") as handle:
        return parse(tomllib.load(handle))


def shipped() -> list[RuleSetSpec]:
    """Every rule set shipped with the code, oldest first."""
    specs = [load_file(path) for path in sorted(SHIPPED_DIR.glob("*.toml"))]
    return sorted(specs, key=lambda spec: spec.effective_from)
