"""Rankings of members and of organisations inside any subtree, for a day, week, month or year.

Two backends give the same answers (``docs/rankings.md``):

- **database** (the embedded default): sums of ``LedgerEntry`` over the period's days, joined to
  the entry's organisation for the subtree (``organization.path`` prefix; the ledger is indexed
  on ``day, organization``);
- **Redis** (when ``settings.REDIS_URL`` is set): sorted sets per period, period start and
  node, kept up to date by ``rankings_record`` after every committed ledger entry and rebuilt
  from the ledger by ``rankings_rebuild`` when a period's keys are cold.

An entry counts for the organisation its member belonged to when he earned it (the entry's
``organization``), so a transfer never moves past points. Ties share a rank (1, 2, 2, 4); inside
a tie members are listed by descending id on both backends. Only members with more than zero
points in the period are ranked; every child organisation is listed, with zero if need be.

Personal rankings can be switched off (``RankingSetting``): by an operator for the whole
platform, by a main administrator for his node's subtree. The stricter setting wins.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import functools
import logging
import operator
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import redis
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Collate, Substr
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core.audit import audit_record
from xuexi.core.errors import Forbidden, NotFound, ValidationFailed
from xuexi.core.masking import mask_name
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.organizations.models import Membership, Organization, Role
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import children_with_counts
from xuexi.points.models import LedgerEntry, RankingSetting
from xuexi.points.selectors import week_start

logger = logging.getLogger(__name__)

Period = Literal["day", "week", "month", "year"]
Of = Literal["members", "organizations"]
By = Literal["total", "per_member"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "year")
TOP = 100

# Redis keys: "<prefix>:<period>:<start>:<m|o>:<node path>" and "<prefix>:<period>:<start>:ready".
# ``m`` holds member id → points inside the node's subtree, ``o`` child path → points.
# "<prefix>:periods" lists the periods marked ready ("<period>:<start>"); a rebuild fills its sets
# under "<prefix>:tmp:<build>:…" before renaming them over the live ones.
KEY_PREFIX = "xuexi:rk"
MEMBER_ID_WIDTH = 12  # zero-padded: equal scores then sort by id (lexicographic = numeric)
# Retention: how long a period's keys outlive the period (then a read rebuilds them from the
# ledger). Short on purpose: at province scale every period kept is another full copy of its
# sets (a year of 5.4 M members is tens of millions of sorted-set entries). Yesterday stays
# until tonight, last week until Tuesday, last month and last year for their first week.
RETENTION = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(days=2),
    "month": dt.timedelta(days=7),
    "year": dt.timedelta(days=7),
}
MIN_TTL = dt.timedelta(hours=1)
ZADD_CHUNK = 1000  # members per ZADD
# A rebuild writes at most this many members per MULTI/EXEC, so Redis is never busy with one
# for more than a few milliseconds (one transaction for a whole province outlasted the 5 s
# socket timeout in the benchmark, and blocked every other client meanwhile).
PIPELINE_MEMBERS = 10_000
KEYS_CHUNK = 500  # keys per UNLINK / per MULTI of partial updates
TEMP_TTL = dt.timedelta(hours=1)  # a rebuild that dies leaves its temporary keys this long
NIGHTLY_LOCK = dt.timedelta(hours=3)  # the longest a nightly run may hold off another
# The longest a cold period's rebuild may keep other readers of that period waiting (a full
# province day took 5.4 min on the benchmark machine, docs/benchmarks.md).
COLD_REBUILD_LOCK = dt.timedelta(minutes=30)
# A move whose repair touches more organisations than this is repaired by a Celery job rather
# than in the request that moved it.
REPAIR_INLINE_NODES = 200


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The period of kind ``period`` containing a day: ``start`` to ``end``, both inclusive."""

    period: Period
    start: dt.date
    end: dt.date


def period_span(period: str, day: dt.date) -> Span:
    """Day; week from Monday; calendar month; calendar year (all Asia/Shanghai days)."""
    if period == "day":
        return Span("day", day, day)
    if period == "week":
        start = week_start(day)
        return Span("week", start, start + dt.timedelta(days=6))
    if period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Span("month", day.replace(day=1), day.replace(day=last))
    if period == "year":
        return Span("year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    raise ValidationFailed({"period": _("统计周期须为 day、week、month 或 year。")})


# --- the two backends: raw numbers -----------------------------------------------------------


class _Database:
    """Sums over the ledger: one grouped query per question."""

    name = "database"

    @staticmethod
    def _entries(node: Organization, span: Span) -> QuerySet[LedgerEntry]:
        return LedgerEntry.objects.filter(
            day__gte=span.start, day__lte=span.end, organization__path__startswith=node.path
        )

    def _by_member(self, node: Organization, span: Span) -> QuerySet[Any]:
        return (
            self._entries(node, span)
            .values("member_id")
            .annotate(total=Sum("points"))
            .filter(total__gt=0)
        )

    def member_top(self, node: Organization, span: Span, limit: int) -> list[tuple[int, int]]:
        rows = self._by_member(node, span).order_by("-total", "-member_id")[:limit]
        return [(row["member_id"], int(row["total"])) for row in rows]

    def member_count(self, node: Organization, span: Span) -> int:
        return self._by_member(node, span).count()

    def member_position(
        self, node: Organization, span: Span, member_id: int
    ) -> tuple[int, int] | None:
        total = (
            self._entries(node, span)
            .filter(member_id=member_id)
            .aggregate(total=Sum("points"))["total"]
        )
        if not total or total <= 0:
            return None
        better = self._by_member(node, span).filter(total__gt=total).count()
        return better + 1, int(total)

    def child_totals(self, node: Organization, span: Span) -> dict[str, int]:
        width = len(node.path) + Organization.steplen
        rows = (
            self._entries(node, span)
            .exclude(organization_id=node.pk)
            .annotate(child_path=Substr("organization__path", 1, width))
            .values("child_path")
            .annotate(total=Sum("points"))
            .values_list("child_path", "total")
        )
        return {path: int(total or 0) for path, total in rows}


@functools.cache
@functools.cache
def _client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL for the process: a client per call would open a
    new connection for every award. redis-py's pool is thread-safe and starts afresh in a
    forked worker."""
    return redis.Redis.from_url(url, socket_timeout=5)


def redis_client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def _key(span: Span, kind: str, path: str) -> str:
    return f"{KEY_PREFIX}:{span.period}:{span.start.isoformat()}:{kind}:{path}"


def _ready_key(span: Span) -> str:
    return f"{KEY_PREFIX}:{span.period}:{span.start.isoformat()}:ready"


def _expire_at(span: Span) -> int:
    """Epoch seconds when the period's keys go: its last Shanghai midnight plus its retention, and
    never sooner than ``MIN_TTL`` from now (a past period read again is rebuilt and kept a
    while)."""
    end = dt.datetime.combine(span.end + dt.timedelta(days=1), dt.time.min, tzinfo=BUSINESS_TZ)
    return int(max(end + RETENTION[span.period], now() + MIN_TTL).timestamp())


def _member_field(member_id: int) -> str:
    return f"{member_id:0{MEMBER_ID_WIDTH}d}"


def _ancestor_paths(path: str) -> list[str]:
    """``path`` and every path above it, from the root down."""
    step = Organization.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


class _Redis:
    """Sorted sets; a cold period is rebuilt from the ledger before its first read."""

    name = "redis"

    def __init__(self) -> None:
        self.client = redis_client()

    def _ready(self, span: Span) -> None:
        if self.client.exists(_ready_key(span)):
            return
        # One rebuild per cold period: concurrent readers wait for it under a lock and find
        # the period ready, instead of each recomputing the same period from the ledger.
        timeout = COLD_REBUILD_LOCK.total_seconds()
        name = f"{KEY_PREFIX}:rebuild-lock:{span.period}:{span.start.isoformat()}"
        with self.client.lock(name, timeout=timeout, blocking_timeout=timeout):
            if not self.client.exists(_ready_key(span)):
                rankings_rebuild(span.start, periods=(span.period,))

    def member_top(self, node: Organization, span: Span, limit: int) -> list[tuple[int, int]]:
        self._ready(span)
        # Highest score first, equal scores by descending member (zero-padded id): as the
        # database orders them.
        rows = self.client.zrevrangebyscore(
            _key(span, "m", node.path), "+inf", "(0", start=0, num=limit, withscores=True
        )
        return [(int(member), round(score)) for member, score in rows]

    def member_count(self, node: Organization, span: Span) -> int:
        self._ready(span)
        return int(self.client.zcount(_key(span, "m", node.path), "(0", "+inf"))

    def member_position(
        self, node: Organization, span: Span, member_id: int
    ) -> tuple[int, int] | None:
        self._ready(span)
        key = _key(span, "m", node.path)
        score = self.client.zscore(key, _member_field(member_id))
        if score is None or score <= 0:
            return None
        better = int(self.client.zcount(key, f"({score}", "+inf"))
        return better + 1, round(score)

    def child_totals(self, node: Organization, span: Span) -> dict[str, int]:
        self._ready(span)
        rows = self.client.zrange(_key(span, "o", node.path), 0, -1, withscores=True)
        return {member.decode(): round(score) for member, score in rows}


def backend() -> _Database | _Redis:
    """Redis when the deployment has it, the database otherwise."""
    return _Redis() if settings.REDIS_URL else _Database()


# --- keeping Redis up to date ----------------------------------------------------------------


def _registry_key() -> str:
    return f"{KEY_PREFIX}:periods"


def _period_end(span: Span) -> dt.datetime:
    """The Shanghai midnight that closes the period."""
    return dt.datetime.combine(span.end + dt.timedelta(days=1), dt.time.min, tzinfo=BUSINESS_TZ)


# KEYS: the sorted sets; ARGV: each key's expiry (epoch seconds) in KEYS order, then triples
# (key's 1-based index in KEYS, increment, member or child path).
RECORD_SCRIPT = """
local keys = #KEYS
for i = keys + 1, #ARGV, 3 do
  redis.call('ZINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
end
for i = 1, keys do
  redis.call('EXPIREAT', KEYS[i], ARGV[i])
end
return keys
"""


@functools.cache
def _record_script(url: str) -> Any:
    """The registered ``RECORD_SCRIPT`` (EVALSHA, loaded again if Redis forgot it)."""
    return _client(url).register_script(RECORD_SCRIPT)


def rankings_record(entry: LedgerEntry) -> None:
    """Count one committed ledger entry (a payment or a compensating one) in the Redis keys of
    its day, week, month and year, for its organisation and every node above it.

    Call it after commit (``transaction.on_commit``): a rolled-back award never counts. A no-op
    without Redis and for entries without an organisation. An entry of a period whose keys
    are gone (a reversal of an old day) lands in keys without the ready mark, so the next read
    rebuilds them from the ledger anyway. A Redis failure is logged, not raised: the award
    stands, and the period's keys are corrected by the nightly ``rankings_rebuild`` (or when
    they expire and are rebuilt on the next read).
    """
    rankings_record_many([entry])


def rankings_record_many(entries: Sequence[LedgerEntry]) -> None:
    """``rankings_record`` for many committed entries (a batch of ``points_award_batch``): the
    organisations' paths in one query, the increments summed per key and member, and one
    script call for them all (``RECORD_SCRIPT``: atomic like MULTI/EXEC, increments and expiries
    together, so no key is ever left without its expiry; one command instead of ~90 an award,
    whose packing in Python was most of an award's time)."""
    counted = [e for e in entries if e.organization_id is not None and e.points]
    if not settings.REDIS_URL or not counted:
        return
    paths = dict(
        Organization.objects.filter(
            pk__in={entry.organization_id for entry in counted}
        ).values_list("pk", "path")
    )
    increments: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    expiries: dict[str, int] = {}
    for entry in counted:
        path = paths.get(entry.organization_id)
        if path is None:
            continue
        ancestors = _ancestor_paths(path)
        member = _member_field(entry.member_id)
        for period in PERIODS:
            span = period_span(period, entry.day)
            expire_at = _expire_at(span)
            for depth, node_path in enumerate(ancestors):
                members_key = _key(span, "m", node_path)
                increments[members_key][member] += entry.points
                expiries[members_key] = expire_at
                if depth + 1 < len(ancestors):
                    children_key = _key(span, "o", node_path)
                    increments[children_key][ancestors[depth + 1]] += entry.points
                    expiries[children_key] = expire_at
    keys = list(increments)
    arguments: list[str | int] = [expiries[key] for key in keys]
    for index, key in enumerate(keys, start=1):
        for field_name, points in increments[key].items():
            if points:
                arguments.extend((index, points, field_name))
    try:
        _record_script(settings.REDIS_URL)(keys=keys, args=arguments)
    except redis.RedisError:
        logger.exception(
            "rankings: could not record ledger entries %s in Redis",
            ", ".join(str(entry.pk) for entry in counted),
        )


@dataclass
class _Frame:
    """One node's sets while the ledger streams past its subtree."""

    path: str
    members: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    children: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Writer:
    """Writes rebuilt sorted sets without holding Redis for long and without a reader ever
    seeing a half-written one.

    Each set is filled under a temporary name (``<prefix>:tmp:<build>:…``, expiring after
    ``TEMP_TTL`` should the build die) and then renamed over the live key together with its
    expiry. Commands go in MULTI/EXEC blocks of at most ``PIPELINE_MEMBERS`` members: a block
    is atomic (no temporary key without its expiry, no renamed key without its expiry) and
    short."""

    def __init__(self, client: redis.Redis, span: Span) -> None:
        self.client = client
        self.pipe = client.pipeline(transaction=True)
        self.build = uuid.uuid4().hex[:12]
        self.expire_at = _expire_at(span)
        self.pending = 0
        self.written: set[str] = set()

    def put(self, key: str, scores: dict[str, int]) -> None:
        if not scores:
            return
        temp = f"{KEY_PREFIX}:tmp:{self.build}:{key.removeprefix(KEY_PREFIX + ':')}"
        items = list(scores.items())
        for first in range(0, len(items), ZADD_CHUNK):
            chunk = dict(items[first : first + ZADD_CHUNK])
            self.pipe.zadd(temp, chunk)  # type: ignore[arg-type]
            self.pipe.expire(temp, TEMP_TTL)
            self._count(len(chunk))
        self.pipe.rename(temp, key)
        self.pipe.expireat(key, self.expire_at)
        self.written.add(key)
        self._count(1)

    def _count(self, members: int) -> None:
        self.pending += members
        if self.pending >= PIPELINE_MEMBERS:
            self.flush()

    def flush(self) -> None:
        if len(self.pipe):
            self.pipe.execute()
        self.pending = 0


def _path_order() -> Any:
    """Order by path byte by byte: every subtree is then one run of rows (a linguistic
    collation on PostgreSQL could interleave them)."""
    if connection.vendor == "postgresql":
        return Collate("organization__path", "C")
    return "organization__path"


def _stream(span: Span, writer: _Writer, roots: tuple[str, ...] | None) -> dict[str, int]:
    """Read the period's ledger once, summed per member and organisation in tree order, and
    write the ``m`` and ``o`` sets of every node with entries — of the whole forest, or only of
    the nodes inside ``roots`` (subtree paths). A node's sets are written as soon as the rows
    have moved past its subtree, so only the chain of nodes above the current row is held in
    memory. Returns the points of each root that has entries."""
    step = Organization.steplen
    where = Q(day__gte=span.start, day__lte=span.end, organization__isnull=False)
    if roots is not None:
        where &= functools.reduce(
            operator.or_, (Q(organization__path__startswith=root) for root in roots)
        )
    rows = (
        LedgerEntry.objects.filter(where)
        .values("member_id", "organization__path")
        .annotate(total=Sum("points"))
        .order_by(_path_order(), "member_id")
        .values_list("member_id", "organization__path", "total")
    )
    stack: list[_Frame] = []
    closed: set[str] = set()
    root_totals: dict[str, int] = {}

    def close(frame: _Frame) -> None:
        closed.add(frame.path)
        if roots is not None and frame.path in roots:
            root_totals[frame.path] = sum(frame.members.values())
        writer.put(
            _key(span, "m", frame.path),
            {_member_field(member): points for member, points in frame.members.items()},
        )
        writer.put(_key(span, "o", frame.path), dict(frame.children))

    for member_id, path, points in rows.iterator(chunk_size=5000):
        total = int(points or 0)
        top = 0 if roots is None else min(len(r) for r in roots if path.startswith(r)) // step - 1
        while stack and not path.startswith(stack[-1].path):
            close(stack.pop())
        for node_path in _ancestor_paths(path)[top + len(stack) :]:
            if node_path in closed:  # would overwrite the node's sets with a part of them
                raise RuntimeError(f"rankings: ledger rows of {node_path} not in tree order")
            stack.append(_Frame(node_path))
        for depth, frame in enumerate(stack):
            frame.members[member_id] += total
            if depth + 1 < len(stack):
                frame.children[stack[depth + 1].path] += total
    while stack:
        close(stack.pop())
    writer.flush()
    return root_totals


def _unlink(client: redis.Redis, keys: set[str] | list[str]) -> int:
    removed = 0
    batch = list(keys)
    for first in range(0, len(batch), KEYS_CHUNK):
        removed += int(client.unlink(*batch[first : first + KEYS_CHUNK]))
    return removed


def _rebuild_span(client: redis.Redis, span: Span) -> int:
    """Replace every set of the period by the ledger's sums and mark the period ready; returns
    the number of sets written. Safe while awards go on: readers see each set either as it was
    or as rebuilt, and increments keep landing in the live keys (see ``rankings_rebuild`` for
    the one window)."""
    prefix = f"{KEY_PREFIX}:{span.period}:{span.start.isoformat()}:"
    # Listed before the ledger is read: a key that appears later holds an increment the read
    # may not have seen, and is left alone.
    before = {
        key.decode()
        for key in client.scan_iter(match=f"{prefix}*", count=1000)
        if not key.endswith(b":ready")
    }
    writer = _Writer(client, span)
    _stream(span, writer, None)
    _unlink(client, before - writer.written)
    pipe = client.pipeline(transaction=True)
    pipe.set(_ready_key(span), "1")
    pipe.expireat(_ready_key(span), writer.expire_at)
    pipe.sadd(_registry_key(), f"{span.period}:{span.start.isoformat()}")
    pipe.execute()
    return len(writer.written)


def rankings_rebuild(day: dt.date, *, periods: tuple[Period, ...] = PERIODS) -> int:
    """Recompute from the ledger the Redis keys of the periods containing ``day`` and mark
    them ready; returns the number of keys written. A no-op without Redis.

    Each period's ledger is read once (summed per member and organisation, in tree order) and
    each node's sets are written as soon as its subtree has been read, in short MULTI/EXEC
    blocks, each set under a temporary name renamed over the live key: Redis is never held for
    long, a reader never sees a half-built set, and awards may go on meanwhile. Keys of the
    period that the ledger no longer justifies (an organisation moved away, reversed points)
    are removed. The one window is around the read: an entry committed after the read but
    recorded before its set was renamed is missed, one committed before the read but recorded
    only after its set was renamed counts twice — until the next rebuild (the nightly one:
    ``rankings_rebuild_current``).
    """
    if not settings.REDIS_URL:
        return 0
    client = redis_client()
    return sum(_rebuild_span(client, period_span(period, day)) for period in periods)


def current_spans(today: dt.date | None = None) -> list[Span]:
    """The periods the nightly job rebuilds: those containing yesterday (the day just closed,
    and on a Monday, 1st or 1 January the week, month or year just closed) and those containing
    today, each once."""
    today = today or business_day()
    spans: list[Span] = []
    for day in (today - dt.timedelta(days=1), today):
        for period in PERIODS:
            span = period_span(period, day)
            if span not in spans:
                spans.append(span)
    return spans


@dataclass(frozen=True)
class Rebuilt:
    span: Span
    keys: int
    seconds: float


def rankings_rebuild_current(today: dt.date | None = None) -> list[Rebuilt]:
    """Rebuild from the ledger the periods of ``current_spans`` (the nightly job), so that a
    lost increment or a Redis restart never lasts more than a day and no request pays for a
    cold current period. A no-op without Redis (returns nothing)."""
    if not settings.REDIS_URL:
        return []
    client = redis_client()
    done = []
    for span in current_spans(today):
        started = time.monotonic()
        keys = _rebuild_span(client, span)
        done.append(Rebuilt(span, keys, time.monotonic() - started))
    return done


def _ready_spans(client: redis.Redis) -> list[Span]:
    """The periods whose sets Redis holds and answers from (marked ready), from the registry;
    members whose mark has expired are dropped from it."""
    spans = []
    for member in sorted(client.smembers(_registry_key())):
        period, start = member.decode().split(":", 1)
        spans.append(period_span(period, dt.date.fromisoformat(start)))
    pipe = client.pipeline(transaction=False)
    for span in spans:
        pipe.exists(_ready_key(span))
    ready = [span for span, exists in zip(spans, pipe.execute(), strict=True) if exists]
    gone = [f"{span.period}:{span.start.isoformat()}" for span in spans if span not in ready]
    if gone:
        client.srem(_registry_key(), *gone)
    return ready


def rankings_expire(at: dt.datetime | None = None) -> int:
    """Drop the keys of every registered period over for longer than its ``RETENTION`` (keys
    expire by themselves; this applies the current retention to keys written under a longer
    one, and keeps the registry short). Returns the number of keys removed; 0 without Redis."""
    if not settings.REDIS_URL:
        return 0
    client = redis_client()
    moment = at or now()
    removed = 0
    for span in _ready_spans(client):
        if _period_end(span) + RETENTION[span.period] > moment:
            continue
        prefix = f"{KEY_PREFIX}:{span.period}:{span.start.isoformat()}:"
        keys = [key.decode() for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        removed += _unlink(client, keys)
        client.srem(_registry_key(), f"{span.period}:{span.start.isoformat()}")
    return removed


def _nightly_lock_key() -> str:
    return f"{KEY_PREFIX}:nightly-lock"


def rankings_nightly(today: dt.date | None = None) -> dict[str, Any]:
    """The nightly job: rebuild the current periods, then drop periods past their retention.
    Two runs never overlap (a Redis lock, which also makes move repairs wait for the run: see
    ``rankings_repair_move``); without Redis it does nothing and says so."""
    if not settings.REDIS_URL:
        return {"backend": "database", "skipped": "no REDIS_URL: rankings are read from the ledger"}
    client = redis_client()
    lock = client.lock(_nightly_lock_key(), timeout=NIGHTLY_LOCK.total_seconds(), blocking=False)
    if not lock.acquire():
        return {"backend": "redis", "skipped": "another run holds the lock"}
    try:
        done = rankings_rebuild_current(today)
        expired = rankings_expire()
    finally:
        with contextlib.suppress(redis.exceptions.LockError):  # outlived its timeout
            lock.release()
    return {
        "backend": "redis",
        "rebuilt": {f"{d.span.period}:{d.span.start.isoformat()}": d.keys for d in done},
        "seconds": round(sum(d.seconds for d in done), 1),
        "expired_keys": expired,
    }


# --- after an organisation moved ---------------------------------------------------------------


class RankingsBusy(Exception):
    """The nightly rebuild is running: a move repair must wait for it."""


@dataclass(frozen=True)
class MoveRepair:
    """What a move changes in the sets: the subtrees (``roots``) to rebuild, the child totals of
    the node above them (``parent``) to correct, and the old paths of the moved subtree, whose
    keys go."""

    roots: tuple[str, ...]  # existing nodes, children of ``parent``
    tops: tuple[str, ...]  # the children of ``parent`` that changed, existing or not
    parent: str  # the lowest node above both places ("" when they are in different trees)
    vanished: tuple[str, ...]
    nodes: tuple[str, ...]  # every existing node inside ``roots``


def _move_repair(old_path: str, new_path: str) -> MoveRepair:
    """Which sets a move of the node at ``old_path`` to ``new_path`` (with its subtree) made
    wrong. Above the lowest common ancestor C of the old and new parent nothing changes (the
    same members with the same points); C's own member set neither; C's child totals change
    for its child on the old side and its child on the new side (either may be the moved node
    itself); inside those two children's subtrees every set may change."""
    step = Organization.steplen
    old_parent, new_parent = old_path[:-step], new_path[:-step]
    common = ""
    for above_old, above_new in zip(
        _ancestor_paths(old_parent), _ancestor_paths(new_parent), strict=False
    ):
        if above_old != above_new:
            break
        common = above_old
    tops = tuple(sorted({old_path[: len(common) + step], new_path[: len(common) + step]}))
    roots = tuple(sorted(Organization.objects.filter(path__in=tops).values_list("path", flat=True)))
    nodes: tuple[str, ...] = ()
    if roots:
        nodes = tuple(
            Organization.objects.filter(
                functools.reduce(operator.or_, (Q(path__startswith=root) for root in roots))
            ).values_list("path", flat=True)
        )
    moved = [path for path in nodes if path.startswith(new_path)]
    vanished = tuple(sorted({old_path} | {old_path + path[len(new_path) :] for path in moved}))
    return MoveRepair(roots, tops, common, vanished, nodes)


def rankings_repair_size(*, old_path: str, new_path: str) -> int:
    """How many organisations the repair of this move rebuilds (decides inline or a job)."""
    return len(_move_repair(old_path, new_path).nodes)


def _repair_span(client: redis.Redis, span: Span, repair: MoveRepair) -> int:
    candidates = {
        _key(span, kind, path) for path in (*repair.nodes, *repair.vanished) for kind in ("m", "o")
    }
    writer = _Writer(client, span)
    totals = _stream(span, writer, repair.roots) if repair.roots else {}
    _unlink(client, candidates - writer.written)
    if repair.parent:
        key = _key(span, "o", repair.parent)
        pipe = client.pipeline(transaction=True)
        for top in repair.tops:
            if top in totals:
                pipe.zadd(key, {top: totals[top]})
            else:
                pipe.zrem(key, top)
        pipe.expireat(key, writer.expire_at)
        pipe.execute()
    return len(writer.written)


def rankings_repair_move(*, old_path: str, new_path: str) -> int:
    """Make the Redis sets answer what the database answers after the node at ``old_path``
    moved, with its subtree, to ``new_path``; returns the number of sets written. A no-op
    without Redis.

    The database ranks an entry under the organisation's *current* place in the tree (the
    entry keeps its organisation; the organisation moved), in every period, past ones too. So
    every period Redis answers from (the registry's ready periods: the current ones and those
    within their retention) is repaired, each by rebuilding from the ledger only the subtrees
    that changed (see ``_move_repair``) — the same temporary keys and renames as a rebuild,
    and the same window. Periods not ready are rebuilt in full by their first read anyway.
    Raises ``RankingsBusy`` while the nightly rebuild runs (retry after it).
    """
    if not settings.REDIS_URL:
        return 0
    client = redis_client()
    if client.exists(_nightly_lock_key()):
        # The nightly run may have read the ledger under the old paths and would write them
        # back after this repair: repair after it instead.
        raise RankingsBusy("the nightly rankings rebuild is running")
    repair = _move_repair(old_path, new_path)
    return sum(_repair_span(client, span, repair) for span in _ready_spans(client))


def rankings_forget() -> int:
    """Drop every ranking key; each period is rebuilt by its next read (a whole year at
    province scale: an operator's last resort, not a routine). Returns the number of keys
    removed."""
    if not settings.REDIS_URL:
        return 0
    client = redis_client()
    removed = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000):
        batch.append(key)
        if len(batch) >= ZADD_CHUNK:
            removed += int(client.delete(*batch))
            batch = []
    if batch:
        removed += int(client.delete(*batch))
    return removed


# --- who may read ------------------------------------------------------------------------------


def access_organization_for_rankings(user: User, organization_id: int) -> Organization:
    """The node whose rankings ``user`` may read: any node of his administrative scope, or his
    own organisation and the nodes above it. ``NotFound`` for any other node (existence is
    private); ``Forbidden`` for a user who is neither a member nor an administrator."""
    scope = AdminScope.of(user)
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is not None and scope.covers(organization):
        return organization
    own = (
        Membership.objects.filter(user=user, ended_at__isnull=True)
        .values_list("organization__path", flat=True)
        .first()
    )
    if own is None and not scope.is_admin:
        raise Forbidden(_("只有组织成员或学习管理员可以查看排行。"))
    if organization is not None and own is not None and own.startswith(organization.path):
        return organization
    raise NotFound(_("找不到该组织，或您无权查看它的排行。"))


# --- the switch -----------------------------------------------------------------------------------


def members_visible(organization: Organization) -> bool:
    """Whether member rankings of ``organization`` are shown: not switched off for the
    platform, nor on the node, nor on any node above it (one query)."""
    return not RankingSetting.objects.filter(
        Q(is_platform=True) | Q(organization__path__in=_ancestor_paths(organization.path)),
        members_visible=False,
    ).exists()


@dataclass(frozen=True)
class SwitchState:
    """What the console shows about the switch of one node."""

    visible: bool
    platform_on: bool
    node_on: bool
    off_above: Organization | None  # the nearest node above that turned them off
    can_set_platform: bool
    can_set_node: bool


def _is_platform_operator(scope: AdminScope) -> bool:
    return any(
        grant.role == Role.OPERATOR and len(grant.path) == Organization.steplen
        for grant in scope.grants
    )


def _can_set_node(scope: AdminScope, organization: Organization) -> bool:
    return any(
        organization.path.startswith(grant.path) and grant.role in (Role.OPERATOR, Role.MAIN_ADMIN)
        for grant in scope.grants
    )


def ranking_switch_state(user: User, organization: Organization) -> SwitchState:
    settings_on_path = list(
        RankingSetting.objects.filter(
            Q(is_platform=True) | Q(organization__path__in=_ancestor_paths(organization.path))
        ).select_related("organization")
    )
    platform_on = all(s.members_visible for s in settings_on_path if s.is_platform)
    node_on = all(
        s.members_visible for s in settings_on_path if s.organization_id == organization.pk
    )
    above_off = [
        s.organization
        for s in settings_on_path
        if s.organization is not None
        and s.organization_id != organization.pk
        and not s.members_visible
    ]
    off_above = max(above_off, key=lambda o: len(o.path)) if above_off else None
    scope = AdminScope.of(user)
    return SwitchState(
        visible=platform_on and node_on and off_above is None,
        platform_on=platform_on,
        node_on=node_on,
        off_above=off_above,
        can_set_platform=_is_platform_operator(scope),
        can_set_node=_can_set_node(scope, organization),
    )


def ranking_setting_update(
    *,
    actor: User,
    organization: Organization | None,
    members_visible: bool,
    ip: str | None = None,
) -> RankingSetting:
    """Show or hide member rankings, for the whole platform (``organization=None``: operators
    of a root node only) or for a node's subtree (its main administrators, those above it, and
    operators covering it). Audited when it changes something; one transaction."""
    scope = AdminScope.of(actor)
    if organization is None:
        if not _is_platform_operator(scope):
            raise Forbidden(_("只有平台运营人员可以修改全平台的排行设置。"))
    else:
        scope.require_admin()
        scope.require(organization)
        if not _can_set_node(scope, organization):
            raise Forbidden(_("只有本级或上级主管理员、运营人员可以修改排行设置。"))
    lookup: dict[str, Any] = (
        {"is_platform": True, "organization": None}
        if organization is None
        else {"is_platform": False, "organization": organization}
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                setting, _created = RankingSetting.objects.get_or_create(**lookup)
        except IntegrityError:  # a racing request created it first
            setting = RankingSetting.objects.get(**lookup)
        setting = RankingSetting.objects.select_for_update().get(pk=setting.pk)
        before = setting.members_visible
        if before != members_visible:
            setting.members_visible = members_visible
            setting.updated_by = actor
            setting.updated_at = now()
            setting.save(update_fields=["members_visible", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action="ranking_setting.update",
                target=setting,
                target_label=organization.name if organization else _("全平台"),
                organization=organization,
                before={"members_visible": before},
                after={"members_visible": members_visible},
                ip=ip,
            )
    return setting


# --- the rankings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    rank: int
    member_id: int
    name: str
    organization_name: str
    points: int
    is_viewer: bool = False


@dataclass(frozen=True)
class MemberRanking:
    span: Span
    rows: list[MemberRow]
    ranked: int  # members with points in the period
    viewer: MemberRow | None  # the viewer's own place, when he has points here


@dataclass(frozen=True)
class OrganizationRow:
    rank: int
    organization_id: int
    name: str
    points: int
    member_count: int
    points_per_member: float


@dataclass(frozen=True)
class OrganizationRanking:
    span: Span
    by: By
    rows: list[OrganizationRow]


def _ranks(values: list[Any]) -> list[int]:
    """Competition ranks of values already in order: equal values share a rank (1, 2, 2, 4)."""
    ranks: list[int] = []
    for index, value in enumerate(values):
        ranks.append(ranks[-1] if index and value == values[index - 1] else index + 1)
    return ranks


def _names(viewer: User, member_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Name and current organisation of each member, the name in full only for the viewer
    himself, members of his own organisation and members inside his administrative scope
    (SECURITY S11); masked (``张*``) otherwise. Never a phone number."""
    if not member_ids:
        return {}
    scope = AdminScope.of(viewer)
    own = (
        Membership.objects.filter(user=viewer, ended_at__isnull=True)
        .values_list("organization_id", flat=True)
        .first()
    )
    names = dict(User.objects.filter(pk__in=member_ids).values_list("pk", "real_name"))
    places = {
        user_id: (org_id, path, org_name)
        for user_id, org_id, path, org_name in Membership.objects.filter(
            user_id__in=member_ids, ended_at__isnull=True
        ).values_list("user_id", "organization_id", "organization__path", "organization__name")
    }
    result: dict[int, tuple[str, str]] = {}
    for member_id in member_ids:
        name = names.get(member_id, "")
        org_id, path, org_name = places.get(member_id, (None, "", ""))
        reveal = (
            member_id == viewer.pk
            or (own is not None and org_id == own)
            or scope.is_platform_wide
            or any(path and path.startswith(grant.path) for grant in scope.admin_grants)
        )
        result[member_id] = (name if reveal else mask_name(name), org_name)
    return result


def ranking_members(
    *,
    organization: Organization,
    period: str,
    day: dt.date,
    viewer: User,
    limit: int = TOP,
) -> MemberRanking:
    """The top ``limit`` members by points earned inside ``organization``'s subtree during the
    period containing ``day``, and the viewer's own place. Refused when member rankings are
    switched off for the node."""
    if not members_visible(organization):
        raise Forbidden(_("个人积分排行已关闭，只显示组织排行。"), code="member_rankings_off")
    span = period_span(period, day)
    source = backend()
    top = source.member_top(organization, span, limit)
    ranked = source.member_count(organization, span)
    position = source.member_position(organization, span, viewer.pk)
    ids = [member_id for member_id, _points in top]
    if position is not None and viewer.pk not in ids:
        ids.append(viewer.pk)
    names = _names(viewer, ids)
    rows = [
        MemberRow(
            rank=rank,
            member_id=member_id,
            name=names[member_id][0],
            organization_name=names[member_id][1],
            points=points,
            is_viewer=member_id == viewer.pk,
        )
        for rank, (member_id, points) in zip(
            _ranks([points for _id, points in top]), top, strict=True
        )
    ]
    mine = None
    if position is not None:
        mine = MemberRow(
            rank=position[0],
            member_id=viewer.pk,
            name=names[viewer.pk][0],
            organization_name=names[viewer.pk][1],
            points=position[1],
            is_viewer=True,
        )
    return MemberRanking(span=span, rows=rows, ranked=ranked, viewer=mine)


def ranking_organizations(
    *, organization: Organization, period: str, day: dt.date, by: str = "total"
) -> OrganizationRanking:
    """Every child of ``organization`` with the points earned in its subtree during the period
    containing ``day``, and those points per current member of the subtree; ordered by
    ``by`` (``total`` or ``per_member``), then in tree order."""
    if by not in ("total", "per_member"):
        raise ValidationFailed({"by": _("排序方式须为 total 或 per_member。")})
    span = period_span(period, day)
    totals = backend().child_totals(organization, span)
    children = children_with_counts(organization)
    facts = []
    for child in children:
        count = cast(int, getattr(child, "member_count", 0))
        points = totals.get(child.path, 0)
        per_member = round(points / count, 2) if count else 0.0
        facts.append((child, points, count, per_member))
    if by == "total":
        facts.sort(key=lambda f: (-f[1], f[0].path))
        keys: list[Any] = [f[1] for f in facts]
    else:
        facts.sort(key=lambda f: (-f[3], f[0].path))
        keys = [f[3] for f in facts]
    rows = [
        OrganizationRow(
            rank=rank,
            organization_id=child.pk,
            name=child.name,
            points=points,
            member_count=count,
            points_per_member=per_member,
        )
        for rank, (child, points, count, per_member) in zip(_ranks(keys), facts, strict=True)
    ]
    return OrganizationRanking(span=span, by=cast(By, by), rows=rows)
