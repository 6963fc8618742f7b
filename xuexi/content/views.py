"""The reader's pages (C3): the home feed, item pages and the files they play, share pages,
search, 强国号 pages, 视听学习, and 我的收藏 / 学习记录 / 我的订阅 — with the member actions
behind their buttons (收藏, 分享, 订阅).

Thin: reads through ``xuexi.content.selectors``, writes through ``xuexi.content.services``.
The home (``/``) and 视听学习 (``/videos/``) are routed by ``xuexi/web/urls.py`` and drawn
here (``home_page``, ``media_page``); ``/local/`` is the home's 本地 tab.

Who may see what (SECURITY S7): the home, item pages with their media, covers and posters, 强国号
pages and share pages are public — a visitor reads but gets no learning session, only a prompt
to sign in. Search, 本地 (``/local/``), 视听学习, the 我的 pages and every action need a member.

The actions are plain POST forms with a CSRF token: they work without JavaScript (answering
with a redirect back and a message) and ``reader.js`` sends the same forms with
``Accept: application/json`` to update the page in place. Each is idempotent: the form says
what the member wants (``action=add`` or ``remove``), never "toggle", so a repeated POST changes
nothing and pays nothing twice.

Media in production. ``item_media`` answers ``Range`` requests itself (one range, 206 with
``Content-Range``, 416 when unsatisfiable), which is what phones need to seek in a video. Behind
the front proxy, set ``CONTENT_MEDIA_ACCEL_REDIRECT`` (e.g. ``/protected-media/``): the view
then still decides who may have the file (published items only) but answers with an empty
body and ``X-Accel-Redirect: /protected-media/<file name>``, and nginx sends the bytes itself,
ranges included::

    location /protected-media/ {
        internal;                          # reachable only through X-Accel-Redirect
        alias /srv/xuexi/media/;           # MEDIA_ROOT
    }

nginx keeps the view's ``Content-Type`` and ``Cache-Control``. Covers, posters and avatars go
the same way. Without the setting (the embedded default) Django streams the files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from xuexi.accounts.models import User
from xuexi.content import caching, selectors, services
from xuexi.content.models import Account, Item, ItemKind
from xuexi.core import ratelimit
from xuexi.core.errors import DomainError, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Membership
from xuexi.organizations.selectors import membership_current, organization_path_names
from xuexi.points.services import Award

FRAGMENT_HEADER = "X-Reader-Fragment"  # reader.js asks for the next page's cards only
ACTIONS_PER_MINUTE = 60  # 收藏, 分享, 订阅 together, per member
SUGGESTIONS_PER_MINUTE = 120  # search-as-you-type: a fast typist, debounced
MEDIA_MAX_AGE = 3600
IMAGE_MAX_AGE = 86400
SEARCH_PAGE_SIZE = 20

# --- small presentation helpers ------------------------------------------------------------------


def relative_time(moment: dt.datetime, at: dt.datetime | None = None) -> str:
    """How long ago, as a feed says it: 刚刚, 5分钟前, 3小时前 (today), 昨天, 11-20 (this
    year), 2023-11-20 (Beijing time)."""
    at = at or timezone.now()
    seconds = (at - moment).total_seconds()
    if seconds < 60:
        return _("刚刚")
    if seconds < 3600:
        minutes = int(seconds // 60)
        return ngettext("%(n)d分钟前", "%(n)d分钟前", minutes) % {"n": minutes}
    local = moment.astimezone(BUSINESS_TZ)
    today = business_day(at)
    if local.date() == today:
        hours = int(seconds // 3600)
        return ngettext("%(n)d小时前", "%(n)d小时前", hours) % {"n": hours}
    if local.date() == today - dt.timedelta(days=1):
        return _("昨天")
    if local.year == today.year:
        return local.strftime("%m-%d")
    return local.strftime("%Y-%m-%d")


def duration_text(seconds: int) -> str:
    """03:20, or 1:02:03 past an hour; empty when unknown."""
    if seconds <= 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def source_of(item: Item) -> str:
    """Who the item comes from: its stated source, else its 强国号, else its column."""
    if item.source:
        return item.source
    if item.account_id is not None and item.account is not None:
        return item.account.name
    return item.column.name


_URL_MARKER = 2_147_483_647


@dataclass(frozen=True)
class CardUrls:
    """The item and cover URLs of cards, from one ``reverse`` each per list instead of two per
    card: the same ``reverse`` with a marker id, the marker then replaced — exact, the script
    prefix included."""

    item: tuple[str, str]
    cover: tuple[str, str]

    @classmethod
    def build(cls) -> CardUrls:
        def split(name: str) -> tuple[str, str]:
            head, _marker, tail = reverse(name, args=[_URL_MARKER]).rpartition(str(_URL_MARKER))
            return head, tail

        return cls(item=split("content:item"), cover=split("content:item_cover"))

    def of(self, shape: tuple[str, str], pk: int) -> str:
        return f"{shape[0]}{pk}{shape[1]}"


@dataclass(frozen=True)
class Card:
    """An item as a feed shows it. ``note`` replaces the time where a list has its own (收藏于
    昨天, 学习 3 次)."""

    item: Item
    when: str
    source: str
    duration: str
    note: str = ""
    url: str = ""
    cover_url: str = ""  # empty when the item has no cover

    @property
    def is_media(self) -> bool:
        return self.item.kind != ItemKind.ARTICLE

    @property
    def shown(self) -> tuple[Any, ...]:
        """Everything a card's HTML shows (the key of cached fragments; the language apart)."""
        item = self.item
        published = item.published_at.isoformat() if item.published_at else ""
        return (
            self.url, self.cover_url, item.title, item.kind, published, self.when, self.source,
            self.duration, self.note,
        )  # fmt: skip


def card(item: Item, at: dt.datetime, note: str = "", urls: CardUrls | None = None) -> Card:
    published = item.published_at or item.created_at
    urls = urls or CardUrls.build()
    return Card(
        item=item,
        when=relative_time(published, at),
        source=source_of(item),
        duration=duration_text(item.duration) if item.kind != ItemKind.ARTICLE else "",
        note=note,
        url=urls.of(urls.item, item.pk),
        cover_url=urls.of(urls.cover, item.pk) if item.cover else "",
    )


def cards(items: list[Item]) -> list[Card]:
    at = timezone.now()
    urls = CardUrls.build()
    return [card(item, at, urls=urls) for item in items]


def _shown(shown: list[Card]) -> tuple[Any, ...]:
    return tuple(one.shown for one in shown)


def _member(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _signed_in(request: HttpRequest) -> User:
    """The member of a ``login_required`` view."""
    return request.user  # type: ignore[return-value]


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _is_prefetch(request: HttpRequest) -> bool:
    """A browser's speculative load (prefetch, prerender, preview) rather than a visit."""
    purpose = " ".join(
        request.headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
    ).lower()
    return "prefetch" in purpose or "preview" in purpose or "prerender" in purpose


def _with_query(path: str, **params: str | None) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{path}?{query}" if query else path


def _page_or_fragment(
    request: HttpRequest, template: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only the next page's cards for reader.js's 加载更多."""
    response = render(request, fragment if _wants_fragment(request) else template, context)
    patch_vary_headers(response, [FRAGMENT_HEADER])
    return response


# --- a visitor's whole page ----------------------------------------------------------------------
#
# A visitor's home is the same for every visitor but for the CSRF token of the language switch.
# It is rendered once with a placeholder for the token, kept under a key made of everything it
# shows (``xuexi.content.caching``), and each visitor gets it with his own token put in.

CSRF_PLACEHOLDER = "xuexiCsrfTokenPlaceholder0000000000000000000000000000000000000000"
VISITOR_PARAMS = frozenset({"tab", "cursor"})


def _same_for_all_visitors(request: HttpRequest, tab: str) -> bool:
    """A GET without a session (so no messages to show) and with only the home's own
    parameters, for a tab that exists (so that odd addresses cannot fill the cache)."""
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and set(request.GET) <= VISITOR_PARAMS
        and request.GET.get("tab", tab) == tab
    )


def _visitor_page(
    request: HttpRequest,
    template: str,
    context: Callable[[], dict[str, Any]],
    shown: tuple[Any, ...],
) -> HttpResponse:
    """``template`` with ``context()`` (asked for only when the page is not in the cache), kept
    under everything it shows: ``shown`` (the view's values), the address, the language and
    the static files' names of this release."""
    key = "content:page:" + caching.fragment_key(
        template, request.get_full_path(), static("web/app.css"), static("web/reader.js"), shown
    )
    html = cache.get(key)
    if html is None:
        html = render_to_string(template, {**context(), "csrf_token": CSRF_PLACEHOLDER}, request)
        cache.set(key, html, caching.FRAGMENT_SECONDS)
    response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
    patch_vary_headers(response, [FRAGMENT_HEADER])
    return response


# --- the home feed: 推荐, the national channel's columns, 本地 -----------------------------------

TAB_RECOMMENDED = "recommend"
TAB_LOCAL = "local"
RESERVED_TABS = frozenset({TAB_RECOMMENDED, TAB_LOCAL})


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url: str
    active: bool = False


@dataclass(frozen=True)
class _TabSpec:
    key: str
    label: str
    url: str
    column_ids: tuple[int, ...] = ()


def _tab_specs(
    member: User | None, channels: selectors.ReaderChannels, home: str
) -> list[_TabSpec]:
    specs = [_TabSpec(TAB_RECOMMENDED, _("推荐"), home)]
    for tab in selectors.column_tabs(channels.national):
        slug = tab.column.slug
        key = slug if slug not in RESERVED_TABS else f"column-{tab.column.pk}"
        specs.append(_TabSpec(key, tab.column.name, _with_query(home, tab=key), tab.ids))
    if channels.local is not None:
        # A member's 本地 tab is /local/: opening it is a visit of his local channel (paid).
        url = reverse("content:local") if member else _with_query(home, tab=TAB_LOCAL)
        specs.append(_TabSpec(TAB_LOCAL, _("本地"), url))
    return specs


def _local_visit(request: HttpRequest, member: User | None) -> Award | None:
    """Pay ``local_channel`` for a real look at the local channel: a member's GET of its first
    page, not a browser's prefetch nor reader.js asking for more cards."""
    if (
        member is None
        or request.method != "GET"
        or request.GET.get("cursor")
        or _wants_fragment(request)
        or _is_prefetch(request)
    ):
        return None
    return services.local_channel_visit(member=member)


def home_page(request: HttpRequest, *, tab: str | None) -> HttpResponse:
    """学习: the greeting (or the visitors' hero), 焦点 and the feed of one tab; the side column
    (PC) shows 热门. Cursor pages: ``?cursor=`` (reader.js appends them)."""
    member = _member(request)
    membership: Membership | None = membership_current(member) if member else None
    channels = selectors.reader_channels(membership.organization if membership else None)
    home = reverse("web:home")
    specs = _tab_specs(member, channels, home)
    active = next((spec for spec in specs if spec.key == tab), specs[0])
    cursor = request.GET.get("cursor")

    local_award = None
    whole = not _wants_fragment(request)
    if active.key == TAB_LOCAL and channels.local is not None:
        local_award = _local_visit(request, member)
    if active.key == TAB_RECOMMENDED:
        lists = selectors.home_lists(
            channel_ids=channels.ids,
            recommended=True,
            featured=not cursor and whole,
            hot=whole,
            cursor=cursor,
        )
    elif active.key == TAB_LOCAL and channels.local is not None:
        lists = selectors.home_lists(
            channel_ids=(channels.local.pk,), hot=whole, cursor=cursor, hot_of=channels.ids
        )
    else:
        lists = selectors.home_lists(
            channel_ids=channels.ids, column_ids=active.column_ids, hot=whole, cursor=cursor
        )
    page, featured = lists.page, lists.featured

    shown = {item.pk for item in featured}
    feed = [item for item in page.items if item.pk not in shown]
    base = reverse("content:local") if active.key == TAB_LOCAL and member else home
    params = {"tab": active.key} if base == home and active.key != TAB_RECOMMENDED else {}
    next_url = _with_query(base, **params, cursor=page.next_cursor) if page.next_cursor else ""
    feed_cards = cards(feed)
    featured_cards = cards(featured)
    hot = cards(lists.hot)
    tabs = [Tab(spec.key, spec.label, spec.url, spec is active) for spec in specs]
    wanted = (
        ("content/_focus_block.html", {"featured": featured_cards}, _shown(featured_cards)),
        ("content/_card_list.html", {"cards": feed_cards}, _shown(feed_cards)),
        ("content/_hot.html", {"hot": hot}, _shown(hot)),
    )
    context: dict[str, Any] = {
        "tabs": tabs,
        "active_tab": active.key,
        "active_label": active.label,
        "local_channel": channels.local,
        "local_award": local_award,
        "featured": featured_cards,
        "cards": feed_cards,
        "next_url": next_url,
        "is_first_page": not cursor,
        "shell_current_tab": "home",
        "hot": hot,
    }

    def with_fragments() -> dict[str, Any]:
        focus, feed_html, side = caching.fragments(*wanted)
        return {**context, "focus_html": focus, "cards_html": feed_html, "hot_html": side}

    if member is None and whole and _same_for_all_visitors(request, active.key):
        page_shown = (
            tuple(tabs), active.key, active.label, channels.local.name if channels.local else "",
            next_url, not cursor, tuple(shown for _name, _context, shown in wanted),
        )  # fmt: skip
        return _visitor_page(request, "web/home.html", with_fragments, page_shown)
    if whole and membership is not None:
        context["membership"] = membership
        context["path_names"] = organization_path_names(membership.organization)
    return _page_or_fragment(request, "web/home.html", "content/_feed.html", with_fragments())


@login_required
@require_GET
def local(request: HttpRequest) -> HttpResponse:
    """本地频道: the home's 本地 tab at its own address; each day's first visit pays."""
    return home_page(request, tab=TAB_LOCAL)


# --- 视听学习 ------------------------------------------------------------------------------------

MEDIA_TABS = [
    (ItemKind.VIDEO.value, gettext_noop("视频")),
    (ItemKind.AUDIO.value, gettext_noop("音频")),
]


def media_page(request: HttpRequest) -> HttpResponse:
    """视听学习: videos or audio (``?kind=audio``) of the member's channels, newest first, as a
    grid."""
    member = _member(request)
    membership = membership_current(member) if member else None
    channels = selectors.reader_channels(membership.organization if membership else None)
    kind = request.GET.get("kind", ItemKind.VIDEO)
    if kind not in dict(MEDIA_TABS):
        kind = ItemKind.VIDEO
    cursor = request.GET.get("cursor")
    page = selectors.feed_items(channel_ids=channels.ids, kinds=(kind,), cursor=cursor)
    base = reverse("web:videos")
    kind_param = kind if kind != ItemKind.VIDEO else None
    context = {
        "kind": kind,
        "kind_tabs": [
            Tab(
                key,
                _(label),
                _with_query(base, kind=key if key != ItemKind.VIDEO else None),
                key == kind,
            )
            for key, label in MEDIA_TABS
        ],
        "cards": cards(page.items),
        "next_url": _with_query(base, kind=kind_param, cursor=page.next_cursor)
        if page.next_cursor
        else "",
        "is_first_page": not cursor,
        "shell_current_tab": "videos",
    }
    return _page_or_fragment(request, "web/videos.html", "content/_grid.html", context)


# --- the item page -------------------------------------------------------------------------------


def _share_context(request: HttpRequest, token: str) -> dict[str, str]:
    return {
        "share_url": request.build_absolute_uri(reverse("content:share", args=[token])),
        "share_qr": reverse("content:share_qr", args=[token]),
        "share_token": token,
    }


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    """An article (the sanitised body as stored), a video or an audio programme, with 收藏,
    分享, its 强国号 and related items. A member's page carries the learning session's element
    (``learning.js``); the session's start records the visit in his 学习记录 — a visitor's
    reading, or a page without JavaScript, records nothing."""
    item = selectors.item_for_reader(item_id)
    if item is None:
        raise Http404(_("该内容不存在，或已撤回。"))
    member = _member(request)
    item_card = card(item, timezone.now())
    related_items, hot_items = selectors.item_side_lists(item)
    related, hot = cards(related_items), cards(hot_items)
    account_shown = item.account_id if item.account is not None and item.account.is_active else 0
    body_digest = hashlib.blake2b(item.body.encode(), digest_size=16).hexdigest()
    head_shown = (
        item.pk, item.title, account_shown, item_card.source, item.author, item.published_at,
        item.read_count,
    )  # fmt: skip
    body_shown = (item.pk, body_digest, item.summary, item.tags)
    head, body, related_html, side = caching.fragments(
        ("content/_item_head.html", {"item": item, "card": item_card}, head_shown),
        ("content/_item_body.html", {"item": item}, body_shown),
        ("content/_card_list.html", {"cards": related}, _shown(related)),
        ("content/_hot.html", {"hot": hot}, _shown(hot)),
    )
    context: dict[str, Any] = {
        "item": item,
        "card": item_card,
        "head_html": head,
        "body_html": body,
        "related": related,
        "related_html": related_html,
        "hot": hot,
        "hot_html": side,
        "is_favourite": bool(member) and selectors.item_is_favourite(member, item),  # type: ignore[arg-type]
        "account": item.account if item.account is not None and item.account.is_active else None,
        "is_subscribed": False,
        "shell_current_tab": "home" if item.kind == ItemKind.ARTICLE else "videos",
    }
    if member is not None and context["account"] is not None:
        context["is_subscribed"] = selectors.account_is_subscribed(member, context["account"])
    token = request.GET.get("share", "")
    if member is not None and token and selectors.share_of(member, item, token) is not None:
        context.update(_share_context(request, token))
    return render(request, "content/item.html", context)


# --- files: media with Range, covers, posters, avatars -------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """A range that lies wholly outside the file (416)."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte positions a single-range ``Range`` header asks for,
    or ``None`` to serve the whole file (no header, a syntax this view does not take — several
    ranges, other units — or an invalid range, which HTTP says to ignore). Raises
    ``Unsatisfiable`` for a range past the end, or an empty suffix."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # bytes=-500: the last 500 bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


class _Window(io.RawIOBase):
    """``length`` bytes of ``file`` from ``start``, for ``FileResponse`` (which closes it)."""

    def __init__(self, file: IO[bytes], start: int, length: int) -> None:
        super().__init__()
        file.seek(start)
        self._file = file
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(wanted)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


def serve_file(
    request: HttpRequest, field: FieldFile, content_type: str, *, max_age: int
) -> HttpResponseBase:
    """Stream a stored file with ``Accept-Ranges: bytes``: the whole file (200), one range
    (206 + ``Content-Range``) or 416 + ``Content-Range: bytes */size``; ``If-None-Match``
    answers 304 and an ``If-Range`` that no longer matches gets the whole file. With
    ``CONTENT_MEDIA_ACCEL_REDIRECT`` set, nginx sends the bytes (the module docstring)."""
    name = field.name
    if not field or not name:
        raise Http404
    try:
        size = field.size
    except OSError as exc:  # listed in the database, missing on disk
        raise Http404 from exc
    etag = '"{}"'.format(hashlib.blake2b(f"{name}:{size}".encode(), digest_size=8).hexdigest())
    cache_control = f"private, max-age={max_age}"
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response: HttpResponseBase = HttpResponse(status=304)
        response["ETag"] = etag
        response["Cache-Control"] = cache_control
        return response
    accel = getattr(settings, "CONTENT_MEDIA_ACCEL_REDIRECT", "")
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(name)
        response["Cache-Control"] = cache_control
        return response

    wanted: tuple[int, int] | None = None
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if header and (not if_range or if_range == etag):
        try:
            wanted = byte_range(header, size)
        except Unsatisfiable:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(content_type=content_type, status=206 if wanted else 200)
    else:
        try:
            file = field.storage.open(name, "rb")
        except OSError as exc:
            raise Http404 from exc
        response = FileResponse(
            _Window(file, start, length), content_type=content_type, status=206 if wanted else 200
        )
    response["Content-Length"] = str(length)
    if wanted is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _image_type(field: FieldFile) -> str:
    return mimetypes.guess_type(field.name or "")[0] or "application/octet-stream"


def _published_item(item_id: int) -> Item:
    item = selectors.item_for_reader(item_id)
    if item is None:
        raise Http404
    return item


@require_safe
def item_media(request: HttpRequest, item_id: int) -> HttpResponseBase:
    """The video or audio file of a published item, with HTTP ranges (seeking)."""
    item = _published_item(item_id)
    if item.kind == ItemKind.ARTICLE:
        raise Http404
    return serve_file(
        request, item.media, item.media_type or _image_type(item.media), max_age=MEDIA_MAX_AGE
    )


@require_safe
def item_cover(request: HttpRequest, item_id: int) -> HttpResponseBase:
    item = _published_item(item_id)
    return serve_file(request, item.cover, _image_type(item.cover), max_age=IMAGE_MAX_AGE)


@require_safe
def item_poster(request: HttpRequest, item_id: int) -> HttpResponseBase:
    item = _published_item(item_id)
    field = item.poster or item.cover
    return serve_file(request, field, _image_type(field), max_age=IMAGE_MAX_AGE)


@require_safe
def account_avatar(request: HttpRequest, account_id: int) -> HttpResponseBase:
    account = selectors.account_for_reader(account_id)
    if account is None:
        raise Http404
    return serve_file(request, account.avatar, _image_type(account.avatar), max_age=IMAGE_MAX_AGE)


# --- actions: 收藏, 分享, 订阅 -------------------------------------------------------------------


def _back(request: HttpRequest, fallback: str) -> str:
    """Where the form came from, if it is a path on this site (SECURITY S20)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _paid(award: Award) -> str:
    return _("，积分 +%(n)d") % {"n": award.points} if award.points > 0 else ""


def _throttle(member: User) -> None:
    ratelimit.hit(
        ratelimit.Limit(
            key=f"reader-action:{member.pk}",
            count=ACTIONS_PER_MINUTE,
            seconds=60,
            message=_("操作过于频繁，请稍后再试。"),
        )
    )


def _refusal(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"code": exc.code, "message": str(exc.message)}, status=exc.status)
    raise exc


def _answer(request: HttpRequest, back: str, message: str, data: dict[str, Any]) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"message": message, **data})
    messages.success(request, message)
    return redirect(back)


@login_required
@require_POST
def favourite(request: HttpRequest, item_id: int) -> HttpResponse:
    """收藏 (``action=add``) or 取消收藏 (``action=remove``)."""
    member = _signed_in(request)
    item = _published_item(item_id)
    back = _back(request, reverse("content:item", args=[item.pk]))
    try:
        _throttle(member)
        if request.POST.get("action") == "remove":
            services.favourite_remove(member=member, item=item)
            return _answer(request, back, _("已取消收藏"), {"active": False, "points": 0})
        award = services.favourite_add(member=member, item=item)
    except DomainError as exc:
        return _refusal(request, exc)
    return _answer(
        request, back, _("已收藏") + _paid(award), {"active": True, "points": award.points}
    )


@login_required
@require_POST
def share_create(request: HttpRequest, item_id: int) -> HttpResponse:
    """分享: the member's share link of the item (the same one all day), shown with a copy
    button and a QR code."""
    member = _signed_in(request)
    item = _published_item(item_id)
    try:
        _throttle(member)
        share, award = services.share_create(member=member, item=item)
    except DomainError as exc:
        return _refusal(request, exc)
    message = _("分享链接已生成") + _paid(award)
    if _wants_json(request):
        return JsonResponse(
            {
                "message": message,
                "url": _share_context(request, share.token)["share_url"],
                "qr": reverse("content:share_qr", args=[share.token]),
                "points": award.points,
            }
        )
    messages.success(request, message)
    return redirect(
        _with_query(reverse("content:item", args=[item.pk]), share=share.token) + "#share"
    )


@login_required
@require_POST
def subscribe(request: HttpRequest, account_id: int) -> HttpResponse:
    """订阅 (``action=add``) or 取消订阅 (``action=remove``) a 强国号."""
    member = _signed_in(request)
    account = selectors.account_for_reader(account_id)
    if account is None:
        raise Http404(_("该强国号不存在或已停用。"))
    back = _back(request, reverse("content:account", args=[account.pk]))
    try:
        _throttle(member)
        if request.POST.get("action") == "remove":
            services.subscription_remove(member=member, account=account)
            message, active, points = _("已取消订阅"), False, 0
        else:
            award = services.subscription_add(member=member, account=account)
            message, active, points = _("订阅成功") + _paid(award), True, award.points
    except DomainError as exc:
        return _refusal(request, exc)
    count = Account.objects.values_list("subscriber_count", flat=True).get(pk=account.pk)
    return _answer(request, back, message, {"active": active, "count": count, "points": points})


# --- share pages ---------------------------------------------------------------------------------


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """A shared item, readable without signing in: no learning session, no points; each view
    counts on the link. An unknown link, or one whose item was withdrawn, is a friendly 404."""
    shared = services.share_visit(token)
    item = selectors.item_for_reader(shared.pk) if shared is not None else None
    if item is None:
        return render(
            request,
            "web/error.html",
            {"status": 404, "message": _("该分享链接无效，或分享的内容已撤回。")},
            status=404,
        )
    return render(
        request,
        "content/share.html",
        {"item": item, "card": card(item, timezone.now()), "shell_current_tab": "home"},
    )


@require_GET
def share_qr(request: HttpRequest, token: str) -> HttpResponse:
    """The share link as a QR code (SVG), for a phone to scan off a PC screen."""
    share = selectors.share_get(token)
    if share is None:
        raise Http404
    url = request.build_absolute_uri(reverse("content:share", args=[share.token]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, dark="#1f1f1f")
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = f"private, max-age={IMAGE_MAX_AGE}"
    return response


# --- search --------------------------------------------------------------------------------------

SEARCH_KINDS = [
    ("", gettext_noop("全部")),
    (ItemKind.ARTICLE.value, gettext_noop("文章")),
    (ItemKind.VIDEO.value, gettext_noop("视频")),
    (ItemKind.AUDIO.value, gettext_noop("音频")),
]


@dataclass(frozen=True)
class Hit:
    card: Card
    title_html: str
    excerpt_html: str


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """搜索: a GET form (works without JavaScript), results with the query's words marked,
    by kind, 加载更多 by cursor. The titles and excerpts come HTML-escaped from the selector,
    marks included; nothing else is rendered unescaped."""
    query = " ".join(request.GET.get("q", "").split())
    kind = request.GET.get("kind", "")
    if kind not in dict(SEARCH_KINDS):
        kind = ""
    cursor = request.GET.get("cursor")
    base = reverse("content:search")
    context: dict[str, Any] = {
        "query": query,
        "kind": kind,
        "kind_tabs": [
            Tab(key, _(label), _with_query(base, q=query, kind=key), key == kind)
            for key, label in SEARCH_KINDS
        ],
        "hits": [],
        "next_url": "",
        "error": "",
        "searched": bool(query),
        "is_first_page": not cursor,
        "shell_current_tab": "home",
    }
    if query:
        try:
            page = selectors.search_items_cached(
                query, limit=SEARCH_PAGE_SIZE, cursor=cursor, kind=kind or None
            )
        except ValidationFailed as exc:
            context["error"] = str(exc.message)
        else:
            at = timezone.now()
            urls = CardUrls.build()
            hits = [
                Hit(card(hit.item, at, urls=urls), hit.title_html, hit.excerpt_html)
                for hit in page.items
            ]
            context["hits"] = hits
            shown = tuple((hit.card.shown, hit.title_html, hit.excerpt_html) for hit in hits)
            (context["hits_html"],) = caching.fragments(
                ("content/_hit_list.html", {"hits": hits}, shown)
            )
            if page.next_cursor:
                context["next_url"] = _with_query(base, q=query, kind=kind, cursor=page.next_cursor)
    return _page_or_fragment(request, "content/search.html", "content/_hits.html", context)


@require_GET
def search_suggest(request: HttpRequest) -> JsonResponse:
    """``{"suggestions": [{"id", "title", "title_html", "url"}]}`` for search-as-you-type
    (``title_html``: the title escaped, the typed words in ``<mark>``)."""
    member = _member(request)
    if member is None:
        return JsonResponse({"code": "not_authenticated", "message": _("请先登录。")}, status=401)
    query = request.GET.get("q", "")
    try:
        ratelimit.hit(
            ratelimit.Limit(
                key=f"reader-suggest:{member.pk}",
                count=SUGGESTIONS_PER_MINUTE,
                seconds=60,
                message=_("操作过于频繁，请稍后再试。"),
            )
        )
        found = selectors.suggest(query)
    except DomainError as exc:
        return JsonResponse(
            {"code": exc.code, "message": str(exc.message), "suggestions": []}, status=exc.status
        )
    return JsonResponse(
        {
            "query": query,
            "suggestions": [
                {
                    "id": one.id,
                    "title": one.title,
                    "title_html": str(one.title_html),
                    "url": reverse("content:item", args=[one.id]),
                }
                for one in found
            ],
        }
    )


# --- 强国号 pages and 我的 -----------------------------------------------------------------------


@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    """A 强国号: its name, introduction and subscribers, the 订阅 button, its items."""
    account = selectors.account_for_reader(account_id)
    if account is None:
        raise Http404(_("该强国号不存在或已停用。"))
    member = _member(request)
    cursor = request.GET.get("cursor")
    page = selectors.feed_items(account=account, cursor=cursor)
    base = reverse("content:account", args=[account.pk])
    context = {
        "account": account,
        "is_subscribed": bool(member) and selectors.account_is_subscribed(member, account),  # type: ignore[arg-type]
        "cards": cards(page.items),
        "next_url": _with_query(base, cursor=page.next_cursor) if page.next_cursor else "",
        "is_first_page": not cursor,
        "shell_current_tab": "home",
    }
    return _page_or_fragment(request, "content/account.html", "content/_feed.html", context)


@login_required
@require_GET
def my_favourites(request: HttpRequest) -> HttpResponse:
    """我的收藏: items the member keeps, the latest first."""
    member = _signed_in(request)
    cursor = request.GET.get("cursor")
    page = selectors.favourites_of(member, cursor=cursor)
    at = timezone.now()
    context = {
        "cards": [
            card(row.item, at, _("收藏于 %(when)s") % {"when": relative_time(row.created_at, at)})
            for row in page.items
        ],
        "next_url": _with_query(request.path, cursor=page.next_cursor) if page.next_cursor else "",
        "is_first_page": not cursor,
        "shell_current_tab": "me",
    }
    return _page_or_fragment(request, "content/favourites.html", "content/_feed.html", context)


@login_required
@require_GET
def my_history(request: HttpRequest) -> HttpResponse:
    """学习记录: what the member opened (a learning session started), the latest first."""
    member = _signed_in(request)
    cursor = request.GET.get("cursor")
    page = selectors.history_of(member, cursor=cursor)
    at = timezone.now()
    rows = []
    for row in page.items:
        when = relative_time(row.last_at, at)
        if row.visits > 1:
            note = ngettext(
                "%(when)s学习 · 共 %(n)d 次", "%(when)s学习 · 共 %(n)d 次", row.visits
            ) % {"when": when, "n": row.visits}
        else:
            note = _("%(when)s学习") % {"when": when}
        rows.append(card(row.item, at, note))
    context = {
        "cards": rows,
        "next_url": _with_query(request.path, cursor=page.next_cursor) if page.next_cursor else "",
        "is_first_page": not cursor,
        "shell_current_tab": "me",
    }
    return _page_or_fragment(request, "content/history.html", "content/_feed.html", context)


@login_required
@require_GET
def my_subscriptions(request: HttpRequest) -> HttpResponse:
    """我的订阅: the 强国号 the member follows (with 取消订阅), then 订阅动态 — their items,
    newest first — and 强国号 he might follow."""
    member = _signed_in(request)
    cursor = request.GET.get("cursor")
    page = selectors.feed_items(subscriber=member, cursor=cursor)
    context: dict[str, Any] = {
        "cards": cards(page.items),
        "next_url": _with_query(request.path, cursor=page.next_cursor) if page.next_cursor else "",
        "is_first_page": not cursor,
        "shell_current_tab": "me",
    }
    if not _wants_fragment(request):
        context["accounts"] = selectors.accounts_subscribed(member)
        context["discover"] = selectors.accounts_to_discover(member)
    return _page_or_fragment(request, "content/subscriptions.html", "content/_feed.html", context)
