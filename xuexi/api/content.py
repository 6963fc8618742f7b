"""Content routes of API.md (C3): channels, columns, items, search, favourites, subscriptions
and shares. The learning sessions are in ``xuexi/api/learning.py``.

Thin: members read published items only (``Item.objects.published()``: an unpublished item,
or one whose publication time has not come, answers 404 like a missing one); editors and
operators write through ``xuexi/content/access.py`` (403 for someone who edits nothing, 404 for
an object outside his editing scope) and the services of ``xuexi/content/services.py``, which
sanitise bodies, index for search and audit. Every route needs a Bearer token or the web
session (deny by default, SECURITY S7): the public preview of an item is the share page
``/s/<token>``, not this API. JSON only: covers, posters and media files are uploaded in the
console.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.content import selectors, services
from xuexi.content.access import EditorScope, access_column_as_editor, access_item_as_editor
from xuexi.content.access import editable_accounts as editable_accounts_of
from xuexi.content.models import (
    Account,
    Channel,
    Column,
    Favourite,
    Item,
    ItemKind,
    ItemStatus,
    Subscription,
)
from xuexi.core import ratelimit
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import NotFound, ValidationFailed
from xuexi.core.pagination import Page, paginate

router = Router(tags=["内容"])

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is invalid input, not a database error
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="内容 id")]
AccountId = Annotated[int, Path(ge=1, le=MAX_ID, description="强国号 id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Kind = Literal["article", "video", "audio"]

# Where the reader's pages live (xuexi/web): the Range-capable media view of an item and the
# public share page. The API answers them as absolute URLs built from the request.
MEDIA_PATH = "/items/{id}/media"
SHARE_PATH = "/s/{token}"

# Per member, atomic counters (SECURITY S24); past them 429 with Retry-After.
SEARCHES_PER_MINUTE = 30
ACTIONS_PER_MINUTE = 30  # favourites, subscriptions, shares (adding and removing)
EDITS_PER_MINUTE = 60  # editors' POST/PATCH of items
MAX_TAGS = 20


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing on write.
    if "\x00" in value:
        raise ValueError("NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


def _hit(key: str, user: User, count: int, message: str) -> None:
    ratelimit.hit(ratelimit.Limit(key=f"{key}:{user.pk}", count=count, seconds=60, message=message))


# --- shapes -------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ChannelOut(Schema):
    id: int
    kind: str = Field(description="national（全国频道）或 local（本地频道）")
    name: str
    platform: Ref


class ChannelList(Schema):
    items: list[ChannelOut]
    next_cursor: str | None = Field(None, description="始终为 null：频道一次全部返回")


class ColumnOut(Schema):
    id: int
    name: str
    slug: str
    parent_id: int | None
    channel_id: int
    position: int


class ColumnList(Schema):
    items: list[ColumnOut]
    next_cursor: str | None = Field(None, description="始终为 null：栏目一次全部返回")


class ItemSummaryOut(Schema):
    id: int
    kind: str
    title: str
    summary: str
    cover_url: str | None = Field(description="封面图片的绝对地址；没有封面为 null")
    column: Ref
    account: Ref | None = Field(description="发布的强国号；没有为 null")
    source: str
    published_at: dt.datetime | None = Field(description="发布时间；草稿为 null")
    recommended: bool
    featured: bool
    duration: int | None = Field(description="视频、音频的时长（秒）；文章为 null")
    read_count: int


class ItemOut(ItemSummaryOut):
    status: str = Field(description="published、draft 或 withdrawn；成员只会看到 published")
    body: str = Field(description="净化后的 HTML 正文；视频、音频为其简介")
    author: str
    tags: list[str]
    media_url: str | None = Field(
        description="视频、音频的播放地址（支持 Range 请求，需登录）；文章或尚无文件为 null"
    )
    media_type: str | None = Field(description="音视频文件的 MIME 类型；文章为 null")
    poster_url: str | None
    favourited: bool = Field(description="调用者是否已收藏")
    subscribed: bool | None = Field(description="调用者是否已订阅其强国号；没有强国号为 null")
    updated_at: dt.datetime


class ItemPage(Schema):
    items: list[ItemSummaryOut]
    next_cursor: str | None


class SearchHitOut(ItemSummaryOut):
    title_html: str = Field(description="标题，HTML 转义，检索词以 <mark> 标出")
    snippet_html: str = Field(
        description="正文（视频、音频为摘要）中检索词附近约 80 个字，HTML 转义，仅含 <mark> 标记"
    )


class SearchPage(Schema):
    items: list[SearchHitOut]
    next_cursor: str | None
    words: list[str] = Field(description="检索词切分后的词语")


class ItemIn(Schema):
    column_id: int = Field(ge=1, le=MAX_ID)
    kind: Literal["article"] = Field(
        "article", description="只能是 article：视频、音频需上传文件，请在管理后台发布"
    )
    title: Text
    body: Text = ""
    summary: Text = Field("", description="留空时取正文开头")
    publish: bool = False
    # Extensions.
    source: Text = ""
    author: Text = ""
    tags: list[Text] = Field(default_factory=list, max_length=MAX_TAGS)
    account_id: int | None = Field(None, ge=1, le=MAX_ID, description="以哪个强国号发布")


class ItemPatch(Schema):
    title: Text | None = None
    summary: Text | None = None
    body: Text | None = None
    source: Text | None = None
    author: Text | None = None
    tags: list[Text] | None = Field(None, max_length=MAX_TAGS)
    column_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: Literal["published", "withdrawn", "draft"] | None = None
    publish: bool | None = Field(
        None, description="true 发布（同 status=published），false 撤回已发布的内容"
    )
    recommended: bool | None = None
    featured: bool | None = None


class ShareOut(Schema):
    url: str = Field(description="分享链接（绝对地址），无需登录即可查看")
    points_awarded: int


# --- reading ------------------------------------------------------------------------------------


def _file_url(request: HttpRequest, file: FieldFile) -> str | None:
    return request.build_absolute_uri(file.url) if file else None


def item_summary(request: HttpRequest, item: Item) -> dict[str, Any]:
    media = item.kind != ItemKind.ARTICLE
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "summary": item.summary,
        "cover_url": _file_url(request, item.cover),
        "column": {"id": item.column_id, "name": item.column.name},
        "account": {"id": item.account.pk, "name": item.account.name} if item.account else None,
        "source": item.source,
        "published_at": item.published_at,
        "recommended": item.recommended,
        "featured": item.featured,
        "duration": item.duration if media else None,
        "read_count": item.read_count,
    }


def item_full(request: HttpRequest, item: Item) -> dict[str, Any]:
    user = _user(request)
    media = item.kind != ItemKind.ARTICLE
    media_url = None
    if media and item.media:
        media_url = request.build_absolute_uri(MEDIA_PATH.format(id=item.pk))
    subscribed = None
    if item.account_id is not None:
        subscribed = Subscription.objects.filter(member=user, account_id=item.account_id).exists()
    return {
        **item_summary(request, item),
        "status": item.status,
        "body": item.body,
        "author": item.author,
        "tags": item.tag_list,
        "media_url": media_url,
        "media_type": (item.media_type or None) if media else None,
        "poster_url": _file_url(request, item.poster),
        "favourited": Favourite.objects.filter(member=user, item=item).exists(),
        "subscribed": subscribed,
        "updated_at": item.updated_at,
    }


def _published_items() -> QuerySet[Item]:
    return Item.objects.published().select_related("column", "account")


def _published_item(item_id: int) -> Item:
    item = _published_items().filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("找不到该内容，或它尚未发布。"))
    return item


def _page(items: QuerySet[Item], cursor: str | None, limit: int | None) -> Page[Item]:
    """Newest first by publication time, then id (keyset: stable while items are added)."""
    try:
        return paginate(items, cursor=cursor, limit=limit, field="published_at")
    except (DjangoValidationError, TypeError, ValueError, OverflowError) as exc:
        # A cursor that decodes but does not hold a time and an id (only a forged one does).
        raise ValidationFailed({"cursor": _("分页游标无效。")}) from exc


def _column_and_below(column_id: int) -> list[int]:
    """The active column ``column_id`` and its active sub-columns, all levels (404 if the
    column is missing or switched off)."""
    if not Column.objects.filter(pk=column_id, is_active=True).exists():
        raise NotFound(_("找不到该栏目。"))
    found, frontier = [column_id], [column_id]
    while frontier:
        frontier = list(
            Column.objects.filter(parent_id__in=frontier, is_active=True)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found += frontier
    return found


@router.get("/channels", response={200: ChannelList, **ERRORS})
def channel_list(request: HttpRequest) -> dict[str, Any]:
    """The national channel and every local channel (本地频道), in the operators' order."""
    channels = Channel.objects.select_related("platform").order_by("position", "id")
    return {
        "items": [
            {
                "id": channel.pk,
                "kind": channel.kind,
                "name": channel.name,
                "platform": {"id": channel.platform_id, "name": channel.platform.name},
            }
            for channel in channels
        ],
        "next_cursor": None,
    }


@router.get("/columns", response={200: ColumnList, **ERRORS})
def column_list(request: HttpRequest, channel: OptionalId = None) -> dict[str, Any]:
    """Active columns (栏目) of ``channel`` (all channels without it), by channel, then the
    operators' order; a sub-column names its ``parent_id``. 404 for an unknown channel."""
    columns = Column.objects.filter(is_active=True).order_by(
        "channel__position", "channel_id", "position", "id"
    )
    if channel is not None:
        if not Channel.objects.filter(pk=channel).exists():
            raise NotFound(_("找不到该频道。"))
        columns = columns.filter(channel_id=channel)
    return {
        "items": [
            {
                "id": column.pk,
                "name": column.name,
                "slug": column.slug,
                "parent_id": column.parent_id,
                "channel_id": column.channel_id,
                "position": column.position,
            }
            for column in columns
        ],
        "next_cursor": None,
    }


@router.get("/items", response={200: ItemPage, **ERRORS})
def item_list(
    request: HttpRequest,
    column: OptionalId = None,
    kind: Kind | None = None,
    channel: OptionalId = None,
    account: OptionalId = None,
    recommended: bool | None = None,
    featured: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Published items, newest first. ``column`` includes its sub-columns; ``channel``,
    ``account`` (强国号), ``recommended`` and ``featured`` are extensions; filters combine.
    404 for an unknown column, channel or account."""
    items = _published_items().defer("body", "search_text")
    if column is not None:
        items = items.filter(column_id__in=_column_and_below(column))
    if channel is not None:
        if not Channel.objects.filter(pk=channel).exists():
            raise NotFound(_("找不到该频道。"))
        items = items.filter(column__channel_id=channel)
    if account is not None:
        if not Account.objects.filter(pk=account).exists():
            raise NotFound(_("找不到该强国号。"))
        items = items.filter(account_id=account)
    if kind is not None:
        items = items.filter(kind=kind)
    if recommended is not None:
        items = items.filter(recommended=recommended)
    if featured is not None:
        items = items.filter(featured=featured)
    page = _page(items, cursor, limit)
    return {
        "items": [item_summary(request, item) for item in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/items/{item_id}", response={200: ItemOut, **ERRORS})
def item_detail(request: HttpRequest, item_id: ItemId) -> dict[str, Any]:
    """A published item, whole; opening it records the visit in the caller's reading history
    and its read count. Editors and operators also read the drafts, withdrawn and scheduled
    items of their channels (``status`` tells); for anyone else those answer 404."""
    user = _user(request)
    item = _published_items().filter(pk=item_id).first()
    if item is not None:
        services.history_touch(member=user, item=item)
        item.read_count += 1
    elif EditorScope.of(user).is_editor:
        item = access_item_as_editor(user, item_id)
    else:
        raise NotFound(_("找不到该内容，或它尚未发布。"))
    return item_full(request, item)


@router.get("/search", response={200: SearchPage, **ERRORS})
def search(
    request: HttpRequest,
    q: str,
    kind: Kind | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Published items holding every word of ``q`` (Chinese word segmentation), best first:
    more words in the title, then the engine's rank, then the newest; at most 10 pages.
    ``title_html`` and ``snippet_html`` are HTML-escaped except the ``<mark>`` around the
    query's words. 422 for an empty query or one over 50 characters."""
    _hit("content-search", _user(request), SEARCHES_PER_MINUTE, _("搜索过于频繁，请稍后再试。"))
    if "\x00" in q:
        raise ValidationFailed({"q": _("搜索内容包含无效字符。")})
    page = selectors.search_items(q, limit=limit, cursor=cursor, kind=kind)
    return {
        "items": [
            {
                **item_summary(request, hit.item),
                "title_html": str(hit.title_html),
                "snippet_html": str(hit.excerpt_html),
            }
            for hit in page.items
        ],
        "next_cursor": page.next_cursor,
        "words": list(page.words),
    }


# --- editors ------------------------------------------------------------------------------------

TEXT_FIELDS = ("title", "summary", "body", "source", "author")


def _edit_limit(actor: User) -> None:
    _hit("content-edit", actor, EDITS_PER_MINUTE, _("编辑操作过于频繁，请稍后再试。"))


@router.post("/items", response={201: ItemOut, **ERRORS})
def item_create(request: HttpRequest, payload: ItemIn) -> Status[dict[str, Any]]:
    """An article in a column of the caller's channels (editors and operators), published at
    once with ``publish: true`` (which needs a body). The body is stored sanitised (an
    allow-list: no scripts, event handlers, frames or remote images); the summary defaults to
    the body's opening. Covers and video/audio are uploaded in the console."""
    actor = _user(request)
    _edit_limit(actor)
    column = access_column_as_editor(actor, payload.column_id)
    account = None
    if payload.account_id is not None:
        account = editable_accounts_of(actor).filter(pk=payload.account_id).first()
        if account is None:
            raise NotFound(_("找不到该强国号，或它不在您的管理范围内。"))
    item = services.item_create(
        actor=actor,
        column=column,
        kind=payload.kind,
        data={
            "title": payload.title,
            "body": payload.body,
            "summary": payload.summary,
            "source": payload.source,
            "author": payload.author,
            "tags": ",".join(payload.tags),
        },
        account=account,
        publish=payload.publish,
        ip=client_ip_from_request(request),
    )
    return Status(201, item_full(request, item))


def _patched_status(item: Item, given: dict[str, Any]) -> str | None:
    """The status asked for by ``status`` and/or ``publish`` (``false`` takes a published item
    down; on an item not published it changes nothing)."""
    status: str | None = given.get("status")
    publish: bool | None = given.get("publish")
    if publish is None:
        return status
    if status is not None and (status == ItemStatus.PUBLISHED) != publish:
        raise ValidationFailed({"publish": _("与 status 矛盾。")})
    if status is not None:
        return status
    if publish:
        return ItemStatus.PUBLISHED
    return ItemStatus.WITHDRAWN if item.status == ItemStatus.PUBLISHED else None


@router.patch("/items/{item_id}", response={200: ItemOut, **ERRORS})
def item_patch(request: HttpRequest, item_id: ItemId, payload: ItemPatch) -> dict[str, Any]:
    """Edit, move (``column_id``, within the caller's channels), publish / withdraw
    (``status`` or ``publish``), recommend, feature (published items only). Only the fields
    sent change; ``null`` clears a text field. An empty body changes nothing."""
    actor = _user(request)
    _edit_limit(actor)
    item = access_item_as_editor(actor, item_id)
    given = payload.dict(exclude_unset=True)
    data: dict[str, Any] = {name: given[name] or "" for name in TEXT_FIELDS if name in given}
    if "tags" in given:
        data["tags"] = ",".join(given["tags"] or [])
    for flag in ("recommended", "featured"):
        if given.get(flag) is not None:
            data[flag] = given[flag]
    status = _patched_status(item, given)
    if status is not None:
        data["status"] = status
    column = None
    if given.get("column_id") is not None:
        column = access_column_as_editor(actor, given["column_id"])
    if data or column is not None:
        item = services.item_update(
            actor=actor, item=item, data=data, column=column, ip=client_ip_from_request(request)
        )
    return item_full(request, item)


# --- members' actions ---------------------------------------------------------------------------


def _action_limit(member: User) -> None:
    _hit("content-action", member, ACTIONS_PER_MINUTE, _("操作过于频繁，请稍后再试。"))


@router.post("/items/{item_id}/favourite", response={204: None, **ERRORS})
def favourite_add(request: HttpRequest, item_id: ItemId) -> Status[None]:
    """收藏 a published item. Idempotent: again is 204 and pays nothing (``favourite`` pays
    once per item under rule sets that have it)."""
    member = _user(request)
    _action_limit(member)
    services.favourite_add(member=member, item=_published_item(item_id))
    return Status(204, None)


@router.delete("/items/{item_id}/favourite", response={204: None, **ERRORS})
def favourite_remove(request: HttpRequest, item_id: ItemId) -> Status[None]:
    """Un-favourite (204 also when it was not a favourite). An item withdrawn since can still
    be removed from the caller's favourites; points paid are kept."""
    member = _user(request)
    _action_limit(member)
    favourite = Favourite.objects.select_related("item").filter(member=member, item_id=item_id)
    found = favourite.first()
    item = found.item if found is not None else _published_item(item_id)
    services.favourite_remove(member=member, item=item)
    return Status(204, None)


def _account(account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("找不到该强国号。"))
    return account


@router.post("/accounts/{account_id}/subscription", response={204: None, **ERRORS})
def subscription_add(request: HttpRequest, account_id: AccountId) -> Status[None]:
    """订阅 a 强国号. Idempotent; ``subscribe`` pays once per account. 409
    ``account_inactive`` for an account switched off."""
    member = _user(request)
    _action_limit(member)
    services.subscription_add(member=member, account=_account(account_id))
    return Status(204, None)


@router.delete("/accounts/{account_id}/subscription", response={204: None, **ERRORS})
def subscription_remove(request: HttpRequest, account_id: AccountId) -> Status[None]:
    """Unsubscribe (204 also when not subscribed)."""
    member = _user(request)
    _action_limit(member)
    services.subscription_remove(member=member, account=_account(account_id))
    return Status(204, None)


@router.post("/items/{item_id}/shares", response={201: ShareOut, **ERRORS})
def share_create(request: HttpRequest, item_id: ItemId) -> Status[dict[str, Any]]:
    """A share link of a published item, opened without signing in. The caller's link of the
    day is reused; ``share`` pays once per item and day (``points_awarded`` 0 after)."""
    member = _user(request)
    _action_limit(member)
    share, award = services.share_create(member=member, item=_published_item(item_id))
    url = request.build_absolute_uri(SHARE_PATH.format(token=share.token))
    return Status(201, {"url": url, "points_awarded": award.points})
