"""The one service that pays points, and the few that correct or configure.

``points_award`` is what every producer calls (login now; reading, quizzes, battles, comments
later). Guarantees, whatever the concurrency:

- the rule set in force on the action's Asia/Shanghai day applies, never a later one;
- no cap is exceeded: the member's counter rows for the rule (its day, its shared cap group,
  its week) are locked in key order before the room left is read;
- the same ``(member, rule, source_type, source_id)`` pays once: checked under those locks,
  and a unique constraint is the backstop;
- one transaction per award touching one member's rows only; nothing is written when nothing
  is paid, so a refused or failed award consumes no quota.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core import ratelimit
from xuexi.core.errors import ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day, now, seconds_until_next_business_day
from xuexi.organizations.models import Membership
from xuexi.points import scoring
from xuexi.points.models import Counter, CounterPeriod, LedgerEntry, RuleSet
from xuexi.points.rankings import rankings_record
from xuexi.points.selectors import ruleset_in_force, week_start

DEFAULT_SHIPPED_CODE = "2021"  # the 2021–22 rules (PRODUCT.md §6) are the platform's default


@dataclass(frozen=True)
class Award:
    """What an award paid. ``reason`` explains a zero: duplicate, capped, first_n,
    not_today (weekday window), no_rule (absent from the day's set), no_ruleset."""

    rule: str
    points: int
    reason: str = ""
    entry_id: int | None = None

    @property
    def duplicate(self) -> bool:
        return self.reason == "duplicate"


def _counter_keys(rule: scoring.RuleSpec, day: dt.date) -> list[tuple[str, dt.date, str]]:
    keys = [(CounterPeriod.DAY, day, rule.code)]
    if rule.cap_group:
        keys.append((CounterPeriod.DAY, day, f"group:{rule.cap_group}"))
    if rule.weekly_cap is not None:
        keys.append((CounterPeriod.WEEK, week_start(day), rule.code))
    return sorted(keys)


def _lock_counters(
    member_id: int, keys: list[tuple[str, dt.date, str]]
) -> dict[tuple[str, dt.date, str], Counter]:
    """The member's counter rows for ``keys``, created if missing, locked in key order."""
    Counter.objects.bulk_create(
        [Counter(member_id=member_id, period=p, start=s, key=k) for p, s, k in keys],
        ignore_conflicts=True,
    )
    locked: dict[tuple[str, dt.date, str], Counter] = {}
    for period, start, key in keys:  # sorted: two awards never wait on each other in a cycle
        locked[(period, start, key)] = Counter.objects.select_for_update().get(
            member_id=member_id, period=period, start=start, key=key
        )
    return locked


def points_award(
    *,
    member: User,
    rule: str,
    source_type: str,
    source_id: str | int,
    at: dt.datetime | None = None,
    occurrences: int = 1,
    units: int = 0,
    outcome: str | None = None,
    note: str = "",
) -> Award:
    """Pay ``member`` for one action under the rule set of its day; see the module docstring."""
    at = at or now()
    day = business_day(at)
    found = ruleset_in_force(day)
    if found is None:
        return Award(rule, 0, "no_ruleset")
    ruleset, spec = found
    rule_spec = spec.rule(rule)
    if rule_spec is None:
        return Award(rule, 0, "no_rule")
    if not rule_spec.scores_on(day):
        return Award(rule, 0, "not_today")
    source_id = str(source_id)
    keys = _counter_keys(rule_spec, day)
    try:
        with transaction.atomic():
            counters = _lock_counters(member.pk, keys)
            if LedgerEntry.objects.filter(
                member=member, rule=rule, source_type=source_type, source_id=source_id
            ).exists():
                return Award(rule, 0, "duplicate")
            today = counters[(CounterPeriod.DAY, day, rule)]
            raw = rule_spec.raw_points(
                moment=at.astimezone(BUSINESS_TZ).time(),
                index=today.occurrences + 1,
                occurrences=occurrences,
                units=units,
                outcome=outcome,
            )
            if raw <= 0:
                reason = "first_n" if rule_spec.first_n is not None else "nothing_earned"
                return Award(rule, 0, reason)
            room = raw
            daily_cap = spec.daily_cap_of(rule_spec)
            if daily_cap is not None:
                key = f"group:{rule_spec.cap_group}" if rule_spec.cap_group else rule
                room = min(room, daily_cap - counters[(CounterPeriod.DAY, day, key)].points)
            if rule_spec.weekly_cap is not None:
                week = counters[(CounterPeriod.WEEK, week_start(day), rule)]
                room = min(room, rule_spec.weekly_cap - week.points)
            if room <= 0:
                return Award(rule, 0, "capped")
            membership = (
                Membership.objects.filter(user=member, ended_at__isnull=True)
                .values_list("organization_id", flat=True)
                .first()
            )
            entry = LedgerEntry.objects.create(
                member=member,
                rule=rule,
                points=room,
                day=day,
                at=at,
                source_type=source_type,
                source_id=source_id,
                ruleset=ruleset,
                organization_id=membership,
                note=note[:200],
            )
            Counter.objects.filter(pk__in=[c.pk for c in counters.values()]).update(
                points=F("points") + room, occurrences=F("occurrences") + 1
            )
            transaction.on_commit(lambda: rankings_record(entry), robust=True)
    except IntegrityError:
        return Award(rule, 0, "duplicate")  # a racing request with the same source won
    return Award(rule, room, "capped" if room < raw else "", entry.pk)


def points_reverse(*, actor: User | None, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Undo an award with a compensating entry (never an edit). Reversing twice is refused
    by the ledger's unique constraint; the day's counters drop by the points reversed."""
    if entry.points <= 0:
        raise ValueError("Only a payment can be reversed.")
    with transaction.atomic():
        reversal = LedgerEntry.objects.create(
            member_id=entry.member_id,
            rule=entry.rule,
            points=-entry.points,
            day=entry.day,
            at=now(),
            source_type="reversal",
            source_id=str(entry.pk),
            ruleset_id=entry.ruleset_id,
            organization_id=entry.organization_id,
            note=reason[:200],
        )
        transaction.on_commit(lambda: rankings_record(reversal), robust=True)
        found = ruleset_in_force(entry.day)
        rule_spec = found[1].rule(entry.rule) if found else None
        keys = (
            _counter_keys(rule_spec, entry.day)
            if rule_spec
            else [(CounterPeriod.DAY, entry.day, entry.rule)]
        )
        locked = _lock_counters(entry.member_id, keys)
        Counter.objects.filter(pk__in=[c.pk for c in locked.values()]).update(
            points=F("points") - entry.points
        )
    return reversal


def points_award_daily_login(member: User) -> Award | None:
    """The first authenticated use of the day pays ``login`` once (cheap after the first:
    one atomic cache claim per member and day)."""
    if member.registered_at is None:
        return None
    day = business_day()
    if not ratelimit.take_once(
        f"points-login:{member.pk}:{day}", seconds_until_next_business_day()
    ):
        return None
    return points_award(member=member, rule="login", source_type="login", source_id=day.isoformat())


def rulesets_install_default(**kwargs: Any) -> RuleSet | None:
    """Install the default shipped rule set when none exists (run after ``migrate``)."""
    if RuleSet.objects.exists():
        return None
    for spec in scoring.shipped():
        if spec.code == DEFAULT_SHIPPED_CODE:
            return RuleSet.objects.create(
                code=spec.code,
                title=spec.title,
                effective_from=spec.effective_from,
                data=spec.as_data(),
                shipped=True,
            )
    return None


def ruleset_schedule(*, actor: User, data: dict[str, Any], effective_from: dt.date) -> RuleSet:
    """An operator's new rule set, in force from ``effective_from`` — never before tomorrow:
    a change is never retroactive."""
    if effective_from <= business_day():
        raise ValidationFailed({"effective_from": _("新规则只能从明天或以后生效。")})
    try:
        spec = scoring.parse(
            {**data, "ruleset": {**data.get("ruleset", {}), "effective_from": effective_from}}
        )
    except scoring.RuleSetInvalid as exc:
        raise ValidationFailed({"rules": str(exc)}) from exc
    with transaction.atomic():
        if RuleSet.objects.filter(effective_from=effective_from).exists():
            raise ValidationFailed({"effective_from": _("该日期已有生效的规则。")})
        return RuleSet.objects.create(
            code=spec.code,
            title=spec.title,
            effective_from=effective_from,
            data=spec.as_data(),
            created_by=actor,
        )


CounterKey = tuple[int, str, dt.date, str]


def counters_expected() -> dict[CounterKey, tuple[int, int]]:
    """The counters as the ledger says they must be: ``(points, occurrences)`` per key.

    Reads the whole ledger in id order (streamed); each entry counts towards the keys its rule
    had on its day. Reversals subtract points and add no occurrence.
    """
    expected: dict[CounterKey, tuple[int, int]] = {}
    specs: dict[dt.date, scoring.RuleSetSpec | None] = {}
    for entry in LedgerEntry.objects.order_by("id").iterator(chunk_size=5000):
        if entry.day not in specs:
            found = ruleset_in_force(entry.day)
            specs[entry.day] = found[1] if found else None
        spec = specs[entry.day]
        rule_spec = spec.rule(entry.rule) if spec else None
        keys = (
            _counter_keys(rule_spec, entry.day)
            if rule_spec
            else [(CounterPeriod.DAY, entry.day, entry.rule)]
        )
        for period, start, key in keys:
            points, occurrences = expected.get((entry.member_id, period, start, key), (0, 0))
            expected[(entry.member_id, period, start, key)] = (
                points + entry.points,
                occurrences + (1 if entry.points > 0 else 0),
            )
    return expected


def counters_compare() -> list[tuple[CounterKey, tuple[int, int], tuple[int, int]]]:
    """Every key whose counter differs from the ledger: ``(key, ledger says, counter says)``."""
    expected = counters_expected()
    actual = {
        (c.member_id, c.period, c.start, c.key): (c.points, c.occurrences)
        for c in Counter.objects.all().iterator(chunk_size=5000)
        if c.points or c.occurrences
    }
    return [
        (key, expected.get(key, (0, 0)), actual.get(key, (0, 0)))
        for key in sorted(set(expected) | set(actual))
        if expected.get(key, (0, 0)) != actual.get(key, (0, 0))
    ]


def counters_rebuild() -> int:
    """Replace every counter by what the ledger says (run with awards stopped). Returns rows."""
    expected = counters_expected()
    with transaction.atomic():
        Counter.objects.all().delete()
        Counter.objects.bulk_create(
            [
                Counter(member_id=m, period=p, start=s, key=k, points=pts, occurrences=occ)
                for (m, p, s, k), (pts, occ) in expected.items()
            ],
            batch_size=5000,
        )
    return len(expected)
