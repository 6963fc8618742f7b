"""The batched path of ``points_award``: many awards in a few statements (ADR 0009).

At the province's peak (~5,000 awards/s, PRODUCT.md §5) one transaction per award costs more
than a small server carries; a producer that has many awards at hand (a worker draining queued
learning events, a settlement) passes them here and gets the same answers as calling
``points_award`` for each request in order:

- the same rule set of each action's Asia/Shanghai day, the same caps, the same pricing
  (``services._price``, shared), each request priced against the counters as the requests
  before it in the batch left them;
- the same source never pays twice, in the ledger or within the batch (checked under the
  counter locks; the ledger's unique constraint is the backstop: a batch that hits it fails
  whole and can be replayed as it is — nothing of it was written);
- the counter rows of every member of a chunk are locked in one statement, in the global order
  ``(member, period, start, key)`` that ``points_award`` also follows, so a batch and single
  awards never wait on each other in a cycle.

A chunk of at most ``CHUNK`` requests is one transaction of four statements (lock the counters,
find paid sources, append the entries, add to the counters), whatever the number of members:
on PostgreSQL each statement reads its rows from ``unnest`` of one array per column, elsewhere
from ``VALUES``. A chunk spans members, so a feeder that shards by member must form its batches
per shard; every row written still carries its member id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction

from xuexi.core.time import business_day
from xuexi.organizations.models import Membership
from xuexi.points import scoring
from xuexi.points.models import Counter, LedgerEntry, RuleSet
from xuexi.points.rankings import rankings_record_many
from xuexi.points.selectors import ruleset_in_force
from xuexi.points.services import (
    Award,
    CounterKey3,
    LockedCounter,
    _counter_keys,
    _price,
)
from xuexi.points.signals import ledger_written

CHUNK = 1000  # requests per transaction: ~12,000 parameters at most, under SQLite's 32,766

MemberKey = tuple[int, str, dt.date, str]  # (member, period, start, key)
SourceKey = tuple[int, str, str, str]  # (member, rule, source_type, source_id)


@dataclass(frozen=True)
class AwardRequest:
    """One call of ``points_award``, as data."""

    member_id: int
    rule: str
    source_type: str
    source_id: str | int
    at: dt.datetime
    occurrences: int = 1
    units: int = 0
    outcome: str | None = None
    note: str = ""

    def source(self) -> SourceKey:
        return (self.member_id, self.rule, self.source_type, str(self.source_id))


@dataclass(frozen=True)
class _Priceable:
    index: int
    request: AwardRequest
    day: dt.date
    ruleset: RuleSet
    spec: scoring.RuleSetSpec
    rule_spec: scoring.RuleSpec
    keys: list[CounterKey3]


def points_award_batch(requests: Sequence[AwardRequest]) -> list[Award]:
    """Award every request, in order; the answers are those of ``points_award`` one by one."""
    awards: list[Award] = []
    for first in range(0, len(requests), CHUNK):
        awards += _award_chunk(requests[first : first + CHUNK])
    return awards


def _award_chunk(requests: Sequence[AwardRequest]) -> list[Award]:
    answers: list[Award | None] = [None] * len(requests)
    priceable: list[_Priceable] = []
    for index, request in enumerate(requests):
        day = business_day(request.at)
        found = ruleset_in_force(day)
        rule_spec = found[1].rule(request.rule) if found else None
        if found is None:
            answers[index] = Award(request.rule, 0, "no_ruleset")
        elif rule_spec is None:
            answers[index] = Award(request.rule, 0, "no_rule")
        elif not rule_spec.scores_on(day):
            answers[index] = Award(request.rule, 0, "not_today")
        else:
            keys = _counter_keys(rule_spec, day)
            priceable.append(_Priceable(index, request, day, *found, rule_spec, keys))
    if priceable:
        with transaction.atomic():
            counters = _lock_counters(
                {(p.request.member_id, *key) for p in priceable for key in p.keys}
            )
            paid = _paid_sources({p.request.source() for p in priceable})
            entries: list[tuple[int, NewEntry, str]] = []
            changed: dict[int, LockedCounter] = {}
            for item in priceable:
                request = item.request
                if request.source() in paid:
                    answers[item.index] = Award(request.rule, 0, "duplicate")
                    continue
                mine = {key: counters[(request.member_id, *key)] for key in item.keys}
                price = _price(
                    item.spec,
                    item.rule_spec,
                    mine,
                    day=item.day,
                    at=request.at,
                    occurrences=request.occurrences,
                    units=request.units,
                    outcome=request.outcome,
                )
                if price.room <= 0:
                    answers[item.index] = Award(request.rule, 0, price.reason)
                    continue
                paid.add(request.source())
                for counter in mine.values():  # the next request of the member sees this one
                    counter.points += price.room
                    counter.occurrences += 1
                    changed[counter.id] = counter
                entry = NewEntry(
                    request.member_id,
                    request.rule,
                    price.room,
                    item.day,
                    request.at,
                    request.source_type,
                    str(request.source_id),
                    item.ruleset.pk,
                    request.note[:200],
                )
                entries.append((item.index, entry, price.reason))
            if entries:
                written = _append_entries([entry for _, entry, _ in entries])
                _add_to_counters(changed.values())
                ledger_written.send(
                    sender=LedgerEntry, days=frozenset(entry.day for _, entry, _ in entries)
                )
                transaction.on_commit(lambda: _record(written), robust=True)
                for index, entry, reason in entries:
                    pk = written[entry][0]
                    answers[index] = Award(entry.rule, entry.points, reason, pk)
    return [answer for answer in answers if answer is not None]


def _record(written: dict[NewEntry, tuple[int, int | None]]) -> None:
    """Count the committed entries in the rankings (as ``points_award`` does, after commit)."""
    rankings_record_many(
        [
            LedgerEntry(pk=pk, organization_id=organization_id, **entry._asdict())
            for entry, (pk, organization_id) in written.items()
        ]
    )


# --- statements over many rows -------------------------------------------------------------

_PG_TYPES = {
    "member_id": "bigint",
    "id": "bigint",
    "ruleset_id": "bigint",
    "points": "integer",
    "occurrences": "integer",
    "start": "date",
    "day": "date",
    "at": "timestamptz",
}


def _rows(
    name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """A ``WITH`` item ``name(columns)`` holding ``rows``, and its parameters: ``unnest`` of one
    typed array per column on PostgreSQL (a constant number of parameters), ``VALUES``
    elsewhere."""
    quote = connection.ops.quote_name
    head = f"{name}({', '.join(quote(c) for c in columns)})"
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{_PG_TYPES.get(c, 'text')}[]" for c in columns)
        columns_of_rows = [list(column) for column in zip(*rows, strict=True)]
        return f"{head} AS (SELECT * FROM unnest({arrays}))", columns_of_rows  # noqa: S608
    ops = connection.ops
    adapt = {
        "start": ops.adapt_datefield_value,
        "day": ops.adapt_datefield_value,
        "at": ops.adapt_datetimefield_value,
    }
    params = [
        adapt[column](value) if column in adapt else value
        for row in rows
        for column, value in zip(columns, row, strict=True)
    ]
    one = f"({', '.join(['%s'] * len(columns))})"
    return f"{head} AS (VALUES {', '.join([one] * len(rows))})", params


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _lock_counters(keys: set[MemberKey]) -> dict[MemberKey, LockedCounter]:
    """Create the missing counter rows and lock all of them, in ``(member, period, start,
    key)`` order, in one statement (``WHERE true``: SQLite's upsert after ``SELECT``)."""
    quote = connection.ops.quote_name
    table = quote(Counter._meta.db_table)
    columns = ("member_id", "period", "start", "key")
    listed = ", ".join(quote(c) for c in columns)
    source, params = _rows("wanted", columns, sorted(keys))
    statement = (
        f"WITH {source} INSERT INTO {table} ({listed}, points, occurrences) "  # noqa: S608
        f"SELECT {listed}, 0, 0 FROM wanted WHERE true ORDER BY {listed} "
        f"ON CONFLICT ({listed}) DO UPDATE SET occurrences = {table}.occurrences "
        f"RETURNING id, {listed}, points, occurrences"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return {
            (member, period, _as_date(start), key): LockedCounter(pk, points, occurrences)
            for pk, member, period, start, key, points, occurrences in cursor.fetchall()
        }


def _paid_sources(sources: set[SourceKey]) -> set[SourceKey]:
    """Which of ``sources`` the ledger already holds (read under the counter locks)."""
    quote = connection.ops.quote_name
    columns = ("member_id", "rule", "source_type", "source_id")
    source, params = _rows("asked", columns, sorted(sources))
    match = " AND ".join(f"l.{quote(c)} = asked.{quote(c)}" for c in columns)
    statement = (
        f"WITH {source} SELECT l.member_id, l.{quote('rule')}, l.source_type, l.source_id "  # noqa: S608
        f"FROM {quote(LedgerEntry._meta.db_table)} l JOIN asked ON {match}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return {(m, r, t, str(i)) for m, r, t, i in cursor.fetchall()}


class NewEntry(NamedTuple):
    """A ledger entry to append (a plain tuple: building 500 model instances a batch cost more
    than the statement that writes them)."""

    member_id: int
    rule: str
    points: int
    day: dt.date
    at: dt.datetime
    source_type: str
    source_id: str
    ruleset_id: int
    note: str


def _append_entries(entries: list[NewEntry]) -> dict[NewEntry, tuple[int, int | None]]:
    """Insert ``entries`` with each member's current organisation: their ids and
    organisations."""
    quote = connection.ops.quote_name
    listed = ", ".join(quote(c) for c in _LEDGER_COLUMNS)
    picked = ", ".join(f"new.{quote(c)}" for c in _LEDGER_COLUMNS)
    source, params = _rows("new", _LEDGER_COLUMNS, entries)
    statement = (
        f"WITH {source} INSERT INTO {quote(LedgerEntry._meta.db_table)} "  # noqa: S608
        f"({listed}, organization_id) SELECT {picked}, "
        f"(SELECT m.organization_id FROM {quote(Membership._meta.db_table)} m "
        f"WHERE m.user_id = new.member_id AND m.ended_at IS NULL LIMIT 1) FROM new WHERE true "
        f"RETURNING id, member_id, {quote('rule')}, source_type, source_id, organization_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        written = {(m, r, t, i): (pk, org) for pk, m, r, t, i, org in cursor.fetchall()}
    # One entry per source (checked under the locks): the source finds each entry's row.
    return {
        entry: written[(entry.member_id, entry.rule, entry.source_type, entry.source_id)]
        for entry in entries
    }


_LEDGER_COLUMNS = NewEntry._fields


def _add_to_counters(counters: Iterable[LockedCounter]) -> None:
    """Write the counters' new totals (they are locked: nobody else changed them)."""
    quote = connection.ops.quote_name
    table = quote(Counter._meta.db_table)
    rows = [(c.id, c.points, c.occurrences) for c in counters]
    source, params = _rows("totals", ("id", "points", "occurrences"), rows)
    statement = (
        f"WITH {source} UPDATE {table} SET points = totals.points, "  # noqa: S608
        f"occurrences = totals.occurrences FROM totals WHERE {table}.id = totals.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
