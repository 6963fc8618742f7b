"""Reads about content, scoped to who asks."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.caching import LIST_SECONDS, STRUCTURE_SECONDS, cached, cached_many
from xuexi.content.models import (
    Account,
    Channel,
    ChannelKind,
    Column,
    Favourite,
    Item,
    ItemKind,
    ItemStatus,
    LearningSession,
    ReadingHistory,
    SessionState,
    Share,
    Subscription,
)
from xuexi.content.sanitize import body_text
from xuexi.content.search import (
    MAX_QUERY_LENGTH,
    excerpt,
    fts5_query,
    highlight,
    pg_tsquery,
    query_words,
    term_pattern,
)
from xuexi.core.errors import ValidationFailed
from xuexi.core.pagination import Page, clamp_limit, paginate
from xuexi.organizations.models import Organization

# --- learning sessions (C13) ---------------------------------------------------------------------


def invalid_sessions(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    reason: str | None = None,
    member: User | None = None,
    organization: Organization | None = None,
) -> QuerySet[LearningSession]:
    """Sessions judged invalid, newest first, for the integrity review: closed between
    ``since`` (inclusive) and ``until`` (exclusive), for one ``reason`` code, one ``member``,
    or the members currently in ``organization``'s subtree. The caller checks that the
    reviewer may see that subtree (``access_organization_as_admin``). Reads the partial index
    ``session_invalid``."""
    sessions = LearningSession.objects.filter(state=SessionState.INVALID).select_related(
        "member", "item"
    )
    if since is not None:
        sessions = sessions.filter(finished_at__gte=since)
    if until is not None:
        sessions = sessions.filter(finished_at__lt=until)
    if reason:
        sessions = sessions.filter(reason=reason)
    if member is not None:
        sessions = sessions.filter(member=member)
    if organization is not None:
        sessions = sessions.filter(
            member__memberships__ended_at__isnull=True,
            member__memberships__organization__path__startswith=organization.path,
        )
    return sessions.order_by("-finished_at", "-id")


def session_open_of(member: User) -> LearningSession | None:
    """The member's open session, if any (there is at most one)."""
    return (
        LearningSession.objects.filter(member=member, state=SessionState.OPEN)
        .select_related("item")
        .first()
    )


# --- search (ADR 0010) ---------------------------------------------------------------------------
#
# Both read only published items (``ItemQuerySet.published``: status ``published`` and a
# publication time that has come) through the full-text index of ``Item.search_text`` — a GIN
# expression index on PostgreSQL, an FTS5 table kept by triggers on SQLite (migration
# ``0002_search``). The SQL is written by hand, one statement per database, because ranking
# needs each engine's own function (``ts_rank_cd``, ``bm25``); the rows are then read through
# the ORM.

MAX_PAGES = 10
# Only the newest matches are ranked: a common word (乡村, 学习) matches a large share of all
# items, and ranking every one of them would cost a pass over their text on PostgreSQL (the
# vector is not stored, only indexed). A window of 10 pages of the largest size holds every
# result that can be paged to.
RANKED_WINDOW = MAX_PAGES * 100
EXCERPT_WIDTH = 80
SUGGEST_LIMIT = 8
MAX_SUGGESTIONS = 20

# PostgreSQL: ``to_tsvector('simple', search_text)``, stored by the database in a generated
# column that the ORM does not see, GIN-indexed (0002_search).
_PG_VECTOR = "{}.search_vector"
_PG_QUERY = "to_tsquery('simple'::regconfig, %s)"
_FTS_TABLE = "content_item_fts"


@dataclass(frozen=True)
class SearchHit:
    """A found item with its title and an excerpt of its text, HTML-escaped, the query's words
    marked with ``<mark>``."""

    item: Item
    title_html: SafeString
    excerpt_html: SafeString


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None
    words: tuple[str, ...]  # what the query was understood to ask for


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    title_html: SafeString


def _clean_query(query: str | None) -> str:
    text = " ".join(str(query or "").split())
    if not text:
        raise ValidationFailed({"q": _("请输入要搜索的内容。")})
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationFailed({"q": _("搜索内容不能超过 %(n)d 个字。") % {"n": MAX_QUERY_LENGTH}})
    return text


def _encode_cursor(offset: int, page: int) -> str:
    raw = json.dumps([offset, page], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    """The offset and the page number that ``cursor`` continues with."""
    invalid = ValidationFailed({"cursor": _("分页游标无效。")})
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise invalid from exc
    if (
        not isinstance(values, list)
        or len(values) != 2
        or not all(type(value) is int for value in values)
    ):
        raise invalid
    offset, page = values
    if not (0 < offset < RANKED_WINDOW and 1 < page <= MAX_PAGES):
        raise invalid
    return offset, page


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _title_has(alias: str) -> str:
    return f"(CASE WHEN lower({alias}.title) LIKE %s ESCAPE '\\' THEN 1 ELSE 0 END)"


def _published(alias: str, kind: str | None) -> tuple[str, list[Any]]:
    """The conditions of ``ItemQuerySet.published`` (and of the kind asked for) in SQL."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = f"{alias}.status = %s AND {alias}.published_at <= %s"
    params: list[Any] = [ItemStatus.PUBLISHED.value, now]
    if kind:
        sql += f" AND {alias}.kind = %s"
        params.append(kind)
    return sql, params


def _matches(terms: list[str], kind: str | None) -> tuple[str, str, list[Any]]:
    """``FROM`` and ``WHERE`` of the published items (alias ``i``) that match all ``terms`` on
    this database, and their parameters."""
    published, params = _published("i", kind)
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor == "postgresql":
        where = f"{_PG_VECTOR.format('i')} @@ {_PG_QUERY} AND {published}"
        return f"{table} AS i", where, [pg_tsquery(terms), *params]
    # SQLite: the FTS5 table must drive the join — bm25() only exists inside its MATCH, and the
    # planner would rather walk the newest items and ask FTS5 about each (seconds, not
    # milliseconds, over 20,000 articles). CROSS JOIN fixes that order.
    source = f"{_FTS_TABLE} CROSS JOIN {table} AS i ON i.id = {_FTS_TABLE}.rowid"
    where = f"{_FTS_TABLE} MATCH %s AND {published}"
    return source, where, [fts5_query(terms), *params]


def _ranked_ids(terms: list[str], *, kind: str | None, offset: int, count: int) -> list[int]:
    """Ids of up to ``count`` matching items from ``offset`` on, best first: those whose title
    holds more of the query's words, then by the engine's rank (how often and how closely the
    words occur), then newest; among the newest ``RANKED_WINDOW`` matches."""
    source, where, params = _matches(terms, kind)
    if connection.vendor == "postgresql":
        rank = f"ts_rank_cd({_PG_VECTOR.format('hits')}, {_PG_QUERY}) DESC"
        rank_params: list[Any] = [pg_tsquery(terms)]
        window_columns = "i.id, i.title, i.published_at, i.search_vector"
    else:
        rank, rank_params = "hits.score", []  # bm25: lower is better
        window_columns = f"i.id, i.title, i.published_at, bm25({_FTS_TABLE}) AS score"
    title_hits = " + ".join(_title_has("hits") for _term in terms)
    statement = (
        f"SELECT hits.id FROM (SELECT {window_columns} FROM {source} WHERE {where} "  # noqa: S608
        f"ORDER BY i.published_at DESC, i.id DESC LIMIT %s) AS hits "
        f"ORDER BY ({title_hits}) DESC, {rank}, hits.published_at DESC, hits.id DESC "
        f"LIMIT %s OFFSET %s"
    )
    params = [
        *params,
        RANKED_WINDOW,
        *(_like(term) for term in terms),
        *rank_params,
        count,
        offset,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def search_items(
    query: str, *, limit: int | None = 20, cursor: str | None = None, kind: str | None = None
) -> SearchPage:
    """Published items matching all words of ``query`` (the last also as a prefix), best first
    (``_ranked_ids``), with highlighted titles and excerpts; ``kind`` limits them to articles,
    videos or audio. Results end after ``MAX_PAGES`` pages.

    Raises ``ValidationFailed`` for an empty query, one over ``MAX_QUERY_LENGTH`` characters,
    a bad limit, kind or cursor. A query of punctuation only finds nothing.
    """
    text = _clean_query(query)
    size = clamp_limit(limit)
    if kind is not None and kind not in ItemKind.values:
        raise ValidationFailed({"kind": _("内容类型无效。")})
    offset, page = _decode_cursor(cursor) if cursor else (0, 1)
    terms = query_words(text)
    if not terms:
        return SearchPage(items=[], next_cursor=None, words=())
    ids = _ranked_ids(terms, kind=kind, offset=offset, count=size + 1)
    next_cursor = None
    if len(ids) > size:
        ids = ids[:size]
        if page < MAX_PAGES:
            next_cursor = _encode_cursor(offset + size, page + 1)
    rows = Item.objects.select_related("column", "account").defer("search_text").in_bulk(ids)
    pattern = term_pattern(terms)
    hits = [
        SearchHit(
            item=item,
            title_html=highlight(item.title, pattern),
            excerpt_html=excerpt(body_text(item.body) or item.summary, pattern, EXCERPT_WIDTH),
        )
        for item in (rows.get(pk) for pk in ids)
        if item is not None  # deleted between the two reads
    ]
    return SearchPage(items=hits, next_cursor=next_cursor, words=tuple(terms))


SEARCH_CACHE_SECONDS = 60


def search_items_cached(
    query: str, *, limit: int | None = 20, cursor: str | None = None, kind: str | None = None
) -> SearchPage:
    """``search_items``, the same for everybody: kept for ``SEARCH_CACHE_SECONDS`` per query,
    kind, cursor and size in the current generation of the reader's lists
    (``xuexi.content.caching``): an item edited or withdrawn is not found from the cache after
    the write; a scheduled item's time coming shows within the minute. Refusals are never
    cached (they raise)."""
    text = " ".join(str(query or "").split())
    key = (
        "search:"
        + hashlib.blake2b(
            repr((text, limit, cursor or "", kind or "")).encode(), digest_size=16
        ).hexdigest()
    )
    return cached(
        key,
        SEARCH_CACHE_SECONDS,
        lambda: search_items(text, limit=limit, cursor=cursor, kind=kind),
    )


def suggest(query: str, limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """Titles for search-as-you-type: among the newest ``RANKED_WINDOW`` items matching
    ``query`` (its last word possibly unfinished), those whose title holds every word, newest
    first, each title once.

    One statement through the full-text index, reading ids and titles only. An empty query or
    one of punctuation only suggests nothing; one over ``MAX_QUERY_LENGTH`` characters raises
    ``ValidationFailed``.
    """
    if not 1 <= limit <= MAX_SUGGESTIONS:
        raise ValidationFailed(
            {"limit": _("建议数量须在 1 到 %(max)s 之间。") % {"max": MAX_SUGGESTIONS}}
        )
    text = " ".join(str(query or "").split())
    if not text:
        return []
    terms = query_words(_clean_query(text))
    if not terms:
        return []
    source, where, params = _matches(terms, None)
    # The index finds the items holding the words anywhere; their titles are then checked as
    # text (a title holds a word when it contains it: the last one may be half typed). Checking
    # titles outside the window would make the planner walk the newest items one by one.
    in_title = " AND ".join(f"{_title_has('hits')} = 1" for _term in terms)
    statement = (
        f"SELECT hits.id, hits.title FROM (SELECT i.id, i.title, i.published_at "  # noqa: S608
        f"FROM {source} WHERE {where} ORDER BY i.published_at DESC, i.id DESC LIMIT %s) AS hits "
        f"WHERE {in_title} ORDER BY hits.published_at DESC, hits.id DESC LIMIT %s"
    )
    like = [_like(term) for term in terms]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, RANKED_WINDOW, *like, limit * 2])
        rows = cursor.fetchall()
    pattern = term_pattern(terms)
    titles: dict[str, int] = {}
    for pk, title in rows:
        titles.setdefault(title, pk)  # the newest item of each title
    return [
        Suggestion(id=pk, title=title, title_html=highlight(title, pattern))
        for title, pk in list(titles.items())[:limit]
    ]


# --- the reader: feeds, item pages, favourites, history, subscriptions ---------------------------
#
# What members read: only published items whose time has come (``ItemQuerySet.published``).
# Every list is newest first and pages by a keyset cursor (``xuexi.core.pagination``): a page
# is one indexed range query however deep it is, and items published meanwhile do not shift it.
# Cards never read ``body`` or ``search_text`` (the two large columns).

FEED_PAGE_SIZE = 20
FEATURED_LIMIT = 5
HOT_LIMIT = 8
HOT_DAYS = 30
RELATED_LIMIT = 4
SUGGESTED_ACCOUNTS = 6
CARD_DEFERRED = ("body", "search_text")


def _cards(items: QuerySet[Item]) -> QuerySet[Item]:
    return items.select_related("column", "account").defer(*CARD_DEFERRED)


def _page(items: QuerySet[Any], *, field: str, cursor: str | None, limit: int) -> Page[Any]:
    """``paginate`` newest first; a tampered cursor is a ``ValidationFailed``, not an error."""
    try:
        return paginate(items, cursor=cursor or None, limit=limit, field=field)
    except DjangoValidationError as exc:  # a cursor whose time does not parse
        raise ValidationFailed({"cursor": _("分页游标无效。")}) from exc


@dataclass(frozen=True)
class ReaderChannels:
    """The channels a reader's home shows: the national one and the local channel (本地频道) of
    his platform — or, for a visitor or a member outside any platform that has one, the first
    local channel."""

    national: Channel | None
    local: Channel | None

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(channel.pk for channel in (self.national, self.local) if channel)


def _ancestor_paths(path: str) -> list[str]:
    step = Organization.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def reader_channels(organization: Organization | None) -> ReaderChannels:
    """The national channel and the local channel of the nearest platform node at or above
    ``organization`` that has one (two queries at most; cached per place for
    ``STRUCTURE_SECONDS``: channels are made by operators, rarely)."""
    path = organization.path if organization is not None else ""
    return cached(
        f"channels:{path}", STRUCTURE_SECONDS, lambda: _reader_channels(organization), local=True
    )


def _reader_channels(organization: Organization | None) -> ReaderChannels:
    wanted = Q(kind=ChannelKind.NATIONAL)
    if organization is not None:
        wanted |= Q(kind=ChannelKind.LOCAL, platform__path__in=_ancestor_paths(organization.path))
    channels = list(Channel.objects.filter(wanted).select_related("platform"))
    national = next((c for c in channels if c.kind == ChannelKind.NATIONAL), None)
    locals_ = [c for c in channels if c.kind == ChannelKind.LOCAL]
    local = max(locals_, key=lambda c: len(c.platform.path)) if locals_ else None
    if local is None:
        local = (
            Channel.objects.filter(kind=ChannelKind.LOCAL)
            .select_related("platform")
            .order_by("position", "id")
            .first()
        )
    return ReaderChannels(national=national, local=local)


@dataclass(frozen=True)
class ColumnTab:
    """A top-level column of a channel with the ids of its sub-columns (its tab shows both)."""

    column: Column
    ids: tuple[int, ...]


def column_tabs(channel: Channel | None) -> list[ColumnTab]:
    """The channel's active top-level columns in the operators' order (one query; cached for
    ``STRUCTURE_SECONDS``, and renewed by every column write)."""
    if channel is None:
        return []
    return cached(
        f"tabs:{channel.pk}", STRUCTURE_SECONDS, lambda: _column_tabs(channel), local=True
    )


def _column_tabs(channel: Channel) -> list[ColumnTab]:
    columns = Column.objects.filter(channel=channel, is_active=True).order_by("position", "id")
    rows = list(columns)
    children: dict[int, list[int]] = {}
    for column in rows:
        if column.parent_id is not None:
            children.setdefault(column.parent_id, []).append(column.pk)
    return [
        ColumnTab(column=column, ids=(column.pk, *children.get(column.pk, ())))
        for column in rows
        if column.parent_id is None
    ]


def feed_items(
    *,
    channel_ids: tuple[int, ...] | None = None,
    column_ids: tuple[int, ...] | None = None,
    recommended: bool = False,
    kinds: tuple[str, ...] | None = None,
    account: Account | None = None,
    subscriber: User | None = None,
    cursor: str | None = None,
    limit: int = FEED_PAGE_SIZE,
) -> Page[Item]:
    """One page of published items, newest first, of the given channels, columns, kinds, 强国号
    (``account``) or of the accounts ``subscriber`` follows; ``recommended`` keeps the
    operators' recommended items only. Raises ``ValidationFailed`` for a bad cursor."""
    items = Item.objects.published()
    if channel_ids is not None:
        items = items.filter(column__channel_id__in=channel_ids)
    if column_ids is not None:
        items = items.filter(column_id__in=column_ids)
    if recommended:
        items = items.filter(recommended=True)
    if kinds is not None:
        items = items.filter(kind__in=kinds)
    if account is not None:
        items = items.filter(account=account)
    if subscriber is not None:
        followed = Subscription.objects.filter(member=subscriber).values("account_id")
        items = items.filter(account_id__in=followed)
    return _page(_cards(items), field="published_at", cursor=cursor, limit=limit)


def recommended_exists(channel_ids: tuple[int, ...]) -> bool:
    """Whether the operators have recommended anything in these channels (else 推荐 shows the
    newest items)."""
    return (
        Item.objects.published()
        .filter(recommended=True, column__channel_id__in=channel_ids)
        .exists()
    )


def featured_items(channel_ids: tuple[int, ...], limit: int = FEATURED_LIMIT) -> list[Item]:
    """The home's 焦点: featured items of these channels, newest first (the partial index
    ``item_featured_feed``)."""
    items = Item.objects.published().filter(featured=True, column__channel_id__in=channel_ids)
    return list(_cards(items).order_by("-published_at", "-id")[:limit])


def hot_items(channel_ids: tuple[int, ...], limit: int = HOT_LIMIT) -> list[Item]:
    """The most read items of the last ``HOT_DAYS`` days in these channels (热门)."""
    since = timezone.now() - dt.timedelta(days=HOT_DAYS)
    items = Item.objects.published().filter(
        published_at__gte=since, column__channel_id__in=channel_ids
    )
    return list(_cards(items).order_by("-read_count", "-published_at", "-id")[:limit])


@dataclass(frozen=True)
class HomeLists:
    """What a home tab shows that is the same for all its readers."""

    page: Page[Item]
    featured: list[Item]
    hot: list[Item]


def home_lists(
    *,
    channel_ids: tuple[int, ...] = (),
    column_ids: tuple[int, ...] | None = None,
    recommended: bool = False,
    featured: bool = False,
    hot: bool = False,
    hot_of: tuple[int, ...] | None = None,
    cursor: str | None = None,
) -> HomeLists:
    """One home tab's feed page — of ``column_ids``, else of ``channel_ids``, the recommended
    items only when ``recommended`` and there are any — with the channels' 焦点 (``featured``)
    and 热门 (``hot``; of ``hot_of`` when given) when asked for. Cached as one entry for
    ``LIST_SECONDS`` in the current generation (``xuexi.content.caching``): a page is one read
    of the cache."""

    def compute() -> HomeLists:
        only_recommended = recommended and bool(channel_ids) and recommended_exists(channel_ids)
        if column_ids is not None:
            page = feed_items(column_ids=column_ids, cursor=cursor)
        else:
            page = feed_items(channel_ids=channel_ids, recommended=only_recommended, cursor=cursor)
        return HomeLists(
            page=page,
            featured=featured_items(channel_ids) if featured else [],
            hot=hot_items(channel_ids if hot_of is None else hot_of) if hot else [],
        )

    wanted = (channel_ids, column_ids, recommended, featured, hot, hot_of, cursor or "")
    key = "home:" + hashlib.blake2b(repr(wanted).encode(), digest_size=16).hexdigest()
    return cached(key, LIST_SECONDS, compute)


def item_side_lists(item: Item) -> tuple[list[Item], list[Item]]:
    """An item page's 相关推荐 (``related_items``, per item) and its channel's 热门 (shared by
    the channel's pages), each cached for ``LIST_SECONDS`` in the current generation; one
    read of the cache for both."""
    channel_id = item.column.channel_id
    related, hot = cached_many(
        (f"related:{item.pk}:{item.column_id}", LIST_SECONDS, lambda: related_items(item)),
        (f"hot:{channel_id}", LIST_SECONDS, lambda: hot_items((channel_id,))),
    )
    return related, hot


def item_for_reader(item_id: int) -> Item | None:
    """A published item with its column, channel and 强国号, or ``None`` (drafts, withdrawn
    and scheduled items are not there for members)."""
    return (
        Item.objects.published()
        .select_related("column__channel", "account")
        .defer("search_text")
        .filter(pk=item_id)
        .first()
    )


def related_items(item: Item, limit: int = RELATED_LIMIT) -> list[Item]:
    """The newest other items of ``item``'s column."""
    items = Item.objects.published().filter(column_id=item.column_id).exclude(pk=item.pk)
    return list(_cards(items).order_by("-published_at", "-id")[:limit])


def item_is_favourite(member: User, item: Item) -> bool:
    return Favourite.objects.filter(member=member, item=item).exists()


def account_is_subscribed(member: User, account: Account) -> bool:
    return Subscription.objects.filter(member=member, account=account).exists()


def share_of(member: User, item: Item, token: str) -> Share | None:
    """The member's own share link of ``item`` with ``token``, if there is one."""
    return Share.objects.filter(member=member, item=item, token=token[:16]).first()


def share_get(token: str) -> Share | None:
    """The share link with ``token`` whose item members may see now, or ``None``."""
    return (
        Share.objects.filter(
            token=token[:16],
            item__status=ItemStatus.PUBLISHED,
            item__published_at__lte=timezone.now(),
        )
        .select_related("item")
        .first()
    )


def account_for_reader(account_id: int) -> Account | None:
    """An active 强国号."""
    return Account.objects.filter(pk=account_id, is_active=True).first()


def accounts_subscribed(member: User) -> list[Account]:
    """The 强国号 the member follows, the latest subscription first."""
    return list(
        Account.objects.filter(subscriptions__member=member, is_active=True).order_by(
            "-subscriptions__created_at", "-id"
        )
    )


def accounts_to_discover(member: User | None, limit: int = SUGGESTED_ACCOUNTS) -> list[Account]:
    """Active 强国号 the member does not follow yet, the most followed first."""
    accounts = Account.objects.filter(is_active=True)
    if member is not None:
        accounts = accounts.exclude(subscriptions__member=member)
    return list(accounts.order_by("-subscriber_count", "id")[:limit])


def favourites_of(
    member: User, *, cursor: str | None = None, limit: int = FEED_PAGE_SIZE
) -> Page[Favourite]:
    """The member's 收藏 of items still published, newest favourite first (``row.item`` is
    read with the row)."""
    rows = Favourite.objects.filter(
        member=member,
        item__status=ItemStatus.PUBLISHED,
        item__published_at__lte=timezone.now(),
    ).select_related("item__column", "item__account")
    rows = rows.defer(*(f"item__{name}" for name in CARD_DEFERRED))
    return _page(rows, field="created_at", cursor=cursor, limit=limit)


def history_of(
    member: User, *, cursor: str | None = None, limit: int = FEED_PAGE_SIZE
) -> Page[ReadingHistory]:
    """The member's 学习记录 of items still published, the latest visit first."""
    rows = ReadingHistory.objects.filter(
        member=member,
        item__status=ItemStatus.PUBLISHED,
        item__published_at__lte=timezone.now(),
    ).select_related("item__column", "item__account")
    rows = rows.defer(*(f"item__{name}" for name in CARD_DEFERRED))
    return _page(rows, field="last_at", cursor=cursor, limit=limit)
