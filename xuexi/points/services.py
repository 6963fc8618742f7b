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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core import ratelimit
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day, now, seconds_until_next_business_day
from xuexi.organizations.models import Membership, Organization, Role
from xuexi.organizations.scope import AdminScope
from xuexi.points import scoring
from xuexi.points.models import Counter, CounterPeriod, LedgerEntry, RuleSet
from xuexi.points.rankings import rankings_record
from xuexi.points.selectors import ruleset_in_force, week_start
from xuexi.points.signals import ledger_written

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


CounterKey3 = tuple[str, dt.date, str]


@dataclass
class LockedCounter:
    """A counter row as locked for an award (the batched path adds to it as it goes)."""

    id: int
    points: int
    occurrences: int


@dataclass(frozen=True)
class Price:
    """What one action earns against the counters: ``raw`` before caps, ``room`` after (what
    is paid when positive), and why it pays nothing when it does not."""

    raw: int
    room: int
    reason: str = ""


def _price(
    spec: scoring.RuleSetSpec,
    rule_spec: scoring.RuleSpec,
    counters: Mapping[CounterKey3, LockedCounter],
    *,
    day: dt.date,
    at: dt.datetime,
    occurrences: int,
    units: int,
    outcome: str | None,
) -> Price:
    """Price an action under its rule and the member's locked counters (pure)."""
    rule = rule_spec.code
    raw = rule_spec.raw_points(
        moment=at.astimezone(BUSINESS_TZ).time(),
        index=counters[(CounterPeriod.DAY, day, rule)].occurrences + 1,
        occurrences=occurrences,
        units=units,
        outcome=outcome,
    )
    if raw <= 0:
        return Price(raw, 0, "first_n" if rule_spec.first_n is not None else "nothing_earned")
    room = raw
    daily_cap = spec.daily_cap_of(rule_spec)
    if daily_cap is not None:
        key = f"group:{rule_spec.cap_group}" if rule_spec.cap_group else rule
        room = min(room, daily_cap - counters[(CounterPeriod.DAY, day, key)].points)
    if rule_spec.weekly_cap is not None:
        room = min(
            room,
            rule_spec.weekly_cap - counters[(CounterPeriod.WEEK, week_start(day), rule)].points,
        )
    if room <= 0:
        return Price(raw, 0, "capped")
    return Price(raw, room, "capped" if room < raw else "")


@dataclass(frozen=True)
class Source:
    """What an award is for: the ledger's one-award-per-source key, less the member."""

    rule: str
    type: str
    id: str


def _lock_counters(
    member_id: int, keys: list[CounterKey3], paid: Source | None = None
) -> tuple[dict[CounterKey3, LockedCounter], bool]:
    """The member's counter rows for ``keys``, created if missing and locked; and whether the
    ledger already holds an entry for ``paid`` — all in one statement.

    ``INSERT … ON CONFLICT DO UPDATE`` locks the row it finds or makes and returns its latest
    version; the rows are given in key order, so two awards never wait on each other in a
    cycle. (One round trip where ``bulk_create``, a ``SELECT … FOR UPDATE`` per key and a
    duplicate check took three to five.) The duplicate answer is read from the statement's
    snapshot, which on PostgreSQL may predate a lock wait: a replay racing its original can be
    told "capped" instead of "duplicate" here, and is refused by the ledger's unique constraint
    when there is room — it never pays.
    """
    quote = connection.ops.quote_name
    table = quote(Counter._meta.db_table)
    columns = ", ".join(quote(c) for c in ("member_id", "period", "start", "key"))
    values = ", ".join(["(%s, %s, %s, %s, 0, 0)"] * len(keys))
    params: list[Any] = []
    for period, start, key in keys:
        params += [member_id, period, connection.ops.adapt_datefield_value(start), key]
    exists = "0"
    if paid is not None:
        exists = (
            f"(SELECT COUNT(*) FROM {quote(LedgerEntry._meta.db_table)} "  # noqa: S608
            f"WHERE member_id = %s AND {quote('rule')} = %s AND source_type = %s "
            f"AND source_id = %s)"
        )
        params += [member_id, paid.rule, paid.type, paid.id]
    statement = (
        f"INSERT INTO {table} ({columns}, points, occurrences) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({columns}) DO UPDATE SET occurrences = {table}.occurrences "
        f"RETURNING id, period, {quote('key')}, points, occurrences, {exists}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    # (period, key) is unique among one award's keys: a day key, a group key, a week key.
    found = {
        (period, key): LockedCounter(pk, points, occ) for pk, period, key, points, occ, _ in rows
    }
    locked = {(period, start, key): found[(period, key)] for period, start, key in keys}
    return locked, bool(rows[0][5])


_LEDGER_FIELDS = (
    "member_id",
    "rule",
    "points",
    "day",
    "at",
    "source_type",
    "source_id",
    "ruleset_id",
    "note",
)


def _append_entry(entry: LedgerEntry, counter_ids: list[int]) -> None:
    """Insert ``entry`` with the member's current organisation, and add its points and one
    occurrence to the (locked) counters ``counter_ids``.

    On PostgreSQL one statement (a data-modifying ``WITH``), elsewhere two. The organisation
    is read inside the statement, not looked up before: one round trip fewer per award.
    """
    quote = connection.ops.quote_name
    ops = connection.ops
    values = [getattr(entry, field) for field in _LEDGER_FIELDS]
    values[3] = ops.adapt_datefield_value(entry.day)
    values[4] = ops.adapt_datetimefield_value(entry.at)
    ledger = quote(LedgerEntry._meta.db_table)
    fields = ", ".join(quote(f) for f in _LEDGER_FIELDS)
    insert = (
        f"INSERT INTO {ledger} ({fields}, organization_id) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(values))}, "
        f"(SELECT organization_id FROM {quote(Membership._meta.db_table)} "
        f"WHERE user_id = %s AND ended_at IS NULL LIMIT 1) "
        f"RETURNING id, organization_id"
    )
    counters = quote(Counter._meta.db_table)
    in_ids = ", ".join(["%s"] * len(counter_ids))
    bump = (
        f"UPDATE {counters} SET points = points + %s, occurrences = occurrences + 1 "  # noqa: S608
        f"WHERE id IN ({in_ids})"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH entry AS ({insert}), bump AS ({bump}) "  # noqa: S608
                "SELECT id, organization_id FROM entry",
                [*values, entry.member_id, entry.points, *counter_ids],
            )
            entry.pk, entry.organization_id = cursor.fetchone()
        else:
            cursor.execute(insert, [*values, entry.member_id])
            entry.pk, entry.organization_id = cursor.fetchone()
            cursor.execute(bump, [entry.points, *counter_ids])
    entry._state.adding = False


def _is_replay(error: IntegrityError) -> bool:
    """The ledger's one-award-per-source constraint refused the entry (PostgreSQL names the
    constraint, SQLite the table's columns)."""
    message = str(error)
    return "one_award_per_source" in message or (
        "UNIQUE" in message and f"{LedgerEntry._meta.db_table}.source_id" in message
    )


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
    """Pay ``member`` for one action under the rule set of its day; see the module docstring.

    Two statements in one transaction on PostgreSQL (lock the counters and check for a
    replay; append the entry and add to the counters), three on SQLite.
    """
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
            counters, already_paid = _lock_counters(
                member.pk, keys, Source(rule, source_type, source_id)
            )
            if already_paid:
                return Award(rule, 0, "duplicate")
            price = _price(
                spec,
                rule_spec,
                counters,
                day=day,
                at=at,
                occurrences=occurrences,
                units=units,
                outcome=outcome,
            )
            if price.room <= 0:
                return Award(rule, 0, price.reason)
            room = price.room
            entry = LedgerEntry(
                member_id=member.pk,
                rule=rule,
                points=room,
                day=day,
                at=at,
                source_type=source_type,
                source_id=source_id,
                ruleset_id=ruleset.pk,
                note=note[:200],
            )
            # A replay that the check above could not see yet (it raced its original) is
            # refused here by the ledger's unique constraint; the transaction rolls back.
            _append_entry(entry, [c.id for c in counters.values()])
            ledger_written.send(sender=LedgerEntry, days=frozenset((day,)))
            transaction.on_commit(lambda: rankings_record(entry), robust=True)
    except IntegrityError as error:
        if not _is_replay(error):
            raise
        return Award(rule, 0, "duplicate")
    return Award(rule, room, price.reason, entry.pk)


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
        ledger_written.send(sender=LedgerEntry, days=frozenset((entry.day,)))
        transaction.on_commit(lambda: rankings_record(reversal), robust=True)
        found = ruleset_in_force(entry.day)
        rule_spec = found[1].rule(entry.rule) if found else None
        keys = (
            _counter_keys(rule_spec, entry.day)
            if rule_spec
            else [(CounterPeriod.DAY, entry.day, entry.rule)]
        )
        locked, _ = _lock_counters(entry.member_id, keys)
        Counter.objects.filter(pk__in=[c.id for c in locked.values()]).update(
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


def ruleset_schedule(
    *,
    actor: User,
    data: dict[str, Any],
    effective_from: dt.date,
    note: str = "",
    source: RuleSet | None = None,
    ip: str | None = None,
) -> RuleSet:
    """A platform operator's new rule set, in force from ``effective_from`` — never before
    tomorrow: a change is never retroactive. Audited under the operator's root node, with the
    full rules (and the set it was made from, and the operator's note)."""
    root_id = ruleset_editor_root_id(actor)
    if root_id is None:
        raise Forbidden(_("只有平台运营人员可以修改积分规则。"))
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
        if RuleSet.objects.filter(code=spec.code).exists():
            raise ValidationFailed({"code": _("该编号已被使用。")})
        ruleset = RuleSet.objects.create(
            code=spec.code,
            title=spec.title,
            effective_from=effective_from,
            data=spec.as_data(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="ruleset.schedule",
            target=ruleset,
            organization=Organization.objects.get(pk=root_id),
            after={
                "code": ruleset.code,
                "title": ruleset.title,
                "effective_from": ruleset.effective_from,
                "daily_max": spec.daily_max(),
                "source": source.code if source else "",
                "note": note,
                "data": ruleset.data,
            },
            ip=ip,
        )
    return ruleset


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


# --- operators' rule sets: who may change them, and withdrawing a scheduled one ----------------


def ruleset_editor_root_id(user: User) -> int | None:
    """The id of the root node on which ``user`` is an operator (the platform-wide operator
    role), or None: only such operators schedule and withdraw rule sets, which apply to
    everyone. Their audit entries are filed under that root."""
    for grant in AdminScope.of(user).grants:
        if grant.role == Role.OPERATOR and len(grant.path) == Organization.steplen:
            return grant.organization_id
    return None


def user_can_edit_rulesets(user: User) -> bool:
    return ruleset_editor_root_id(user) is not None


def ruleset_withdrawable(ruleset: RuleSet, *, today: dt.date | None = None) -> bool:
    """An operator's set not yet in force (its date after today) may be withdrawn; a shipped
    set, or one in force or past, never: a change is never retroactive."""
    return not ruleset.shipped and ruleset.effective_from > (today or business_day())


def ruleset_withdraw(*, actor: User, ruleset: RuleSet, ip: str | None = None) -> None:
    """Delete a scheduled rule set before its date, with an audit entry holding what it was;
    one transaction, the row locked so that two withdrawals cannot both pass the checks.
    Raises ``Forbidden`` for anyone but a platform operator, ``Conflict`` for a shipped set or
    one already in force (or past), ``NotFound`` if it is already gone."""
    root_id = ruleset_editor_root_id(actor)
    if root_id is None:
        raise Forbidden(_("只有平台运营人员可以撤回积分规则。"))
    with transaction.atomic():
        locked = RuleSet.objects.select_for_update().filter(pk=ruleset.pk).first()
        if locked is None:
            raise NotFound(_("找不到该积分规则，可能已被撤回。"))
        if locked.shipped:
            raise Conflict(_("随系统发布的积分规则不能撤回。"), code="ruleset_shipped")
        if not ruleset_withdrawable(locked):
            raise Conflict(_("已经生效或已停用的积分规则不能撤回。"), code="ruleset_in_force")
        if LedgerEntry.objects.filter(ruleset=locked).exists():  # never, for a future set
            raise Conflict(_("已有积分按这套规则记入，不能撤回。"), code="ruleset_used")
        audit_record(
            actor=actor,
            action="ruleset.withdraw",
            target=locked,
            organization=Organization.objects.get(pk=root_id),
            before={
                "code": locked.code,
                "title": locked.title,
                "effective_from": locked.effective_from,
                "data": locked.data,
            },
            ip=ip,
        )
        locked.delete()
