"""The content benchmark: the reader's pages served over HTTP as in production, beside a trivial
JSON view behind the same middleware on the same server in the same run.

    python -m bench.content --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench \\
        [--duration 10] [--connections 16] [--workers 2] [--blocking-threads 2] \\
        [--redis-url redis://127.0.0.1:6379/12] [--items 100000] [--build-only | --clean]

Runs against a database made by ``bench.generate`` (``make bench`` runs it after the points
benchmark). Three steps:

**Data.** ``--items`` (100,000) published items in the national channel's columns and in the
local channel of the bench province (the demo's column and 强国号 layouts, ``xuexi.content.demo``),
published over the last two years, most of them articles, one in nine a video or an audio
programme pointing at the demo's shipped file names (no files are copied: the pages only link to
them). Titles, leads and tags are composed for each item by the demo's writer; article bodies
(1–3 KB) join that lead to sections drawn from a pool the same writer composed once per topic, so
that each section is segmented once: ``search_text`` is what ``xuexi.content.services`` stores
(``segment`` of the title, summary, body text and tags; a sample is checked). Written in one
transaction with ``COPY``, the secondary indexes and keys of ``content_item`` dropped and rebuilt
(as ``bench.generate`` does), then ``VACUUM ANALYZE``. A JSON comment on ``content_item`` marks the
data: a later run reuses it unless the item count, the seed or the builder's version differ or it
is more than a week old (the 热门 list and relative times follow the clock). ``--clean`` removes
it all. The builder refuses to start when the content tables hold rows it did not write.

**Server.** granian with the WSGI interface on ``config.wsgi:application``, as production runs
it: ``XUEXI_ENV=production``, ``DEBUG`` off, ``ALLOWED_HOSTS=127.0.0.1``, a random
``SECRET_KEY``, the bench database with persistent connections (``CONN_MAX_AGE``), Redis as the
cache (``--redis-url``, database 12 by default: flushed before and after, nothing else is
touched), static files collected into a temporary directory (the hashed manifest of
production). Only ``SECURE_SSL_REDIRECT`` is off (no TLS here) and ``ROOT_URLCONF`` is
``bench.urls``: the project's URLs plus ``/bench/ping``. Started on a free port, stopped at the
end, also after a failure.

**Load.** ``wrk`` from localhost (``scripts/bench-deps.sh`` installs it): for each measure a
warm-up, then ``wrk -t2 -c<connections> -d<duration>s --latency`` with ``bench/content.lua``,
which rotates over a list of paths (many items, ~50 search words) and prints its results as
JSON. The anchor ``/bench/ping`` runs first and last; pages are compared with the mean of the
two. Signed-in measures use a bench member's session cookie (a registered member with no points
yet: the first request of the day pays him the daily login, which the clean-up removes with his
counters, the session and the API token).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import html
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from bench import common
from bench.common import machine, print_markdown
from bench.generate import (
    PLACE_ROOTS,
    Clock,
    _dbname,
    allocate,
    check_rebuilt,
    copy_rows,
    copy_text,
    extra_columns,
    secondary_structures,
    sequences_past_ids,
)
from bench.generate import drop as drop_structure

if TYPE_CHECKING:
    from xuexi.accounts.models import User
    from xuexi.content.demo import AccountSpec, ColumnSpec, Topic

BASE_DIR = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().parent / "content.lua"

ITEMS = 100_000
SEED = 20190105
BUILDER_VERSION = 1  # bump when the data changes shape: older data is rebuilt
MARKER = "xuexi_bench_content"
MAX_AGE_DAYS = 7  # older data is rebuilt: the 热门 list reads the last 30 days
DAYS = 730  # items are published over the last two years (~137 a day)
POOL_PER_TOPIC = 120  # body sections composed (and segmented) once per topic
MIN_BODY_BYTES = 1_000  # sections are added to an article's lead up to this size …
MAX_SECTIONS = 4  # … and at most this many
RECOMMENDED_SHARE = 0.14
FEATURED_SHARE = 0.002  # of articles with a cover: ~170 featured, the home shows the newest 5
SAMPLE_CHECK = 300  # items whose search_text is compared with segment() of the whole text
SAMPLE_TIMED = 1_000  # article bodies segmented whole after the load, to time segment()

REDIS_URL = "redis://127.0.0.1:6379/12"
DURATION = 10
WARM_UP = 3
CONNECTIONS = 16
WORKERS = 2
BLOCKING_THREADS = 2
WRK_THREADS = 2
ITEM_PAGES = 3_000  # the item-page measures rotate over this many items
APPLICATION_NAME = "xuexi-bench-content"
AIM = 0.5  # of the anchor's requests/s (0.6 for cached pages: none is cached yet)

# Search words a reader types: themes, tags and common words of the demo's topics.
QUERIES: tuple[str, ...] = (
    "乡村振兴", "营商环境", "民生实事", "重点项目", "就业", "政务服务", "高质量发展", "理论学习",
    "三会一课", "调查研究", "党史", "红色基因", "初心使命", "革命传统", "集体经济", "特色产业",
    "农村电商", "高标准农田", "共同富裕", "生态环境", "河长制", "绿色发展", "垃圾分类",
    "植树造林", "科技创新", "数字化转型", "科技特派员", "智能制造", "普法", "民法典", "人民调解",
    "法律援助", "枫桥经验", "非物质文化遗产", "传统村落", "农家书屋", "文旅融合", "家庭医生",
    "全民健身", "慢病管理", "乡村教师", "课后服务", "职业教育", "网格化管理", "老旧小区改造",
    "志愿服务", "新时代文明实践", "关爱老人", "学习积分", "返乡青年",
)  # fmt: skip

ARTICLE_TABLES = ("content_channel", "content_column", "content_account", "content_item")


# --- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """Paragraphs of an article body composed once, with their words for the index."""

    html: str
    words: str


@dataclass(frozen=True)
class Planned:
    spec: ColumnSpec
    local: bool
    number: int  # the item's number in its column
    column_id: int
    published_at: dt.datetime


@dataclass
class Files:
    """Stored file names the rows point at (the demo's names; the files are not copied)."""

    covers: dict[str, tuple[str, str]]
    video: tuple[str, str, int]  # name, content type, duration
    audio: tuple[str, str, int]
    poster: str


@dataclass
class Stats:
    items: int = 0
    kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    body_bytes: list[int] = dataclasses.field(default_factory=list)
    search_bytes: int = 0
    segment_seconds: float = 0.0
    segmented_bytes: int = 0


def read_marker(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    row = conn.execute("SELECT obj_description('content_item'::regclass, 'pg_class')").fetchone()
    if row is None or not row[0]:
        return None
    try:
        marker = json.loads(row[0])
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and marker.get(MARKER) else None


def marker_fits(marker: dict[str, Any] | None, items: int, today: dt.date) -> str:
    """Why the data must be rebuilt, or "" when it can be reused."""
    if marker is None:
        return "no content data yet"
    wanted = {"version": BUILDER_VERSION, "seed": SEED, "items": items}
    for key, value in wanted.items():
        if marker.get(key) != value:
            return f"the data has {key} {marker.get(key)}, this run wants {value}"
    built = dt.date.fromisoformat(str(marker.get("built", "2000-01-01")))
    if (today - built).days > MAX_AGE_DAYS:
        return f"the data was built on {built}: more than {MAX_AGE_DAYS} days ago"
    return ""


def foreign_rows(conn: psycopg.Connection[Any]) -> list[str]:
    """The content tables the builder writes that hold rows."""
    found = []
    for table in ARTICLE_TABLES:
        row = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()
        if row and row[0]:
            found.append(table)
    return found


def references(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(table, column) of the foreign keys into the content tables from other tables."""
    rows = conn.execute(
        """SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
           WHERE c.contype = 'f' AND c.confrelid = ANY(%s::regclass[])
             AND c.conrelid <> ALL(%s::regclass[])
           ORDER BY 1, 2""",
        [list(ARTICLE_TABLES), list(ARTICLE_TABLES)],
    ).fetchall()
    return [(str(table), str(column)) for table, column in rows]


def clean(url: str) -> None:
    """Remove the bench content: every row of the four tables it writes (all of them the
    bench's, as the marker says). Refuses when rows elsewhere refer to them (favourites,
    learning sessions, quiz hints…: the benchmark writes none)."""
    with psycopg.connect(url, autocommit=True) as conn:
        marker = read_marker(conn)
        if marker is None:
            if foreign_rows(conn):
                raise SystemExit(
                    "bench.content: the content tables hold data the benchmark did not write "
                    "(no marker on content_item): not removing it"
                )
            print("bench.content: no bench content to remove")
            return
        for table, column in references(conn):
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {} IS NOT NULL").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
            ).fetchone()
            if row and row[0]:
                raise SystemExit(
                    f"bench.content: {row[0]:,} rows of {table} refer to the bench content "
                    f"({column}): remove them first, or regenerate the database"
                )
        started = time.perf_counter()
        counts = {}
        with conn.transaction():
            # Nothing refers to these rows (checked): no foreign-key triggers for the delete.
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in reversed(ARTICLE_TABLES):  # items first, channels last
                counts[table] = conn.execute(
                    sql.SQL("DELETE FROM {}").format(sql.Identifier(table))
                ).rowcount
            conn.execute("COMMENT ON TABLE content_item IS NULL")
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(
                sql.SQL(", ").join(map(sql.Identifier, ARTICLE_TABLES))
            )
        )
    removed = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(
        f"bench.content: removed the bench content ({removed}) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def stored_files() -> Files:
    """The names under which ``seed_demo`` stores its covers and media (the rows only point
    at them; the item page does not open them)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xuexi.content.demo import MEDIA_DIR, NATIONAL_COLUMNS, _flatten, local_columns
    from xuexi.content.media import check_media
    from xuexi.content.models import ItemKind

    covers = {
        spec.slug: (f"covers/demo/{spec.slug}-0.jpg", f"covers/demo/{spec.slug}-1.jpg")
        for spec in _flatten(NATIONAL_COLUMNS) + _flatten(local_columns([]))
    }
    media = []
    for kind, filename in ((ItemKind.VIDEO, "demo-video.mp4"), (ItemKind.AUDIO, "demo-audio.m4a")):
        data = (MEDIA_DIR / filename).read_bytes()
        checked = check_media(SimpleUploadedFile(filename, data), kind)
        media.append((f"media/demo/{filename}", checked.content_type, checked.duration))
    return Files(covers, media[0], media[1], "posters/demo/demo-poster.jpg")


class Builder:
    """Composes the items with the demo's writer over the bench province's places."""

    def __init__(self, rng: random.Random, at: dt.datetime) -> None:
        from xuexi.content import demo
        from xuexi.organizations.models import Organization

        self.rng = rng
        self.at = at
        self.root = Organization.objects.get(depth=1)
        self.province = Organization.objects.get(kind="province")
        cities = list(
            Organization.objects.filter(kind="city")
            .order_by("path")
            .values_list("id", "code", "name", "path")
        )
        city_at = {path: name for _id, _code, name, path in cities}
        step = Organization.steplen
        counties = list(
            Organization.objects.filter(kind="county")
            .order_by("path")
            .values_list("id", "code", "name", "path")
        )
        if len(cities) < 3 or not counties:
            raise SystemExit("bench.content: the bench tree has no cities or counties")
        places = []
        for _id, _code, county, path in counties:
            urban = county.endswith("区")
            for _ in range(4):
                town = rng.choice(PLACE_ROOTS) + ("街道" if urban else "镇")
                village = rng.choice(PLACE_ROOTS) + ("社区" if urban else "村")
                places.append(demo.Place(city_at[path[:-step]], county, town, village))
        self.city_codes = [(code, name) for _id, code, name, _path in cities]
        self.organization_of = {code: oid for oid, code, _name, _path in cities + counties}
        self.units = dict(
            Organization.objects.filter(kind="unit", code__startswith="BX-SZ").values_list(
                "name", "id"
            )
        )
        tree = demo._Tree(
            province=self.province,
            root=self.root,
            cities=self.city_codes,
            counties=[(code, name) for _id, code, name, _path in counties],
            places=places,
            path_of={},
        )
        first_county = (counties[0][1], counties[0][2])
        self.accounts: list[AccountSpec] = [
            dataclasses.replace(
                spec,
                name=spec.name.replace("示范", "基准"),
                intro=spec.intro.replace("示范", "基准"),
            )
            for spec in demo.account_specs(self.city_codes, first_county)
        ]
        self.writer = demo._Writer(rng, tree, self.accounts)
        self.national = demo.NATIONAL_COLUMNS
        self.local = demo.local_columns([name for _code, name in self.city_codes])
        self.files = stored_files()
        self.stats = Stats()
        self.pool: dict[str, list[Section]] = {}
        self.sample_bodies: list[str] = []  # whole article bodies, to time segment() on them

    # -- small tables

    def column_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[ColumnSpec, bool, int]]]:
        """Rows of ``content_column`` and, for each column, (spec, is local, id)."""
        rows: list[tuple[Any, ...]] = []
        columns: list[tuple[ColumnSpec, bool, int]] = []

        def add(spec: ColumnSpec, channel: int, parent: int | None, position: int) -> None:
            column_id = len(rows) + 1
            rows.append((column_id, spec.name, spec.slug, position, True, channel, parent))
            columns.append((spec, channel == 2, column_id))
            for child_position, child in enumerate(spec.children):
                add(child, channel, column_id, child_position)

        for channel, specs in ((1, self.national), (2, self.local)):
            for position, spec in enumerate(specs):
                add(spec, channel, None, position)
        return rows, columns

    def account_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for number, spec in enumerate(self.accounts, start=1):
            if spec.owner.startswith("unit:"):
                owner = next(
                    (oid for name, oid in self.units.items() if name.startswith(spec.owner[5:])),
                    self.province.pk,
                )
            else:
                owner = self.organization_of.get(spec.owner, self.province.pk)
            created = self.at - dt.timedelta(days=800 - 7 * number)
            subscribers = int(270_000 * spec.reach[1] * self.rng.uniform(0.8, 1.2))
            rows.append(
                (
                    number,
                    spec.kind,
                    spec.name,
                    spec.intro,
                    f"accounts/demo/account-{number}.jpg",
                    subscribers,
                    True,
                    created,
                    owner,
                )
            )
        return rows

    # -- items

    def plan(self, columns: list[tuple[ColumnSpec, bool, int]], items: int) -> list[Planned]:
        """Every item's column and publishing time, oldest first (ids follow time)."""
        from xuexi.content.demo import _publish_time

        counts = allocate(items, [spec.count for spec, _local, _id in columns], minimum=1)
        planned = [
            Planned(spec, local, number, column_id, _publish_time(
                self.rng, self.at, self.rng.uniform(0, DAYS)
            ))
            for (spec, local, column_id), count in zip(columns, counts, strict=True)
            for number in range(count)
        ]  # fmt: skip
        planned.sort(key=lambda p: p.published_at)
        return planned

    def segment(self, *texts: str) -> str:
        from xuexi.content.search import segment

        started = time.perf_counter()
        words = segment(*texts)
        self.stats.segment_seconds += time.perf_counter() - started
        self.stats.segmented_bytes += sum(len(text.encode()) for text in texts)
        return words

    def sections(self, topic_key: str) -> list[Section]:
        """The topic's pool: the middle of demo articles (their lead dropped), sanitised and
        segmented once."""
        from xuexi.content.demo import TOPICS, Place
        from xuexi.content.sanitize import body_text, sanitize_body

        if topic_key not in self.pool:
            topic = TOPICS[topic_key]
            found = []
            for number in range(POOL_PER_TOPIC):
                place: Place = self.rng.choice(self.writer.tree.places)
                day = (self.at - dt.timedelta(days=self.rng.uniform(0, DAYS))).date()
                fixed = self.writer.fixed(topic, place, day)
                body, _summary = self.writer.article(topic, fixed, f"pool-{topic_key}-{number}")
                middle = sanitize_body(body[body.index("</p>") + len("</p>") :])
                if middle:
                    found.append(Section(middle, self.segment(body_text(middle))))
            self.pool[topic_key] = found
        return self.pool[topic_key]

    def item_rows(self, planned: list[Planned], suffix: str) -> Iterator[str]:
        """COPY lines of ``content_item``, ids 1… in ``planned`` order."""
        from xuexi.content.demo import DATELINES, TOPICS, person_name
        from xuexi.content.models import ItemKind
        from xuexi.content.sanitize import body_text, sanitize_body
        from xuexi.content.search import segment
        from xuexi.core.time import BUSINESS_TZ

        rng, writer = self.rng, self.writer
        account_ids = {spec.name: number for number, spec in enumerate(self.accounts, start=1)}
        for item_id, plan in enumerate(planned, start=1):
            spec = plan.spec
            if spec.by_accounts:
                chosen = self.accounts[plan.number % len(self.accounts)]
                topic_key = rng.choice(chosen.topics)
                account: AccountSpec | None = chosen
            else:
                topic_key = rng.choice(spec.topics)
                account = writer.account_for(spec, topic_key, plan.local)
            topic: Topic = TOPICS[topic_key]
            place = writer.place(topic, spec)
            published = plan.published_at
            fixed = writer.fixed(topic, place, published.astimezone(BUSINESS_TZ).date())
            if spec.kind == ItemKind.ARTICLE:
                prefix = spec.title_prefix if rng.random() < 0.5 else ""
                title = prefix + writer.sentence(writer.fresh(spec.slug, topic.titles), fixed)
                lead = writer.fresh(spec.slug, topic.leads)
                dateline = ""
                if lead.startswith("+"):
                    lead = lead[1:]
                    dateline = writer.sentence(rng.choice(DATELINES), fixed)
                lead = writer.sentence(lead, fixed)
                first = sanitize_body(f"<p>{dateline}{lead}</p>")
                sections = [rng.choice(self.sections(topic_key))]
                size = len(first.encode()) + len(sections[0].html.encode())
                while size < MIN_BODY_BYTES and len(sections) < MAX_SECTIONS:
                    sections.append(rng.choice(self.sections(topic_key)))
                    size += len(sections[-1].html.encode())
                body = first + "".join(section.html for section in sections)
                summary = html.unescape(lead)[:300]
                body_words = [self.segment(body_text(first))] + [s.words for s in sections]
            else:
                title = writer.media_prefix(spec, topic_key) + writer.sentence(
                    writer.fresh(spec.slug, topic.titles), fixed
                )
                raw, summary = writer.media(topic, fixed, spec.kind)
                body = sanitize_body(raw)
                summary = summary[:300]
                body_words = [self.segment(body_text(body))]
            title = title[:120]
            tags = [topic.tags[0], *rng.sample(topic.tags[1:], rng.randint(1, 3))]
            if rng.random() < 0.3:
                tags.append(place.county)
            tag_text = ",".join(dict.fromkeys(tags))[:200]
            search_text = " ".join(
                part for part in (self.segment(title), self.segment(summary), *body_words) if part
            )
            tag_words = self.segment(tag_text)
            search_text = (
                f"{search_text} {tag_words}"
                if search_text and tag_words
                else (search_text or tag_words)
            )
            if item_id <= SAMPLE_CHECK:
                whole = segment(title, summary, body_text(body), tag_text)
                if whole != search_text:
                    raise SystemExit(
                        f"bench.content: item {item_id}'s search_text differs from what "
                        "xuexi.content.services would store: the section pool no longer "
                        "segments like whole bodies"
                    )
            if account is not None:
                source = account.name
            else:
                sources = (
                    ("{province}融媒体中心", "{city}融媒体中心", "{county}融媒体中心", "基准日报")
                    if plan.local
                    else ("学习平台编辑部", "基准日报", "基准广播电视台", "{province}融媒体中心")
                )
                source = rng.choice(sources).format_map(fixed)
            author = " ".join(person_name(rng) for _ in range(rng.choice((1, 1, 2))))
            kind = str(spec.kind)
            with_cover = kind != ItemKind.ARTICLE or rng.random() < 0.75
            cover = (
                self.files.covers.get(spec.slug, ("", ""))[plan.number % 2] if with_cover else ""
            )
            media = (
                self.files.video
                if kind == ItemKind.VIDEO
                else self.files.audio
                if kind == ItemKind.AUDIO
                else ("", "", 0)
            )
            poster = self.files.poster if kind == ItemKind.VIDEO else ""
            featured = kind == ItemKind.ARTICLE and bool(cover) and rng.random() < FEATURED_SHARE
            recommended = featured or rng.random() < RECOMMENDED_SHARE
            age = (self.at - published).total_seconds() / 86_400
            reads = rng.lognormvariate(6.2 if plan.local else 7.1, 0.8)
            reads *= 0.2 + 0.8 * (1 - math.exp(-age / 3))
            reads *= 3.0 if featured else 1.8 if recommended else 1.0
            created = published - dt.timedelta(minutes=rng.randint(20, 600))
            account_id = account_ids[account.name] if account is not None else None
            self.stats.items += 1
            self.stats.kinds[kind] = self.stats.kinds.get(kind, 0) + 1
            self.stats.body_bytes.append(len(body.encode()))
            if kind == ItemKind.ARTICLE and len(self.sample_bodies) < SAMPLE_TIMED:
                self.sample_bodies.append(body)
            self.stats.search_bytes += len(search_text.encode())
            values = (
                item_id, kind, title, summary, cover, body, source[:60], author[:60], tag_text,
                media[0], media[1], poster, media[2], "published", published, recommended,
                featured, max(3, int(reads)), search_text, created, published, account_id,
                plan.column_id, None,
            )  # fmt: skip
            yield "\t".join(copy_text(value) for value in values) + suffix + "\n"


ITEM_COLUMNS = [
    "id", "kind", "title", "summary", "cover", "body", "source", "author", "tags", "media",
    "media_type", "poster", "duration", "status", "published_at", "recommended", "featured",
    "read_count", "search_text", "created_at", "updated_at", "account_id", "column_id",
    "created_by_id",
]  # fmt: skip
CHANNEL_COLUMNS = ["id", "kind", "name", "position", "platform_id"]
COLUMN_COLUMNS = ["id", "name", "slug", "position", "is_active", "channel_id", "parent_id"]
ACCOUNT_COLUMNS = [
    "id", "kind", "name", "intro", "avatar", "subscriber_count", "is_active", "created_at",
    "organization_id",
]  # fmt: skip


def rows_as_lines(rows: Sequence[tuple[Any, ...]], suffix: str) -> Iterator[str]:
    for row in rows:
        yield "\t".join(copy_text(value) for value in row) + suffix + "\n"


def build(url: str, items: int) -> dict[str, Any]:
    """Write the bench content in one transaction; returns the marker left on content_item."""
    from xuexi.content.models import Account, Channel, Column, Item
    from xuexi.content.sanitize import body_text
    from xuexi.content.search import segment
    from xuexi.core.time import now

    at = now().replace(microsecond=0)
    print(f"bench.content: building {items:,} items into {_dbname(url)} (seed {SEED})", flush=True)
    clock = Clock()
    builder = Builder(random.Random(SEED), at)
    column_rows, columns = builder.column_rows()
    planned = builder.plan(columns, items)
    channel_rows = [
        (1, "national", "全国", 0, builder.root.pk),
        (2, "local", builder.province.name, 1, builder.province.pk),
    ]
    account_rows = builder.account_rows()
    clock.lap("places, columns and publishing times")
    for topic_key in sorted({key for spec, _l, _i in columns for key in spec.topics}):
        builder.sections(topic_key)
    for spec in builder.accounts:
        for topic_key in spec.topics:
            builder.sections(topic_key)
    sections = sum(len(pool) for pool in builder.pool.values())
    clock.lap(f"{sections:,} body sections composed and segmented")
    tables = list(ARTICLE_TABLES)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        cur.execute("SET synchronous_commit = off")
        suffixes = {}
        for model, known in (
            (Channel, CHANNEL_COLUMNS),
            (Column, COLUMN_COLUMNS),
            (Account, ACCOUNT_COLUMNS),
            (Item, ITEM_COLUMNS),
        ):
            extra, suffix = extra_columns(cur, model, known)
            suffixes[model._meta.db_table] = (extra, suffix)
        rebuild = secondary_structures(cur, ["content_item"])
        for structure in sorted(rebuild, key=lambda s: not s.is_foreign_key):
            drop_structure(cur, structure)
        # No TRUNCATE (nor COPY … FREEZE, which needs one): other apps' tables refer to these
        # (quiz hints, favourites…) and a TRUNCATE would have to empty them too. The four
        # tables are empty (checked); VACUUM sets the visibility map after the load.
        if foreign_rows(conn):
            raise SystemExit(f"bench.content: {', '.join(foreign_rows(conn))} are not empty")
        clock.lap(f"drop {len(rebuild)} indexes and keys of content_item")
        for table, columns_of, rows in (
            ("content_channel", CHANNEL_COLUMNS, channel_rows),
            ("content_column", COLUMN_COLUMNS, column_rows),
            ("content_account", ACCOUNT_COLUMNS, account_rows),
        ):
            extra, suffix = suffixes[table]
            copy_rows(cur, table, columns_of + extra, rows_as_lines(rows, suffix), freeze=False)
        extra, suffix = suffixes["content_item"]
        written = copy_rows(
            cur,
            "content_item",
            ITEM_COLUMNS + extra,
            builder.item_rows(planned, suffix),
            freeze=False,
        )
        clock.lap("COPY content_item (text composed on the way)", written)
        for structure in sorted(rebuild, key=lambda s: s.is_foreign_key):
            started = time.perf_counter()
            cur.execute(structure.create)
            if "gin" in structure.create.lower():
                print(f"    {structure.name}: {time.perf_counter() - started:.1f} s", flush=True)
        check_rebuilt(cur, ["content_item"], rebuild)
        clock.lap(f"rebuild {len(rebuild)} indexes and keys")
        sequences_past_ids(cur, tables)
        conn.commit()
        clock.lap("commit")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
        clock.lap("VACUUM ANALYZE")
        stats = builder.stats
        sizes = sorted(stats.body_bytes)
        body_bytes = {
            "mean": round(statistics.fmean(sizes)),
            "p5": sizes[len(sizes) // 20],
            "p95": sizes[len(sizes) * 19 // 20],
        }
        marker: dict[str, Any] = {
            MARKER: True,
            "version": BUILDER_VERSION,
            "seed": SEED,
            "items": stats.items,
            "built": at.date().isoformat(),
            "kinds": stats.kinds,
            "columns": len(column_rows),
            "accounts": len(account_rows),
            "body_bytes": body_bytes,
            "seconds": round(clock.total(), 1),
        }
        conn.execute(
            sql.SQL("COMMENT ON TABLE content_item IS {}").format(sql.Literal(json.dumps(marker)))
        )
    rate = stats.segmented_bytes / stats.segment_seconds / 1e6 if stats.segment_seconds else 0
    print(
        f"  {'total':<38} {clock.total():8.1f} s\n"
        f"  {stats.items:,} items ({', '.join(f'{k} {n:,}' for k, n in stats.kinds.items())}); "
        f"bodies {body_bytes['mean']:,} B on average (5–95 %: "
        f"{body_bytes['p5']:,}–{body_bytes['p95']:,} B); "
        f"search_text {stats.search_bytes / stats.items:,.0f} B on average\n"
        f"  segment(): {stats.segment_seconds:.1f} s for {stats.segmented_bytes / 1e6:.1f} MB "
        f"of text ({rate:.2f} MB/s)",
        flush=True,
    )
    sample = builder.sample_bodies
    if sample:
        started = time.perf_counter()
        for body in sample:
            segment(body_text(body))
        per_second = len(sample) / (time.perf_counter() - started)
        print(
            f"  segment(body_text(body)) of {len(sample)} whole bodies: {per_second:,.0f} "
            f"bodies/s, i.e. ≈ {stats.items / per_second:,.0f} s for all {stats.items:,} "
            "(the pool segments each section once instead)",
            flush=True,
        )
    return marker


def content_ready(url: str, items: int) -> dict[str, Any]:
    """The marker of usable bench content, building (or rebuilding) it when needed."""
    from xuexi.core.time import business_day

    with psycopg.connect(url, autocommit=True) as conn:
        marker = read_marker(conn)
        why = marker_fits(marker, items, business_day())
        if marker is not None and not why:
            row = conn.execute(
                "SELECT count(*) FROM content_item WHERE status = 'published'"
            ).fetchone()
            if row and int(row[0]) == items:
                print(f"bench.content: reusing the {items:,} items built on {marker['built']}")
                return marker
            why = f"content_item holds {row[0] if row else 0:,} published items, not {items:,}"
        if marker is None and foreign_rows(conn):
            raise SystemExit(
                f"bench.content: {', '.join(foreign_rows(conn))} hold rows the benchmark did not "
                "write: use a database of its own (bench.generate) rather than let it wipe them"
            )
    print(f"bench.content: {why}: building", flush=True)
    if marker is not None:
        clean(url)
    return build(url, items)


# --- the signed-in member ----------------------------------------------------------------------


@dataclass
class Visitor:
    """A bench member signed in with a session cookie and an API token."""

    member: User
    cookie: str
    token: str
    session_key: str


def bench_member() -> User:
    """A registered member (not an administrator) with a current membership and no points
    yet: deleting his ledger entries and counters afterwards restores the database."""
    from django.db.models import Exists, OuterRef

    from xuexi.accounts.models import User
    from xuexi.points.models import Counter, LedgerEntry

    candidates = (
        User.objects.filter(
            registered_at__isnull=False,
            is_active=True,
            is_administrator=False,
            memberships__ended_at__isnull=True,
        )
        .exclude(Exists(LedgerEntry.objects.filter(member=OuterRef("pk"))))
        .exclude(Exists(Counter.objects.filter(member=OuterRef("pk"))))
        .order_by("pk")
    )
    member = candidates[1000:1001].first() or candidates.first()
    if member is None:
        raise SystemExit("bench.content: no registered member without points in the database")
    return member


def sign_in(member: User) -> Visitor:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from xuexi.accounts.services import token_issue

    session = SessionStore()
    session[SESSION_KEY] = str(member.pk)
    session[BACKEND_SESSION_KEY] = "xuexi.accounts.backends.PhonePasswordBackend"
    session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    session.create()
    key = session.session_key or ""
    tokens = token_issue(user=member, user_agent="bench.content")
    return Visitor(member, f"{settings.SESSION_COOKIE_NAME}={key}", tokens.access_token, key)


def sign_out(visitor: Visitor) -> str:
    """Remove what the member's requests left: the session, the tokens, the daily-login points
    (ledger entries and counters: he had none before) — the database as it was."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from xuexi.accounts.models import ApiToken
    from xuexi.points.models import Counter, LedgerEntry

    SessionStore(session_key=visitor.session_key).delete()
    tokens, _ = ApiToken.objects.filter(user=visitor.member).delete()
    ledger = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor:
        # The ledger is append-only for the product; these are the bench member's own entries.
        cursor.execute(f"DELETE FROM {ledger} WHERE member_id = %s", [visitor.member.pk])  # noqa: S608
        entries = cursor.rowcount
    counters, _ = Counter.objects.filter(member=visitor.member).delete()
    return f"the session, {tokens} API tokens, {entries} ledger entries, {counters} counters"


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str) -> None:
    """Empty the bench's own Redis database (only it: FLUSHDB on that database)."""
    import redis

    if url:
        redis.Redis.from_url(url, socket_timeout=10).flushdb()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    command: list[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_env(args: argparse.Namespace, secret: str, var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRANIAN_", "DJANGO_", "XUEXI_", "REDIS", "CELERY"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "XUEXI_ENV": "production",
            "DEBUG": "false",
            "SECRET_KEY": secret,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": with_application_name(args.database_url),
            "DATABASE_POOL": "false",
            "CONN_MAX_AGE": "600",
            "SECURE_SSL_REDIRECT": "false",  # no TLS in front of the bench server
            "ROOT_URLCONF": "bench.urls",
            "XUEXI_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def with_application_name(url: str) -> str:
    """``url`` with ``application_name``: the benchmark finds the server's backends by it."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, v) for k, v in query if k != "application_name"]
    query.append(("application_name", APPLICATION_NAME))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def collect_static(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    return time.perf_counter() - started


def granian() -> str:
    beside = Path(sys.executable).parent / "granian"
    found = str(beside) if beside.exists() else shutil.which("granian")
    if not found:
        raise SystemExit("bench.content: granian is not installed (make install)")
    return found


def start_server(args: argparse.Namespace, env: dict[str, str], log: Path) -> Server:
    port = free_port()
    command = [
        granian(),
        "--interface", "wsgi",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(args.workers),
        "--blocking-threads", str(args.blocking_threads),
        "--no-ws",
        "--log-level", "warning",
        "--working-dir", str(BASE_DIR),
        "config.wsgi:application",
    ]  # fmt: skip
    with log.open("wb") as out:
        # Its own process group: the clean-up stops granian and its workers by that id.
        process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(process, port, log, command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"granian stopped at start:\n{log_tail(log)}")
        status, _size = fetch(server.base + "/healthz")
        if status == 200:
            return server
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"granian did not answer /healthz within 60 s:\n{log_tail(log)}")


def stop_server(server: Server) -> None:
    process = server.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group started above, by its id
        process.wait(timeout=10)


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def fetch(url: str, headers: Sequence[str] = ()) -> tuple[int, int]:
    """Status and body size of one GET (0 when nothing answers)."""
    request = urllib.request.Request(url)  # noqa: S310 - http://127.0.0.1 only
    for header in headers:
        name, value = header.split(": ", 1)
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), len(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), len(error.read())
    except OSError:
        return 0, 0


# --- the load ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    paths: list[str]
    headers: tuple[str, ...]
    sizes: str


@dataclass(frozen=True)
class Result:
    target: Target
    requests: int
    seconds: float
    bytes: int
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    app_cpu: float = 0.0  # seconds of CPU of the granian processes during the measure
    db_cpu: float | None = None  # … of the server's PostgreSQL backends (None: not readable)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds a request costs, application and database."""
        return (self.app_cpu + (self.db_cpu or 0.0)) * 1000 / self.requests if self.requests else 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def wrk(
    base: str, target: Target, paths_file: Path, duration: int, connections: int
) -> dict[str, Any]:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(LUA_SCRIPT)]
    for header in target.headers:
        command += ["-H", header]
    command += [base + "/", "--", str(paths_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise SystemExit(f"wrk gave no result ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def cpu_times(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still there (``/proc/<pid>/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def group_pids(group: int) -> list[int]:
    """The processes of a process group: granian's master and its workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[2]) == group:
                pids.append(int(entry.name))
    return pids


def backend_pids(url: str) -> list[int]:
    """The server's PostgreSQL backends (its connections carry ``APPLICATION_NAME``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
        ).fetchall()
    return [int(pid) for (pid,) in rows]


@dataclass(frozen=True)
class Load:
    """Where the load goes: the server, wrk's settings, the database to watch."""

    server: Server
    work_dir: Path
    duration: int
    warm_up: int
    connections: int
    database_url: str


def measure(load: Load, target: Target) -> Result:
    base = load.server.base
    paths_file = load.work_dir / f"paths-{len(list(load.work_dir.glob('paths-*')))}.txt"
    paths_file.write_text("\n".join(target.paths) + "\n")
    status, _size = fetch(base + target.paths[0], target.headers)
    if status != 200:
        print(f"  {target.name}: HTTP {status} for {target.paths[0]}: not measured", flush=True)
        return Result(target, 0, 0.0, 0, {}, 0.0, 0.0, note=f"not measured: HTTP {status}")
    if load.warm_up:
        wrk(base, target, paths_file, load.warm_up, load.connections)
    app_before = cpu_times(group_pids(load.server.process.pid))
    db_before = cpu_times(backend_pids(load.database_url))
    found = wrk(base, target, paths_file, load.duration, load.connections)
    app_after = cpu_times(group_pids(load.server.process.pid))
    db_after = cpu_times(backend_pids(load.database_url))
    errors = {key: int(found[key]) for key in ("connect", "read", "write", "status", "timeout")}
    result = Result(
        target,
        int(found["requests"]),
        found["duration_us"] / 1e6,
        int(found["bytes"]),
        {key: value for key, value in errors.items() if value},
        found["p50_us"] / 1000,
        found["p99_us"] / 1000,
        app_cpu=sum(cpu - app_before.get(pid, 0.0) for pid, cpu in app_after.items()),
        db_cpu=sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
        if db_after
        else None,
    )
    print(
        f"  {target.name}: {result.rate:,.0f} requests/s, p99 {result.p99_ms:,.1f} ms, "
        f"{result.cpu_ms:,.2f} CPU ms a request, {result.error_count} errors",
        flush=True,
    )
    return result


def targets(visitor: Visitor | None, *, item_ids: list[int], sizes: dict[str, str]) -> list[Target]:
    rng = random.Random(SEED)
    items = [f"/items/{item_id}/" for item_id in item_ids]
    searches = [f"/search/?{urllib.parse.urlencode({'q': word})}" for word in QUERIES]
    rng.shuffle(searches)
    found = [
        Target("`/privacy/`, visitor: a page without queries", ["/privacy/"], (), sizes["floor"]),
        Target("home feed `/`, visitor", ["/"], (), sizes["home"]),
        Target("item page, visitor", items, (), sizes["item"]),
    ]
    if visitor is not None:
        cookie = (f"Cookie: {visitor.cookie}",)
        bearer = (f"Authorization: Bearer {visitor.token}",)
        found += [
            Target("home feed `/`, member", ["/"], cookie, sizes["home_member"]),
            Target("item page, member", items, cookie, sizes["item"]),
            Target("search `/search/?q=`, member", searches, cookie, sizes["search"]),
            Target("API `/api/v1/items`, Bearer token", ["/api/v1/items"], bearer, sizes["api"]),
        ]
    return found


def data_sizes(url: str, visitor: Visitor | None, item_ids: list[int]) -> dict[str, str]:
    from xuexi.content.search import pg_tsquery, query_words

    with psycopg.connect(url) as conn:
        row = conn.execute(
            """SELECT count(*), count(*) FILTER (WHERE published_at > now() - interval '30 days'),
                      count(*) FILTER (WHERE recommended), count(*) FILTER (WHERE featured),
                      pg_total_relation_size('content_item')
               FROM content_item WHERE status = 'published'"""
        ).fetchone()
        if row is None:
            raise SystemExit("bench.content: no content_item statistics")
        total, recent, recommended, featured, table_bytes = row
        hits = []
        for word in QUERIES:
            found = conn.execute(
                "SELECT count(*) FROM content_item WHERE status = 'published' AND "
                "search_vector @@ to_tsquery('simple', %s)",
                [pg_tsquery(query_words(word))],
            ).fetchone()
            hits.append(int(found[0]) if found else 0)
    items = f"{total:,} items ({table_bytes / 2**20:,.0f} MB with indexes)"
    organization = ""
    if visitor is not None:
        from xuexi.organizations.selectors import membership_current

        membership = membership_current(visitor.member)
        organization = (
            f"; the member's branch: {membership.organization.name}" if membership else ""
        )
    return {
        "anchor": '`{"ok": true}`',
        "floor": "the shell's template and a text: what rendering any page costs",
        "home": f"{items}, {recommended:,} recommended, {featured:,} featured, "
        f"{recent:,} in the last 30 days (热门)",
        "home_member": f"as above, his local channel's 本地 tab{organization}",
        "item": f"{len(item_ids):,} items in turn (articles, video, audio) of {total:,}",
        "search": f"{len(QUERIES)} words in turn; matches per word: min {min(hits):,}, median "
        f"{statistics.median(hits):,.0f}, max {max(hits):,} of {total:,}",
        "api": f"first page of {total:,} items",
    }


def pick_items(url: str, count: int) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id FROM content_item WHERE status = 'published' ORDER BY id"
        ).fetchall()
    ids = [int(row[0]) for row in rows]
    return random.Random(SEED).sample(ids, min(count, len(ids)))  # in random order


def ratio(value: float) -> str:
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def print_results(results: Sequence[Result], anchors: Sequence[Result], heading: str) -> None:
    """The table: requests/s and their ratio to the mean of the two anchor runs; CPU a request
    (granian + PostgreSQL) and the anchor's CPU a request over it — what the ratio of
    requests/s would be were the server alone on its cores, whatever else the machine runs."""
    measured = [anchor for anchor in anchors if anchor.requests]
    rate = statistics.fmean([anchor.rate for anchor in measured]) if measured else 0.0
    cpu = statistics.fmean([anchor.cpu_ms for anchor in measured]) if measured else 0.0
    print(f"\n{heading}\n")
    lines = []
    for result in results:
        if not result.requests:
            lines.append((result.target.name, *["—"] * 7, result.note))
            continue
        errors = ", ".join(f"{k} {v:,}" for k, v in result.errors.items()) or "0"
        db = (
            f" ({result.db_cpu * 1000 / result.requests:,.2f} db)"
            if result.db_cpu is not None
            else ""
        )
        lines.append(
            (
                result.target.name,
                f"{result.rate:,.0f}",
                ratio(result.rate / rate) if rate else "—",
                f"{result.p50_ms:,.1f}",
                f"{result.p99_ms:,.1f}",
                f"{result.cpu_ms:,.2f}{db}",
                ratio(cpu / result.cpu_ms) if cpu and result.cpu_ms else "—",
                errors,
                f"{result.target.sizes}; {result.bytes / result.requests / 1024:,.1f} KB a "
                "response",
            )
        )
    print_markdown(
        (
            "measure", "requests/s", "× anchor", "p50 ms", "p99 ms", "CPU ms a request",
            "× anchor (CPU)", "errors", "data sizes",
        ),
        lines,
        right=(1, 2, 3, 4, 5, 6),
    )  # fmt: skip
    below = [
        f"{result.target.name} {ratio(result.rate / rate)}"
        for result in results
        if rate
        and result.requests
        and not result.target.name.startswith("anchor")
        and result.rate / rate < AIM
    ]
    print(
        f"\n× anchor: requests/s over the mean of the two anchor runs ({rate:,.0f}/s). CPU ms a "
        "request: user + system time of granian's processes and (in brackets) of the server's "
        "PostgreSQL backends during the measure, over the requests served; × anchor (CPU): the "
        f"anchors' mean ({cpu:,.2f} ms) over it. Aim: ≥ {AIM} (≥ 0.6 for cached pages). Errors: "
        "wrk's socket errors and non-2xx/3xx answers."
    )
    if below:
        print(f"Below the aim of {AIM}: {'; '.join(below)}.")


def run(args: argparse.Namespace, meta: dict[str, Any]) -> None:
    from django.conf import settings
    from django.db import connections

    marker = content_ready(args.database_url, args.items)
    if args.build_only:
        return
    if shutil.which("wrk") is None:
        raise SystemExit("bench.content: wrk is not installed (scripts/bench-deps.sh)")
    if args.redis_url and not redis_answers(args.redis_url):
        print(f"bench.content: Redis does not answer at {args.redis_url}: local-memory cache")
        args.redis_url = ""
    work_dir = Path(tempfile.mkdtemp(prefix="xuexi-bench-content-"))
    server: Server | None = None
    visitor: Visitor | None = None
    try:
        flush_redis(args.redis_url)
        env = server_env(args, settings.SECRET_KEY, work_dir)
        took = collect_static(env)
        print(f"bench.content: static files collected in {took:.1f} s", flush=True)
        visitor = sign_in(bench_member())
        item_ids = pick_items(args.database_url, ITEM_PAGES)
        sizes = data_sizes(args.database_url, visitor, item_ids)
        connections.close_all()
        server = live = start_server(args, env, work_dir / "granian.log")
        print(
            f"bench.content: {' '.join(live.command[1:])} (pid {live.process.pid}); "
            f"wrk -t{WRK_THREADS} -c{args.connections} -d{args.duration}s after "
            f"{args.warm_up} s of warm-up",
            flush=True,
        )
        anchor = Target(
            "anchor: `/bench/ping` (JSON, same middleware)", ["/bench/ping"], (), sizes["anchor"]
        )
        load = Load(
            live, work_dir, args.duration, args.warm_up, args.connections, args.database_url
        )

        def one(target: Target) -> Result:
            return measure(load, target)

        results = [one(anchor)]
        for target in targets(visitor, item_ids=item_ids, sizes=sizes):
            results.append(one(target))
        results.append(one(dataclasses.replace(anchor, name="anchor again, after the pages")))
        anchors = [results[0], results[-1]]
        log = log_tail(live.log)
        if "Traceback" in log or "ERROR" in log:
            print(f"\nthe server logged errors:\n{log}")
    finally:
        if server is not None:
            stop_server(server)
        if visitor is not None:
            connections.close_all()
            print(f"bench.content: removed {sign_out(visitor)} of the bench member", flush=True)
        flush_redis(args.redis_url)
        shutil.rmtree(work_dir, ignore_errors=True)
    cache = "Redis" if args.redis_url else "local memory"
    heading = (
        f"content — {marker['items']:,} items (built {marker['built']}); bench province scale "
        f"{meta.get('scale', '?')} ({meta.get('users', 0):,} users); granian "
        f"{granian_version()} WSGI, {args.workers} workers × {args.blocking_threads} blocking "
        f"threads, CONN_MAX_AGE 600, cache {cache}; wrk -t{WRK_THREADS} -c{args.connections} "
        f"-d{args.duration}s from localhost; {machine()}; {dt.date.today()}"
    )
    print_results(results, anchors, heading)


def granian_version() -> str:
    from importlib.metadata import version

    return version("granian")


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.bench_parser("bench.content", __doc__)
    parser.add_argument("--duration", type=int, default=DURATION, help="seconds per measure")
    parser.add_argument(
        "--warm-up", type=int, default=WARM_UP, help="seconds of load before each measure"
    )
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="granian worker processes")
    parser.add_argument(
        "--blocking-threads", type=int, default=BLOCKING_THREADS, help="per granian worker"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_CONTENT_REDIS_URL", REDIS_URL),
        help="the server's cache; a database of its own: the bench flushes it (default "
        f"$BENCH_CONTENT_REDIS_URL or {REDIS_URL}; empty: local-memory cache)",
    )
    parser.add_argument("--items", type=int, default=ITEMS, help=f"default {ITEMS:,}")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--build-only", action="store_true", help="build the data, measure nothing")
    action.add_argument("--clean", action="store_true", help="remove the bench content and stop")
    args = parser.parse_args(argv)
    meta = common.generated_data(parser, args.database_url)
    # The bench process signs its member in with the server's key.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.pop("REDIS_URL", None)
    common.django_ready(parser, args.database_url)
    if args.clean:
        clean(args.database_url)
        return
    run(args, meta)


if __name__ == "__main__":
    main(sys.argv[1:])
