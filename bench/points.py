"""The points benchmark: awards per second through ``points_award`` beside plain capped upserts,
and ranking reads beside ``count(*)``.

    python -m bench.points --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench \\
        [--redis-url redis://127.0.0.1:6379/14] [--threads 2,4] [--members 600] [--repeat 3]

Runs against a database made by ``bench.generate``; installs the shipped default rule set when
the database has none. Two parts:

**Awards.** N worker threads (``--threads``), each with its own database connection and its
own members (distinct between threads, never used by an earlier run), call ``points_award``
one award per transaction, durable commits, caps and idempotency on. Every member gets the
same eight calls, as one learner's morning: login, three reading sessions (the second is
trimmed by the daily cap of 12, the third pays nothing), the daily quiz, a video, a
four-player game, and the login again (a duplicate). The anchor is the same sequence of
(member, day, rule) from the same number of threads, each call one autocommitted
``INSERT … ON CONFLICT … DO UPDATE SET points = LEAST(points + new, cap)`` on a plain table
``bench_counter`` through psycopg. The table gives calls per second (median of ``--repeat``
runs after one warm-up), the ratio service / anchor and the latency of one call. The awards
run with the ranking day below already in the ledger, and with ``--redis-url`` Redis is the
cache and the rankings store as in production (each committed award is counted in the
Redis rankings); without, the local memory cache and database rankings.

**Batched awards.** The same requests through ``points_award_batch``, ``BATCH`` (500) a call,
beside the same requests pre-aggregated per (member, rule) in Python and written as one
autocommitted ``INSERT … SELECT … FROM unnest(…) ON CONFLICT DO UPDATE`` a batch on
``bench_counter``. Latencies of these two rows are per batch.

**Rankings.** One day of ledger entries for the whole bench province, yesterday, sized as
PRODUCT.md §5's 40 M learning events a day times the scale, is written with ``COPY``; then
``xuexi.points.rankings.ranking_members`` (top 100, how many are ranked, the viewer's own rank)
for the median city and for the province, and ``ranking_organizations`` of the province's
cities, on the database backend and, with ``--redis-url``, on Redis (after a timed rebuild of
the day's sorted sets). Ratios are to ``SELECT count(*)`` of the membership table. Without
``xuexi/points/rankings.py`` this part says that it waits for it.

Everything written is removed at the end, also after a failure: the bench's ledger entries
(``source_type`` ``bench-…``) and the counters, ``bench_counter``, the ranking keys in Redis.
The bench refuses to start when the ledger holds entries it did not write.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from bench import common
from bench.common import Measure, machine, print_table
from bench.organizations import median_by_expected

if TYPE_CHECKING:
    from xuexi.accounts.models import User
    from xuexi.organizations.models import Organization
    from xuexi.points.scoring import RuleSetSpec

REPEAT = 3
THREADS = (2, 4)
MEMBERS_PER_RUN = 600  # × 8 calls = 4,800 calls per run
AWARD_SOURCE = "bench-award"
DAY_SOURCE = "bench-day"
FULL_EVENTS_PER_DAY = 40_000_000  # PRODUCT.md §5, for 5.4 M members
ACTIVE_SHARE = 0.7  # registered members who learn on the ranking day
SLOW_SECONDS = 5.0  # a measure whose warm-up takes longer is timed once, not ``--repeat`` times
ANCHOR_TABLE = "bench_counter"
BATCH = 500  # award requests per points_award_batch call (62 members' mornings and a half)
BATCH_ANCHOR = "anchor: one unnest upsert a batch"


@dataclass(frozen=True)
class Step:
    """One call of a member's sequence: the arguments ``points_award`` takes."""

    rule: str
    source: str
    occurrences: int = 1
    units: int = 0
    outcome: str | None = None


SEQUENCE: tuple[Step, ...] = (
    Step("login", "login"),
    Step("chosen_reading", "article-1", units=6),
    Step("chosen_reading", "article-2", units=6),  # trimmed to the cap of 12
    Step("chosen_reading", "article-3", units=6),  # capped: pays nothing, writes nothing
    Step("daily_quiz", "quiz-1", units=4, outcome="partial"),
    Step("watch_video", "video-1"),
    Step("four_player", "game-1", outcome="win"),
    Step("login", "login"),  # the same source again: a duplicate
)


# --- the bench database's points tables ---------------------------------------------------


def ruleset_ready() -> tuple[int, RuleSetSpec]:
    """The rule set in force today, installing the shipped default when there is none."""
    from xuexi.core.time import business_day
    from xuexi.points.selectors import ruleset_in_force
    from xuexi.points.services import rulesets_install_default

    installed = rulesets_install_default()
    if installed is not None:
        print(f"bench.points: installed the default rule set {installed.code}", flush=True)
    found = ruleset_in_force(business_day())
    if found is None:
        raise SystemExit("no rule set in force today in the bench database")
    return found[0].pk, found[1]


def refuse_foreign_entries() -> None:
    """Stop unless every ledger entry of the bench database was written by this benchmark."""
    from django.db import connection

    from xuexi.points.models import LedgerEntry

    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor:
        # The table name comes from the model, not from input.
        cursor.execute(
            f"SELECT count(*) FROM {table} WHERE source_type NOT LIKE %s",  # noqa: S608
            ["bench-%"],
        )
        foreign = int(cursor.fetchone()[0])
    if foreign:
        raise SystemExit(
            f"the bench database's ledger holds {foreign:,} entries the benchmark did not write: "
            "regenerate it (python -m bench.generate) rather than let the benchmark delete them"
        )


def clean_up(url: str, redis_url: str) -> None:
    """Remove what the benchmark wrote: its ledger entries, every counter (the ledger holds
    nothing else, see ``refuse_foreign_entries``), the anchor table and the ranking keys."""
    from xuexi.points.models import Counter, LedgerEntry

    ledger, counters = LedgerEntry._meta.db_table, Counter._meta.db_table
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        ours = sql.SQL("FROM {} WHERE source_type LIKE %s").format(sql.Identifier(ledger))
        row = conn.execute(sql.SQL("SELECT count(*) ") + ours, ["bench-%"]).fetchone()
        deleted = int(row[0]) if row else 0
        empty = _empty_referencing_tables(conn, ledger, counters)
        if empty is not None:
            # Every row of both tables is ours and nothing references them: TRUNCATE is
            # instant where a DELETE of two million entries and its VACUUM take half a minute.
            # The (empty) referencing tables are named, not CASCADEd to: should anything
            # reference those, PostgreSQL refuses rather than empty it.
            tables = [ledger, counters, *empty]
            conn.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
            )
        else:
            conn.execute(sql.SQL("DELETE ") + ours, ["bench-%"])
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(counters)))
            conn.execute(
                sql.SQL("VACUUM ANALYZE {}, {}").format(
                    sql.Identifier(ledger), sql.Identifier(counters)
                )
            )
        conn.execute(f"DROP TABLE IF EXISTS {ANCHOR_TABLE}")
    forgotten = 0
    if redis_url:
        from xuexi.points import rankings

        forgotten = rankings.rankings_forget()
    print(
        f"\nbench.points: cleaned up {deleted:,} ledger entries, the counters, {ANCHOR_TABLE}"
        f"{f' and {forgotten:,} ranking keys' if redis_url else ''} "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _empty_referencing_tables(
    conn: psycopg.Connection[Any], ledger: str, counters: str
) -> list[str] | None:
    """The (empty) tables with a foreign key to the ledger or the counters, when the ledger
    holds only the bench's entries and those tables are empty; otherwise None."""
    row = conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE source_type NOT LIKE %s)").format(
            sql.Identifier(ledger)
        ),
        ["bench-%"],
    ).fetchone()
    if row is None or row[0]:
        return None
    referencing = conn.execute(
        """SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
           WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])
             AND conrelid <> ALL(%s::regclass[])""",
        [[ledger, counters], [ledger, counters]],
    ).fetchall()
    for (table,) in referencing:
        found = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()
        if found is None or found[0]:
            return None
    return [table for (table,) in referencing]


# --- awards ---------------------------------------------------------------------------------


@dataclass
class Run:
    """One timed run: ``calls`` calls from ``threads`` threads in ``seconds``."""

    calls: int
    seconds: float
    latencies: list[float]
    outcomes: Tally[str]

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def threaded(
    chunks: Sequence[Sequence[int]],
    prepare: Callable[[Sequence[int]], Any],
    work: Callable[[Any, list[float], Tally[str]], None],
    finish: Callable[[Any], None],
) -> Run:
    """One thread per chunk of members: ``prepare`` (connect, load) untimed, then all start
    together at a barrier and the clock runs until the last one finishes."""
    barrier = threading.Barrier(len(chunks) + 1)
    latencies: list[list[float]] = [[] for _ in chunks]
    outcomes: list[Tally[str]] = [Tally() for _ in chunks]
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        state = None
        try:
            state = prepare(chunks[index])
            barrier.wait()
            work(state, latencies[index], outcomes[index])
        except BaseException as exc:  # reported below: a thread must not die silently
            errors.append(exc)
            barrier.abort()
        finally:
            finish(state)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(len(chunks))]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a thread failed: reported below
        barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:  # the cause, not the broken barrier it left the other threads with
        raise next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )
    total = Tally[str]()
    for tally in outcomes:
        total.update(tally)
    flat = [latency for chunk in latencies for latency in chunk]
    return Run(sum(total.values()), seconds, flat, total)  # a batch has one latency, many calls


def service_runner(
    at: dt.datetime,
) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]:
    """``points_award`` for each member's ``SEQUENCE``, on the thread's own Django connection."""
    from django.db import connection, connections

    from xuexi.accounts.models import User
    from xuexi.points.services import points_award

    day = at.date().isoformat()

    def prepare(members: Sequence[int]) -> list[User]:
        users = list(User.objects.filter(pk__in=members).order_by("pk"))  # a request has its user
        connection.ensure_connection()
        return users

    def work(users: list[User], latencies: list[float], outcomes: Tally[str]) -> None:
        for user in users:
            for step in SEQUENCE:
                started = time.perf_counter()
                award = points_award(
                    member=user,
                    rule=step.rule,
                    source_type=AWARD_SOURCE,
                    source_id=f"{day}-{step.source}",
                    at=at,
                    occurrences=step.occurrences,
                    units=step.units,
                    outcome=step.outcome,
                )
                latencies.append(time.perf_counter() - started)
                outcomes[award.reason or "paid"] += 1

    def finish(_state: object) -> None:
        connections.close_all()

    return prepare, work, finish


def anchor_runner(
    url: str, at: dt.datetime, spec: RuleSetSpec
) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]:
    """The same calls as one plain capped upsert each, autocommitted, through psycopg."""
    day = at.date()
    upsert = (
        f"INSERT INTO {ANCHOR_TABLE} (member_id, day, key, points)"  # noqa: S608 - a constant
        " VALUES (%s, %s, %s, LEAST(%s, %s)) ON CONFLICT (member_id, day, key) DO UPDATE"
        f" SET points = LEAST({ANCHOR_TABLE}.points + EXCLUDED.points, %s)"
    )
    priced = []
    for step in SEQUENCE:
        rule = spec.rule(step.rule)
        cap = spec.daily_cap_of(rule) if rule else None
        raw = (
            rule.raw_points(
                moment=at.time(),
                index=1,
                occurrences=step.occurrences,
                units=step.units,
                outcome=step.outcome,
            )
            if rule
            else 0
        )
        priced.append((step.rule, raw, cap if cap is not None else 1_000_000))

    def prepare(members: Sequence[int]) -> tuple[psycopg.Connection[Any], Sequence[int]]:
        return psycopg.connect(url, autocommit=True), members

    def work(
        state: tuple[psycopg.Connection[Any], Sequence[int]],
        latencies: list[float],
        outcomes: Tally[str],
    ) -> None:
        conn, members = state
        with conn.cursor() as cursor:
            for member in members:
                for key, raw, cap in priced:
                    started = time.perf_counter()
                    cursor.execute(upsert, (member, day, key, raw, cap, cap))
                    latencies.append(time.perf_counter() - started)
                    outcomes["upsert"] += 1

    def finish(state: tuple[psycopg.Connection[Any], Sequence[int]] | None) -> None:
        if state is not None:
            state[0].close()

    return prepare, work, finish


def _requests(members: Sequence[int], at: dt.datetime) -> list[Any]:
    """Every member's ``SEQUENCE`` as ``AwardRequest`` rows, member by member."""
    from xuexi.points.batch import AwardRequest

    day = at.date().isoformat()
    return [
        AwardRequest(
            member,
            step.rule,
            AWARD_SOURCE,
            f"{day}-{step.source}",
            at,
            occurrences=step.occurrences,
            units=step.units,
            outcome=step.outcome,
        )
        for member in members
        for step in SEQUENCE
    ]


def _batches(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for first in range(0, len(rows), BATCH):
        yield rows[first : first + BATCH]


def batch_service_runner(
    at: dt.datetime,
) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]:
    """``points_award_batch`` over the members' sequences, ``BATCH`` requests a call."""
    from django.db import connection, connections

    from xuexi.points.batch import points_award_batch

    def prepare(members: Sequence[int]) -> list[Any]:
        connection.ensure_connection()
        return _requests(sorted(members), at)

    def work(requests: list[Any], latencies: list[float], outcomes: Tally[str]) -> None:
        for batch in _batches(requests):
            started = time.perf_counter()
            awards = points_award_batch(batch)
            latencies.append(time.perf_counter() - started)
            outcomes.update(award.reason or "paid" for award in awards)

    def finish(_state: object) -> None:
        connections.close_all()

    return prepare, work, finish


def batch_anchor_runner(
    url: str, at: dt.datetime, spec: RuleSetSpec
) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]:
    """The same requests, ``BATCH`` at a time, each batch pre-aggregated per (member, rule)
    in Python and written as one autocommitted ``INSERT … SELECT unnest(…) ON CONFLICT``."""
    day = at.date()
    upsert = (
        f"INSERT INTO {ANCHOR_TABLE} (member_id, day, key, points, cap)"  # noqa: S608 - a constant
        " SELECT m, %s, k, LEAST(p, c), c FROM unnest(%s::bigint[], %s::text[], %s::int[],"
        " %s::int[]) AS u(m, k, p, c) ON CONFLICT (member_id, day, key) DO UPDATE"
        f" SET points = LEAST({ANCHOR_TABLE}.points + EXCLUDED.points, EXCLUDED.cap)"
    )

    def price(request: Any) -> tuple[int, int]:
        rule = spec.rule(request.rule)
        if rule is None:
            return 0, 0
        cap = spec.daily_cap_of(rule)
        raw = rule.raw_points(
            moment=at.time(),
            index=1,
            occurrences=request.occurrences,
            units=request.units,
            outcome=request.outcome,
        )
        return raw, cap if cap is not None else 1_000_000

    def prepare(members: Sequence[int]) -> tuple[psycopg.Connection[Any], list[Any]]:
        return psycopg.connect(url, autocommit=True), _requests(sorted(members), at)

    def work(
        state: tuple[psycopg.Connection[Any], list[Any]],
        latencies: list[float],
        outcomes: Tally[str],
    ) -> None:
        conn, requests = state
        with conn.cursor() as cursor:
            for batch in _batches(requests):
                started = time.perf_counter()
                summed: dict[tuple[int, str], list[int]] = {}
                for request in batch:
                    raw, cap = price(request)
                    row = summed.setdefault((request.member_id, request.rule), [0, cap])
                    row[0] += raw
                keys, rows = list(summed), list(summed.values())
                cursor.execute(
                    upsert,
                    (
                        day,
                        [member for member, _ in keys],
                        [rule for _, rule in keys],
                        [points for points, _ in rows],
                        [cap for _, cap in rows],
                    ),
                )
                latencies.append(time.perf_counter() - started)
                outcomes["upsert"] += len(batch)

    def finish(state: tuple[psycopg.Connection[Any], list[Any]] | None) -> None:
        if state is not None:
            state[0].close()

    return prepare, work, finish


class OfRuns:
    """What a measure's timed ``runs`` come to: the median rate, latencies, all outcomes."""

    runs: list[Run]

    @property
    def rate(self) -> float:
        return statistics.median(run.rate for run in self.runs)

    def latency_ms(self, quantile: float) -> float:
        values = sorted(latency for run in self.runs for latency in run.latencies)
        return values[min(len(values) - 1, int(quantile * len(values)))] * 1000

    @property
    def outcomes(self) -> Tally[str]:
        total = Tally[str]()
        for run in self.runs:
            total.update(run.outcomes)
        return total


@dataclass(frozen=True)
class AwardResult(OfRuns):
    name: str
    threads: int
    runs: list[Run]


def bench_awards(
    url: str,
    spec: RuleSetSpec,
    members: list[int],
    threads: Sequence[int],
    per_run: int,
    times: int,
) -> list[AwardResult]:
    from django.db import connection

    from xuexi.core.time import now

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ANCHOR_TABLE} (member_id bigint NOT NULL,"
            " day date NOT NULL, key varchar(40) NOT NULL, points integer NOT NULL,"
            " cap integer, PRIMARY KEY (member_id, day, key))"
        )
    at = now()
    pool = iter(members)

    def fresh(count: int, parts: int) -> list[list[int]]:
        """``count`` members never used before in this run, split between ``parts`` threads."""
        chosen = [next(pool) for _ in range(count)]
        return [chosen[i::parts] for i in range(parts)]

    results = []
    for n in threads:
        for name, runner in (
            ("anchor: capped upsert, psycopg", anchor_runner(url, at, spec)),
            ("points_award", service_runner(at)),
            (BATCH_ANCHOR, batch_anchor_runner(url, at, spec)),
            (f"points_award_batch ({BATCH} a call)", batch_service_runner(at)),
        ):
            threaded(fresh(per_run, n), *runner)  # warm-up
            runs = [threaded(fresh(per_run, n), *runner) for _ in range(times)]
            results.append(AwardResult(name, n, runs))
            print(
                f"  {name:<32} {n} threads: " + ", ".join(f"{run.rate:,.0f}/s" for run in runs),
                flush=True,
            )
    return results


def is_batched(name: str) -> bool:
    return name == BATCH_ANCHOR or name.startswith("points_award_batch")


def print_awards(results: Sequence[AwardResult], sizes: str) -> None:
    print(f"\nawards — {sizes}\n")
    anchors = {
        (r.name == BATCH_ANCHOR, r.threads): r.rate for r in results if r.name.startswith("anchor")
    }
    common.print_rates(
        results,
        lambda result: anchors[(is_batched(result.name), result.threads)],
        lambda result: ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())),
        "outcomes (all runs)",
    )


# --- rankings -------------------------------------------------------------------------------


def registered_members(url: str) -> list[tuple[int, int]]:
    """(member id, current organisation id) of every registered member, by id."""
    from xuexi.accounts.models import User
    from xuexi.organizations.models import Membership

    query = sql.SQL(
        "SELECT m.{user}, m.{org} FROM {memberships} m JOIN {users} u ON u.id = m.{user}"
        " WHERE m.ended_at IS NULL AND u.registered_at IS NOT NULL ORDER BY m.{user}"
    ).format(
        user=sql.Identifier(Membership._meta.get_field("user").column),
        org=sql.Identifier(Membership._meta.get_field("organization").column),
        memberships=sql.Identifier(Membership._meta.db_table),
        users=sql.Identifier(User._meta.db_table),
    )
    with psycopg.connect(url) as conn:
        return [(int(m), int(o)) for m, o in conn.execute(query).fetchall()]


def day_rows(
    members: Sequence[tuple[int, int]],
    entries: int,
    day: dt.date,
    ruleset_id: int,
    spec: RuleSetSpec,
) -> Iterator[str]:
    """COPY lines of one day's ledger: ``ACTIVE_SHARE`` of the members learn, ``entries`` rows
    in all, each active member's day total between 5 and the rule set's daily maximum."""
    rng = random.Random(20190101)  # bench data, reproducible on purpose
    rules = [code for code in spec.rules if code != "offline_activity"]
    active = [member for member in members if rng.random() < ACTIVE_SHARE]
    per_member = entries / max(1, len(active))
    most = spec.daily_max()
    stamp = day.isoformat()
    for member_id, organization_id in active:
        count = max(1, min(len(rules), round(rng.gauss(per_member, per_member / 3))))
        total = max(count, rng.randint(5, most))
        cuts = sorted(rng.sample(range(1, total), count - 1)) if count > 1 else []
        bounds = [0, *cuts, total]
        chosen = rng.sample(rules, count)
        for index in range(count):
            points = bounds[index + 1] - bounds[index]
            minute = 390 + (member_id * 7 + index * 13) % 960
            yield (
                f"{member_id}\t{chosen[index]}\t{points}\t{stamp}\t"
                f"{stamp} {minute // 60:02d}:{minute % 60:02d}:00+08\t{DAY_SOURCE}\t{index}\t"
                f"{ruleset_id}\t{organization_id}\t\n"
            )


def write_ranking_day(
    url: str,
    members: Sequence[tuple[int, int]],
    entries: int,
    day: dt.date,
    ruleset_id: int,
    spec: RuleSetSpec,
) -> tuple[int, float]:
    from xuexi.points.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    columns = (
        "member_id, rule, points, day, at, source_type, source_id, ruleset_id, organization_id,"
        " note"
    )
    started = time.perf_counter()
    written = 0
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # The rows are consistent by construction (ids read from the same database): skip the
        # per-row foreign-key triggers, as bench.generate drops the keys while it loads.
        cursor.execute("SET LOCAL session_replication_role = replica")
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            chunk: list[str] = []
            for line in day_rows(members, entries, day, ruleset_id, spec):
                chunk.append(line)
                if len(chunk) >= 20_000:
                    copy.write("".join(chunk))
                    written += len(chunk)
                    chunk = []
            copy.write("".join(chunk))
            written += len(chunk)
    with psycopg.connect(url, autocommit=True) as conn:
        # Hint bits, visibility map and statistics now, and the WAL of the load flushed by a
        # checkpoint: otherwise the first reads rewrite every page and the checkpoint lands
        # in the middle of the fsync-bound award runs.
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        conn.execute("CHECKPOINT")
    return written, time.perf_counter() - started


def timed(run: Callable[[], float], times: int) -> list[float]:
    """Warm up once; a measure slower than ``SLOW_SECONDS`` is then timed once, not ``times``."""
    first = run()
    return [run() for _ in range(1 if first > SLOW_SECONDS else times)]


def _ranked_sizes(page: Any, *, where: str) -> str:
    return f"{page.ranked:,} members ranked; {where}"


def bench_rankings(url: str, redis_url: str, day: dt.date, times: int) -> list[Measure]:
    from django.test.utils import override_settings

    from xuexi.organizations.models import Membership, Organization
    from xuexi.points import rankings
    from xuexi.points.models import LedgerEntry

    table = Membership._meta.db_table
    province = Organization.objects.get(kind="province")
    city = median_by_expected(list(Organization.objects.filter(kind="city")))

    results = common.Measures(partial(timed, times=times))
    add = results.add

    print("\nbench.points: rankings", flush=True)
    results.add_baseline(table)

    def viewer_in(node: Organization) -> User:
        """A member of the node with points that day, ranked in the middle."""
        from xuexi.accounts.models import User

        ranked = list(
            LedgerEntry.objects.filter(day=day, organization__path__startswith=node.path)
            .values_list("member_id", flat=True)
            .order_by("member_id")
            .distinct()[:1001]
        )
        return User.objects.get(pk=ranked[len(ranked) // 2])

    sizes = {}
    for label, node in (("city", city), ("province", province)):
        entries = LedgerEntry.objects.filter(
            day=day, organization__path__startswith=node.path
        ).count()
        sizes[label] = f"{entries:,} entries of the day ({node.name})"

    backends = [("database", "")] + ([("Redis", redis_url)] if redis_url else [])
    for backend, backend_url in backends:
        with override_settings(REDIS_URL=backend_url):
            if backend_url:
                started = time.perf_counter()
                try:
                    keys = rankings.rankings_rebuild(day, periods=("day",))
                except Exception as error:  # reported in the table; the run goes on
                    failed = time.perf_counter() - started
                    # The client gave up; Redis goes on executing the transaction and answers
                    # nobody (cache, channel layer) until it is done: wait, and say how long.
                    import redis

                    redis.Redis.from_url(backend_url, socket_timeout=None).ping()
                    blocked = time.perf_counter() - started - failed
                    results.append(
                        Measure(
                            "Redis: rebuild the day's sorted sets from the ledger",
                            [failed],
                            f"FAILED ({type(error).__name__}: {error}); Redis answered again "
                            f"{blocked:.1f} s later; no Redis reads",
                        )
                    )
                    print(f"  Redis rebuild failed: {error!r}", flush=True)
                    continue
                results.append(
                    Measure(
                        "Redis: rebuild the day's sorted sets from the ledger",
                        [time.perf_counter() - started],
                        f"{keys:,} keys (once, not repeated)",
                    )
                )
            for label, node in (("city", city), ("province", province)):
                where = sizes[label]
                add(
                    f"{backend}: member ranking, {label} (top 100 + own rank)",
                    partial(
                        rankings.ranking_members,
                        organization=node,
                        period="day",
                        day=day,
                        viewer=viewer_in(node),
                        limit=100,
                    ),
                    partial(_ranked_sizes, where=where),
                )
            add(
                f"{backend}: organisation ranking, the province's cities",
                partial(
                    rankings.ranking_organizations, organization=province, period="day", day=day
                ),
                lambda ranking: f"{len(ranking.rows)} cities; {sizes['province']}",
            )
    return results


# --- the run --------------------------------------------------------------------------------


def run(args: argparse.Namespace, meta: dict[str, Any]) -> None:
    from django.conf import settings

    from xuexi.core.time import business_day

    parts = set(args.only or ("awards", "rankings"))
    refuse_foreign_entries()
    clean_up(args.database_url, args.redis_url)  # leftovers of an interrupted run
    ruleset_id, spec = ruleset_ready()
    members = registered_members(args.database_url)
    yesterday = business_day() - dt.timedelta(days=1)
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    heading = (
        f"scale {meta.get('scale', '?')}: {meta.get('organizations', 0):,} organisations, "
        f"{meta.get('users', 0):,} users ({len(members):,} registered), "
        f"{meta.get('memberships', 0):,} memberships; rule set {spec.code}; cache {cache}; "
        f"{machine()}"
    )
    try:
        ledger_note = "empty ledger"
        if "rankings" in parts or "awards" in parts:
            entries = round(FULL_EVENTS_PER_DAY * float(meta.get("scale", 0.05)))
            written, took = write_ranking_day(
                args.database_url, members, entries, yesterday, ruleset_id, spec
            )
            ledger_note = f"{written:,} ledger entries for {yesterday} already in the ledger"
            print(
                f"bench.points: wrote {written:,} ledger entries for {yesterday} with COPY "
                f"in {took:.1f} s ({written / took:,.0f} rows/s with indexes and keys in place, "
                "VACUUM ANALYZE and CHECKPOINT included)",
                flush=True,
            )
        if "rankings" in parts:
            try:
                import xuexi.points.rankings  # noqa: F401
            except ImportError:
                print(
                    "\nrankings: xuexi/points/rankings.py is not there yet: this part waits for it"
                )
            else:
                results = bench_rankings(args.database_url, args.redis_url, yesterday, args.repeat)
                print_table(
                    results,
                    f"rankings of {yesterday} — {heading}; median of {args.repeat} after one "
                    f"warm-up (once when slower than {SLOW_SECONDS:.0f} s)",
                    ratio="× count(*)",
                )
        if "awards" in parts:
            print("\nbench.points: awards (calls/s of each timed run)", flush=True)
            rng = random.Random(7)  # which members, reproducibly
            pool = [member for member, _org in members]
            rng.shuffle(pool)
            results_awards = bench_awards(
                args.database_url, spec, pool, args.threads, args.members, args.repeat
            )
            print_awards(
                results_awards,
                f"{heading}; {args.members:,} fresh members × {len(SEQUENCE)} calls per run, "
                f"median of {args.repeat} runs after one warm-up; {ledger_note}",
            )
    finally:
        clean_up(args.database_url, args.redis_url)


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.bench_parser("bench.points", __doc__)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="also rank on Redis, which is then the cache too, as in production; give it a "
        "database of its own: the bench deletes every ranking key in it (default "
        "$BENCH_REDIS_URL; $REDIS_URL is ignored)",
    )
    common.add_run_options(
        parser,
        threads=THREADS,
        members=MEMBERS_PER_RUN,
        repeat=REPEAT,
        workers="concurrent award workers",
    )
    parser.add_argument("--only", choices=("awards", "rankings"), action="append")
    args = parser.parse_args(argv)
    meta = common.generated_data(parser, args.database_url)
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    common.django_ready(parser, args.database_url)
    run(args, meta)


if __name__ == "__main__":
    main(sys.argv[1:])
