"""Build a province-shaped bench database on PostgreSQL, fast.

    python -m bench.generate --scale 0.01 \\
        --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench

At ``--scale 1.0`` the tree is one province of PRODUCT.md §5: 17 cities, 160 counties, ~1,800
units and general branches, 234,000 branches (about 2,000 nodes above the branches) and
5.4 M members (≈23 a branch), each with a ``User`` row and a current ``Membership``; 4 % of
them also have an ended membership in another branch (a past transfer), so the
``ended_at IS NULL`` filter of the product's queries has something to filter. ``--scale``
multiplies the branches, the members and the units above them; the 17 cities and
160 counties stay (geography does not shrink), so the smallest useful scale is 0.001.

How it stays fast: the database is dropped and created, ``migrate`` builds the schema, then
one transaction truncates the three tables, drops their secondary indexes and foreign keys,
streams the rows with ``COPY … (FREEZE)`` (the treebeard paths are computed here, not by
treebeard), rebuilds the indexes and keys and resets the id sequences; ``VACUUM ANALYZE``
follows. Every choice is drawn from one seeded generator, so a scale always gives the same
data. The scale, the seed and the generator version are kept as a JSON comment on the
database; ``--if-needed`` reuses a database whose comment matches and whose migrations are
all applied (that is what ``make bench`` runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SEED = 20190101
# Bump when the generated data changes shape, so ``--if-needed`` rebuilds old databases.
GENERATOR_VERSION = 1
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/xuexi_bench"
DEFAULT_SCALE = 0.05  # the Makefile's BENCH_SCALE default

# The province of PRODUCT.md §5 at scale 1.0. 1 platform root + 1 province + 1 line
# + 17 + 160 + 60 + 1,040 + 720 = 2,000 nodes above the branches.
FULL_CITIES = 17
FULL_COUNTIES = 160
FULL_PROVINCIAL_UNITS = 60
FULL_COUNTY_UNITS = 1_040
FULL_GENERAL_BRANCHES = 720
FULL_BRANCHES = 234_000
FULL_MEMBERS = 5_400_000
TRANSFER_SHARE = 0.04  # members who also have one ended membership elsewhere

PHONE_BASE = 15_000_000_000  # member i (0-based) gets 150…: 15000000000 + i
COPY_CHUNK = 20_000  # rows formatted per write to the COPY stream
FIRST_DAY = dt.date(2019, 1, 1)  # the platform's launch; members join from then on
JOIN_DAYS = 2_190  # … until the end of 2024; transfers end by mid-2025 (never in the future)
CREATED_AT = "2019-01-01 08:00:00+08"

CITY_ROOTS = (
    "东川", "西陵", "南浦", "北辰", "清源", "安平", "临江", "丰泽", "云台",
    "宁远", "长汀", "泰和", "永宁", "凤城", "河阳", "嘉禾", "兴安",
)  # fmt: skip
COUNTY_ROOTS = (
    "桃源", "柳溪", "石桥", "杏花", "枫林", "梅岭", "竹园", "金沙", "白鹭", "青石",
    "龙泉", "双河", "清泉", "玉屏", "丰乐", "长乐", "永安", "芦湾", "凤鸣", "三岔",
    "黄坡", "马蹄", "荷叶", "松岗", "鹤山", "麦浪", "翠峰", "平湖", "古城", "望江",
)  # fmt: skip
PLACE_ROOTS = (
    "李家", "王庄", "张湾", "陈岗", "刘集", "杨柳", "高桥", "东坡", "西山", "南岗",
    "北湾", "前进", "红星", "幸福", "团结", "胜利", "光明", "向阳", "新民", "建设",
    "锦华", "春晖", "翠苑", "阳光", "滨河", "文昌", "丽景", "和谐", "康乐", "园林",
    "朝阳", "紫荆", "金桂", "书香", "学府", "新城", "御河", "兰亭", "星湖", "枫丹",
)  # fmt: skip
DEPARTMENTS = (
    "省委办公厅", "省委组织部", "省委宣传部", "省政府办公厅", "省教育厅", "省科学技术厅",
    "省财政厅", "省交通运输厅", "省农业农村厅", "省文化和旅游厅", "省统计局", "省林业局",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强丽娟晓东海燕鹏飞婷玉兰"
    "俊文博宇浩然子涵欣怡雨萱梓轩思源佳琪嘉怡一诺晨曦天佑春花秋月冬梅夏荷振华德胜建军淑珍桂芳"
)


@dataclass(frozen=True)
class Shape:
    """How many of each kind of node and member one scale gives."""

    scale: float
    cities: int
    counties: int
    provincial_units: int
    county_units: int
    general_branches: int
    branches: int
    members: int

    @classmethod
    def at(cls, scale: float) -> Shape:
        shape = cls(
            scale=scale,
            cities=FULL_CITIES,
            counties=FULL_COUNTIES,
            provincial_units=max(3, round(FULL_PROVINCIAL_UNITS * scale)),
            county_units=max(FULL_COUNTIES, round(FULL_COUNTY_UNITS * scale)),
            general_branches=round(FULL_GENERAL_BRANCHES * scale),
            branches=round(FULL_BRANCHES * scale),
            members=round(FULL_MEMBERS * scale),
        )
        parents = shape.provincial_units + shape.county_units + shape.general_branches
        if shape.branches < parents:
            raise ValueError(f"scale {scale} is too small: every unit needs a branch (≥ 0.001)")
        return shape


@dataclass(eq=False)
class Node:
    """One organisation before it is written; ``path`` and ``id`` are set by ``number``."""

    name: str
    kind: str
    code: str
    line: str = ""
    members: int = 0  # branches only
    children: list[Node] = field(default_factory=list)
    id: int = 0
    path: str = ""
    expected: int = 0

    def add(self, name: str, kind: str, code: str) -> Node:
        child = Node(name, kind, code, self.line)
        self.children.append(child)
        return child


def allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split ``total`` into ``len(weights)`` parts of at least ``minimum``, by weight.

    Largest-remainder rounding: the parts always add up to ``total`` exactly.
    """
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError(f"cannot split {total} into {len(weights)} parts of ≥ {minimum}")
    weight_sum = sum(weights)
    exact = [spare * weight / weight_sum for weight in weights]
    parts = [minimum + int(share) for share in exact]
    left = total - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


def build_tree(shape: Shape, rng: random.Random) -> tuple[Node, list[Node]]:
    """The platform root with the province under it, and the list of branches."""
    platform = Node("全国学习平台（基准）", "platform", "PLATFORM")
    province = platform.add("基准省", "province", "BX")
    organs = province.add("省直机关工委", "line", "BX-SZ")
    organs.line = "provincial_organs"
    units = [
        organs.add(_department(n), "unit", f"BX-SZ-{n + 1:03d}")
        for n in range(shape.provincial_units)
    ]
    counties: list[Node] = []
    per_city = allocate(shape.counties, [rng.uniform(0.6, 1.4) for _ in range(shape.cities)], 4)
    for city_number, county_count in enumerate(per_city):
        city = province.add(f"{CITY_ROOTS[city_number]}市", "city", f"BX-{city_number + 1:02d}")
        for county_number in range(county_count):
            root = COUNTY_ROOTS[(city_number * 7 + county_number) % len(COUNTY_ROOTS)]
            suffix = "区" if county_number < 3 else "县"
            counties.append(
                city.add(f"{root}{suffix}", "county", f"{city.code}-{county_number + 1:02d}")
            )
    per_county = allocate(shape.county_units, [rng.uniform(0.5, 1.5) for _ in counties], minimum=1)
    townships: list[Node] = []
    for county, unit_count in zip(counties, per_county, strict=True):
        units.append(county.add(f"{county.name}直机关工委", "unit", f"{county.code}-001"))
        for number in range(2, unit_count + 1):
            root = PLACE_ROOTS[rng.randrange(len(PLACE_ROOTS))]
            name = f"{root}街道党工委" if county.name.endswith("区") else f"{root}镇党委"
            township = county.add(name, "unit", f"{county.code}-{number:03d}")
            units.append(township)
            townships.append(township)
    generals = []
    for number in range(shape.general_branches):
        parent = rng.choice(townships or units)
        root = PLACE_ROOTS[rng.randrange(len(PLACE_ROOTS))]
        generals.append(parent.add(f"{root}村党总支", "general_branch", f"{parent.code}-Z{number}"))
    # A unit holds on average about seven times the branches of a general branch.
    parents = units + generals
    weights = [rng.uniform(0.4, 1.6) for _ in units] + [rng.uniform(0.05, 0.25) for _ in generals]
    branches: list[Node] = []
    for parent, count in zip(parents, allocate(shape.branches, weights, 1), strict=True):
        place = "社区" if parent.name.endswith("街道党工委") else "村"
        if parent.kind == "unit" and parent.code.startswith("BX-SZ"):
            place = "机关"
        for number in range(1, count + 1):
            root = PLACE_ROOTS[(number * 7 + len(parent.code)) % len(PLACE_ROOTS)]
            name = f"{root}{place}第{number}党支部"
            branches.append(parent.add(name, "branch", f"{parent.code}-{number:04d}"))
    sizes = allocate(shape.members, [rng.uniform(0.3, 1.7) for _ in branches], 1)
    for branch, size in zip(branches, sizes, strict=True):
        branch.members = size
        branch.expected = size + rng.randint(0, 3)  # a few have not registered yet
    return platform, branches


def _department(n: int) -> str:
    """省委办公厅机关党委, …; past the list the names repeat as 省委办公厅第2机关党委."""
    round_ = n // len(DEPARTMENTS)
    return f"{DEPARTMENTS[n % len(DEPARTMENTS)]}{f'第{round_ + 1}' if round_ else ''}机关党委"


def number(root: Node, steplen: int, alphabet: str) -> list[Node]:
    """Give every node its id (depth-first, so id order is path order) and treebeard path.

    A step is the child's 1-based position written in ``alphabet`` (base 36), left-padded to
    ``steplen`` with the alphabet's zero, as treebeard's ``MP_Node._get_path`` writes it.
    Returns the nodes in id order; inner nodes' ``expected`` becomes their children's sum.
    """
    base = len(alphabet)
    limit = base**steplen

    def step(position: int) -> str:
        if position >= limit:
            raise ValueError(f"more than {limit - 1} children under one node")
        digits = ""
        while position:
            position, digit = divmod(position, base)
            digits = alphabet[digit] + digits
        return digits.rjust(steplen, alphabet[0])

    ordered: list[Node] = []

    def visit(node: Node, path: str) -> int:
        node.path = path
        node.id = len(ordered) + 1
        ordered.append(node)
        if node.children:
            node.expected = sum(
                visit(child, path + step(position))
                for position, child in enumerate(node.children, start=1)
            )
        return node.expected

    visit(root, step(1))
    return ordered


# --- COPY helpers ------------------------------------------------------------------------


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    raise TypeError(f"no COPY text for {type(value).__name__}")


def extra_columns(
    cur: psycopg.Cursor[Any], model: Any, known: Sequence[str]
) -> tuple[list[str], str]:
    """The NOT NULL columns the generator does not set itself, filled from the model's defaults.

    The schema grows (other issues add columns); a NOT NULL column with neither a database
    default nor a Django default cannot be guessed, and a unique one cannot hold a constant:
    both stop the generator with a message naming the column.
    """
    table = model._meta.db_table
    cur.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO'
             AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'
           ORDER BY ordinal_position""",
        [table],
    )
    by_column = {f.column: f for f in model._meta.concrete_fields}
    columns, values = [], []
    for (column,) in cur.fetchall():
        if column in known:
            continue
        model_field = by_column.get(column)
        default = model_field.get_default() if model_field is not None else None
        if model_field is None or default is None or model_field.unique:
            raise SystemExit(
                f"bench.generate does not know how to fill {table}.{column}: "
                "add it to the rows in bench/generate.py"
            )
        columns.append(column)
        values.append(copy_text(default))
    return columns, "".join("\t" + value for value in values)


@dataclass(frozen=True)
class Rebuild:
    """A secondary index or constraint dropped before the load and recreated after it."""

    table: str
    name: str
    create: str  # a full statement
    is_foreign_key: bool


def secondary_structures(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> list[Rebuild]:
    """Foreign keys, unique constraints (not referenced by a key) and plain indexes of
    ``tables``; primary keys and check constraints stay in place during the load."""
    cur.execute(
        """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
                  c.contype = 'f'
           FROM pg_constraint c
           WHERE c.conrelid = ANY(%s::regclass[]) AND (c.contype = 'f' OR (c.contype = 'u'
             AND NOT EXISTS (SELECT 1 FROM pg_constraint r
                             WHERE r.contype = 'f' AND r.conindid = c.conindid)))
           ORDER BY 1, 2""",
        [list(tables)],
    )
    found = [
        Rebuild(table, name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}', is_fk)
        for table, name, definition, is_fk in cur.fetchall()
    ]
    cur.execute(
        """SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
                  pg_get_indexdef(i.indexrelid)
           FROM pg_index i
           WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           ORDER BY 1, 2""",
        [list(tables)],
    )
    found += [Rebuild(table, name, create, False) for table, name, create in cur.fetchall()]
    return found


def drop(cur: psycopg.Cursor[Any], item: Rebuild) -> None:
    if item.create.startswith("ALTER TABLE"):
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(item.table), sql.Identifier(item.name)
            )
        )
    else:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(item.name)))


def check_rebuilt(
    cur: psycopg.Cursor[Any], tables: Sequence[str], rebuild: Sequence[Rebuild]
) -> None:
    """Stop unless ``tables`` have again exactly the indexes and keys dropped for the load."""
    if set(secondary_structures(cur, tables)) != set(rebuild):
        raise SystemExit("the rebuilt indexes and keys differ from those migrate made")


def sequences_past_ids(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> None:
    """Move each table's id sequence past the ids COPY wrote itself."""
    for table in tables:
        cur.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) FROM {}").format(
                sql.Identifier(table)
            ),
            [table],
        )


# --- the rows ----------------------------------------------------------------------------


def organization_rows(nodes: Sequence[Node], steplen: int, suffix: str) -> Iterator[str]:
    for node in nodes:
        yield (
            f"{node.id}\t{node.path}\t{len(node.path) // steplen}\t{len(node.children)}\t"
            f"{copy_text(node.name)}\t{node.kind}\t{node.line}\t{node.code}\t{node.expected}\t"
            f"t\t{CREATED_AT}{suffix}\n"
        )


def _name_pool(rng: random.Random, size: int) -> list[str]:
    given = [GIVEN[i : i + 1] for i in range(len(GIVEN))]
    pool = []
    for _ in range(size):
        name = rng.choice(SURNAMES) + rng.choice(given)
        if rng.random() < 0.7:
            name += rng.choice(given)
        pool.append(name)
    return pool


@dataclass
class Members:
    """Where each member sits, drawn once and shared by the user and membership rows."""

    placements: list[int]  # organisation id of member i's current branch
    transferred: dict[int, int]  # member index → organisation id of the ended membership
    names: list[str]

    @classmethod
    def draw(cls, branches: Sequence[Node], rng: random.Random) -> Members:
        placements = [oid for branch in branches for oid in [branch.id] * branch.members]
        rng.shuffle(placements)  # members join in no particular order of branch
        count = len(placements)
        branch_ids = [branch.id for branch in branches]
        transferred = {
            index: rng.choice(branch_ids)
            for index in rng.sample(range(count), round(count * TRANSFER_SHARE))
        }
        names = rng.choices(_name_pool(rng, 40_000), k=count)
        return cls(placements, transferred, names)


LAST_TRANSFER_DAY = JOIN_DAYS + 180
_DAYS = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(LAST_TRANSFER_DAY + 1)]
_TIMES = [f"{h:02d}:{m:02d}:{(h * m) % 60:02d}+08" for h in range(7, 23) for m in range(60)]


def _moment(day: int, index: int) -> str:
    return f"{_DAYS[day]} {_TIMES[(index * 7919) % len(_TIMES)]}"


PRELISTED_EVERY = 7


def user_rows(members: Members, password: str, suffix: str) -> Iterator[str]:
    count = len(members.placements)
    for index, name in enumerate(members.names):
        joined = _moment(index * JOIN_DAYS // count, index)
        # One member in seven is only pre-listed by an administrator (registered_at NULL).
        registered = "\\N" if index % PRELISTED_EVERY == 0 else joined
        yield (
            f"{index + 1}\t{password}\t{PHONE_BASE + index}\t{name}\tt\t{joined}\t{registered}"
            f"{suffix}\n"
        )


def membership_rows(members: Members, suffix: str) -> Iterator[str]:
    count = len(members.placements)
    membership_id = 0
    for index, organization in enumerate(members.placements):
        day = index * JOIN_DAYS // count
        started = _moment(day, index)
        earlier = members.transferred.get(index)
        if earlier is not None:
            moved = _moment(min(day + 30 + index % 360, LAST_TRANSFER_DAY), index + 1)
            membership_id += 1
            yield f"{membership_id}\t{started}\t{moved}\t{index + 1}\t{earlier}{suffix}\n"
            started = moved
        membership_id += 1
        yield f"{membership_id}\t{started}\t\\N\t{index + 1}\t{organization}{suffix}\n"


def copy_rows(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterator[str],
    *,
    freeze: bool = True,
) -> int:
    """COPY text lines into ``table``; ``FREEZE`` (the default) needs a table created or
    truncated in the same transaction."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" (FREEZE)" if freeze else ""),
    )
    written = 0
    with cur.copy(statement) as copy:
        chunk: list[str] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == COPY_CHUNK:
                copy.write("".join(chunk))
                written += len(chunk)
                chunk = []
        copy.write("".join(chunk))
        written += len(chunk)
    return written


# --- the database ------------------------------------------------------------------------


def _dbname(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname") or "")


def _maintenance_url(url: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = "postgres"
    return make_conninfo("", **params)


def read_meta(url: str) -> dict[str, Any] | None:
    """The JSON comment a finished generation left on the database, or None."""
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [_dbname(url)],
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        meta = json.loads(row[0])
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and meta.get("xuexi_bench") else None


def unapplied_migrations() -> int:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def setup_django(url: str) -> None:
    """Point the one settings module at the bench database, then set Django up."""
    import django

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


class Clock:
    """Prints how long each phase took."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def lap(self, what: str, rows: int | None = None) -> float:
        now = time.perf_counter()
        took, self.last = now - self.last, now
        rate = f"  ({rows:,} rows, {rows / took:,.0f} rows/s)" if rows else ""
        print(f"  {what:<38} {took:8.1f} s{rate}", flush=True)
        return took

    def total(self) -> float:
        return time.perf_counter() - self.started


def generate(url: str, scale: float, check: bool) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connections

    from xuexi.accounts.models import User
    from xuexi.organizations.models import Membership, Organization

    shape = Shape.at(scale)
    print(
        f"bench.generate: scale {scale} → {shape.branches:,} branches, "
        f"{shape.members:,} members into {_dbname(url)} (seed {SEED})",
        flush=True,
    )
    clock = Clock()
    name = _dbname(url)
    connections.close_all()  # the --if-needed check may hold one; DROP … FORCE would kill it
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    clock.lap("create database")
    call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    clock.lap("migrate")

    rng = random.Random(SEED)
    steplen, alphabet = Organization.steplen, Organization.alphabet
    root, branches = build_tree(shape, rng)
    nodes = number(root, steplen, alphabet)
    members = Members.draw(branches, rng)
    clock.lap("tree and placements in memory")

    org_table, user_table = Organization._meta.db_table, User._meta.db_table
    membership_table = Membership._meta.db_table
    tables = [org_table, user_table, membership_table]
    org_columns = ["id", "path", "depth", "numchild", "name", "kind", "line", "code"]
    org_columns += ["expected_members", "is_open", "created_at"]
    user_columns = ["id", "password", "phone", "real_name", "is_active", "date_joined"]
    user_columns += ["registered_at"]
    membership_columns = ["id", "started_at", "ended_at"]
    membership_columns += [
        Membership._meta.get_field("user").column,
        Membership._meta.get_field("organization").column,
    ]
    password = make_password(None)  # one unusable marker for every bench member

    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET synchronous_commit = off")
        _refuse_unless_empty(cur, tables)
        org_extra, org_suffix = extra_columns(cur, Organization, org_columns)
        user_extra, user_suffix = extra_columns(cur, User, user_columns)
        mem_extra, mem_suffix = extra_columns(cur, Membership, membership_columns)
        for table, columns, suffix in (
            (org_table, org_extra, org_suffix),
            (user_table, user_extra, user_suffix),
            (membership_table, mem_extra, mem_suffix),
        ):
            if columns:
                filled = ", ".join(
                    f"{column}={value or repr('')}"
                    for column, value in zip(columns, suffix[1:].split("\t"), strict=True)
                )
                print(f"  {table}: from the model defaults {filled}", flush=True)
        rebuild = secondary_structures(cur, tables)
        for item in sorted(rebuild, key=lambda item: not item.is_foreign_key):
            drop(cur, item)
        # FREEZE needs the tables truncated in this transaction; they are empty (checked),
        # and CASCADE reaches only tables that reference them, empty on a fresh database.
        cur.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
        clock.lap(f"drop {len(rebuild)} indexes and keys")
        counts[org_table] = copy_rows(
            cur, org_table, org_columns + org_extra, organization_rows(nodes, steplen, org_suffix)
        )
        clock.lap(f"COPY {org_table}", counts[org_table])
        counts[user_table] = copy_rows(
            cur, user_table, user_columns + user_extra, user_rows(members, password, user_suffix)
        )
        clock.lap(f"COPY {user_table}", counts[user_table])
        counts[membership_table] = copy_rows(
            cur,
            membership_table,
            membership_columns + mem_extra,
            membership_rows(members, mem_suffix),
        )
        clock.lap(f"COPY {membership_table}", counts[membership_table])
        for item in sorted(rebuild, key=lambda item: item.is_foreign_key):
            cur.execute(item.create)  # from pg_get_*def
        check_rebuilt(cur, tables, rebuild)
        clock.lap(f"rebuild {len(rebuild)} indexes and keys")
        sequences_past_ids(cur, tables)
        conn.commit()
        clock.lap("commit")
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        clock.lap("VACUUM ANALYZE")
        problems = tree_problems(conn, org_table, steplen)
        if problems:
            raise SystemExit(f"the generated tree is broken: {problems}")
        clock.lap("tree check (SQL): no problems")
    if check:
        treebeard_check()
        clock.lap("treebeard find_problems, get_descendants")
    total_rows = sum(counts.values())
    meta = {
        "xuexi_bench": True,
        "scale": scale,
        "seed": SEED,
        "generator": GENERATOR_VERSION,
        "organizations": counts[org_table],
        "branches": shape.branches,
        "users": counts[user_table],
        "memberships": counts[membership_table],
        "seconds": round(clock.total(), 1),
    }
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(json.dumps(meta))
            )
        )
    print(
        f"  {'total':<38} {clock.total():8.1f} s  ({total_rows:,} rows, "
        f"{total_rows / clock.total():,.0f} rows/s overall)\n"
        f"  rows: {counts[org_table]:,} organisations ({shape.branches:,} branches), "
        f"{counts[user_table]:,} users, {counts[membership_table]:,} memberships "
        f"({len(members.transferred):,} ended)",
        flush=True,
    )


def _refuse_unless_empty(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> None:
    """Stop unless ``tables`` are empty and no row elsewhere references them.

    A row of a referencing table whose keys to ``tables`` are all NULL (the shipped rule set
    that ``migrate`` installs, with no author) references nothing; ``TRUNCATE … CASCADE``
    removes it with the rest, and ``bench.points`` installs the rule set again.
    """
    for table in tables:
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
        row = cur.fetchone()
        if row and row[0]:
            raise SystemExit(f"{table} is not empty after migrate: the generator would wipe it")
    cur.execute(
        """SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
           WHERE c.contype = 'f' AND c.confrelid = ANY(%s::regclass[])""",
        [list(tables)],
    )
    for table, column in cur.fetchall():
        cur.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} IS NOT NULL)").format(
                sql.Identifier(table), sql.Identifier(column)
            )
        )
        row = cur.fetchone()
        if row and row[0]:
            raise SystemExit(f"{table} is not empty after migrate: the generator would wipe it")


def tree_problems(conn: psycopg.Connection[Any], table: str, steplen: int) -> dict[str, int]:
    """Treebeard's invariants checked in three set-based queries (fast at any scale)."""
    t = sql.Identifier(table)
    queries = {
        "wrong depth": sql.SQL("SELECT count(*) FROM {} WHERE depth * %s <> length(path)"),
        "orphans": sql.SQL(
            "SELECT count(*) FROM {t} c WHERE c.depth > 1 AND NOT EXISTS "
            "(SELECT 1 FROM {t} p WHERE p.path = left(c.path, -%s))"
        ),
        "wrong numchild": sql.SQL(
            "SELECT count(*) FROM {t} p LEFT JOIN (SELECT left(path, -%s) AS parent, count(*) AS n"
            " FROM {t} WHERE depth > 1 GROUP BY 1) k ON k.parent = p.path"
            " WHERE p.numchild <> coalesce(k.n, 0)"
        ),
    }
    problems = {}
    for what, query in queries.items():
        row = conn.execute(query.format(t, t=t), [steplen]).fetchone()
        if row and row[0]:
            problems[what] = int(row[0])
    return problems


def treebeard_check() -> None:
    """Treebeard's own ``find_problems`` (one query per node: small scales only) and
    ``get_descendants`` of a county against the SQL count."""
    from xuexi.organizations.models import Organization

    problems = Organization.objects.find_problems()
    if any(problems):
        raise SystemExit(f"treebeard find_problems: {problems}")
    county = Organization.objects.filter(kind="county").order_by("path").first()
    if county is None:
        raise SystemExit("no county in the generated tree")
    descendants = Organization.objects.get_descendants(county).count()
    expected = Organization.objects.filter(path__startswith=county.path).count() - 1
    if descendants != expected or descendants == 0:
        raise SystemExit(f"get_descendants gave {descendants}, expected {expected}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"1.0 = 234,000 branches, 5.4 M members (default {DEFAULT_SCALE})",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the database to DROP and rebuild (its name must contain 'bench')",
    )
    parser.add_argument(
        "--if-needed",
        action="store_true",
        help="keep the database when it holds this scale and is fully migrated",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="also run treebeard's find_problems (one query per node: small scales only)",
    )
    args = parser.parse_args(argv)
    if "bench" not in _dbname(args.database_url):
        parser.error("refusing to drop a database whose name does not contain 'bench'")
    try:
        Shape.at(args.scale)
    except ValueError as error:
        parser.error(str(error))
    setup_django(args.database_url)
    try:
        psycopg.connect(_maintenance_url(args.database_url), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        parser.error(f"PostgreSQL does not answer: {error}")
    if args.if_needed:
        meta = read_meta(args.database_url)
        wanted = {"scale": args.scale, "seed": SEED, "generator": GENERATOR_VERSION}
        if meta and all(meta.get(key) == value for key, value in wanted.items()):
            pending = unapplied_migrations()
            if not pending:
                print(f"bench.generate: reusing {_dbname(args.database_url)} (scale {args.scale})")
                return
            print(f"bench.generate: {pending} migrations are new since the data was generated")
        elif meta:
            print(f"bench.generate: the database holds scale {meta.get('scale')}, rebuilding")
    generate(args.database_url, args.scale, args.check)


if __name__ == "__main__":
    main(sys.argv[1:])
