"""Console pages for content: 内容管理 (items), 栏目管理 (columns) and 强国号管理 (accounts).

Thin, like the other console pages: every view fetches through ``xuexi/content/access.py``
(editors and operators only: anyone else gets 403, an object outside the editor's channels
404, both as Chinese pages through ``DomainErrorPageMiddleware``), calls a service and renders.
Every write is a service call, audited there.

Items are edited without JavaScript: a body image is uploaded by a submit button of the item
form itself (``go=image``), which stores the image, appends ``<img src="/media/…">`` to the
body as typed and shows the form again, nothing else saved. ``POST /console/content/images``
does the same upload for scripts and answers JSON.

An item's state on these pages is its status, with one more: 定时 (scheduled) — published
with a publish time still in the future, which ``Item.objects.published()`` hides until then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xuexi.accounts.models import User
from xuexi.content import access, services
from xuexi.content.forms import (
    AccountForm,
    BodyImageForm,
    ColumnCreateForm,
    ColumnUpdateForm,
    ItemForm,
    column_tree,
)
from xuexi.content.models import (
    Account,
    Channel,
    Column,
    Item,
    ItemKind,
    ItemStatus,
)
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import DomainError, NotFound, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.organizations.console import (
    console_actor,
    console_back,
    console_page,
    console_render,
    query_int,
)
from xuexi.organizations.models import Organization

PAGE_SIZE = 20

STATE_LABELS: dict[str, Any] = {
    "draft": gettext_lazy("草稿"),
    "published": gettext_lazy("已发布"),
    "withdrawn": gettext_lazy("已撤回"),
    "scheduled": gettext_lazy("定时"),
}
FLAG_LABELS: dict[str, Any] = {
    "recommended": gettext_lazy("推荐"),
    "featured": gettext_lazy("首页焦点"),
}


# --- helpers ------------------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str:
    return client_ip_from_request(request)


def item_state(item: Item, moment: dt.datetime) -> str:
    """draft, published, withdrawn, or scheduled (published, its time still to come)."""
    if (
        item.status == ItemStatus.PUBLISHED
        and item.published_at is not None
        and item.published_at > moment
    ):
        return "scheduled"
    return str(item.status)


# --- 内容管理：列表 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilters:
    channel: int | None = None
    column: int | None = None
    kind: str = ""
    state: str = ""
    flag: str = ""
    q: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> ItemFilters:
        data = request.GET
        kind = data.get("kind", "")
        state = data.get("state", "")
        flag = data.get("flag", "")
        return cls(
            channel=query_int(data.get("channel")),
            column=query_int(data.get("column")),
            kind=kind if kind in ItemKind.values else "",
            state=state if state in STATE_LABELS else "",
            flag=flag if flag in FLAG_LABELS else "",
            q=" ".join(data.get("q", "").split())[:50],
        )

    @property
    def active(self) -> bool:
        return any((self.channel, self.column, self.kind, self.state, self.flag, self.q))


def _filtered(
    items: QuerySet[Item], filters: ItemFilters, columns: list[Column], moment: dt.datetime
) -> QuerySet[Item]:
    if filters.channel:
        items = items.filter(column__channel_id=filters.channel)
    if filters.column:
        # The column and every column below it (the tree is already in memory).
        wanted = {filters.column}
        for node in column_tree(columns):
            if node.column.parent_id in wanted:
                wanted.add(node.column.pk)
        items = items.filter(column_id__in=sorted(wanted))
    if filters.kind:
        items = items.filter(kind=filters.kind)
    if filters.state == "published":
        items = items.filter(status=ItemStatus.PUBLISHED, published_at__lte=moment)
    elif filters.state == "scheduled":
        items = items.filter(status=ItemStatus.PUBLISHED, published_at__gt=moment)
    elif filters.state:
        items = items.filter(status=filters.state)
    if filters.flag:
        items = items.filter(**{filters.flag: True})
    if filters.q:
        items = items.filter(title__icontains=filters.q)
    return items


@login_required
@require_GET
def item_list(request: HttpRequest) -> HttpResponse:
    """内容管理: the items of the editor's channels, newest first, filtered and paged."""
    actor = console_actor(request)
    items = access.editable_items(actor)
    channels = list(access.editable_channels(actor).order_by("position", "id"))
    columns = list(access.editable_columns(actor))
    filters = ItemFilters.of(request)
    moment = now()
    found = _filtered(items, filters, columns, moment).select_related("created_by")
    page = console_page(request, found.order_by("-created_at", "-id"), PAGE_SIZE)
    for item in page.object_list:
        item.console_state = item_state(item, moment)
        item.console_state_label = STATE_LABELS[item.console_state]
    return console_render(
        request,
        "content/console_items.html",
        {
            "page": page,
            "filters": filters,
            "channels": channels,
            "column_groups": _column_groups(channels, columns),
            "kinds": ItemKind.choices,
            "states": list(STATE_LABELS.items()),
            "flags": list(FLAG_LABELS.items()),
            "channel_names": "、".join(f"「{channel.name}」" for channel in channels),
            "here": request.get_full_path(),
        },
        section="content_items",
    )


def _column_groups(channels: list[Channel], columns: list[Column]) -> list[dict[str, Any]]:
    """The filter's columns: one group per channel, in tree order."""
    return [
        {
            "channel": channel,
            "nodes": column_tree(c for c in columns if c.channel_id == channel.pk),
        }
        for channel in channels
    ]


# --- 内容管理：快捷操作 --------------------------------------------------------------------------

ACTIONS: dict[str, tuple[dict[str, Any], Any]] = {
    "publish": ({"status": ItemStatus.PUBLISHED}, gettext_lazy("已发布「%(title)s」。")),
    # A scheduled item goes out now instead of at its time.
    "publish_now": ({}, gettext_lazy("已立即发布「%(title)s」。")),
    "withdraw": (
        {"status": ItemStatus.WITHDRAWN, "featured": False},
        gettext_lazy("已撤回「%(title)s」，学员不再能看到它。"),
    ),
    "recommend": ({"recommended": True}, gettext_lazy("已推荐「%(title)s」。")),
    "unrecommend": ({"recommended": False}, gettext_lazy("已取消推荐「%(title)s」。")),
    "feature": ({"featured": True}, gettext_lazy("已将「%(title)s」设为首页焦点。")),
    "unfeature": ({"featured": False}, gettext_lazy("已取消「%(title)s」的首页焦点。")),
}


@login_required
@require_POST
def item_action(request: HttpRequest, item_id: int) -> HttpResponse:
    """A list's quick action (发布 · 撤回 · 推荐 · 取消推荐 · 设为焦点 · 取消焦点)."""
    actor = console_actor(request)
    item = access.access_item_as_editor(actor, item_id)
    back = console_back(request, reverse("console:content_items"), prefix="/console/content/")
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, _("操作无效。"))
        return redirect(back)
    data, done = ACTIONS[action]
    moment = now()
    if action == "publish_now" and item_state(item, moment) != "scheduled":
        messages.error(request, _("「%(title)s」不是定时发布的内容。") % {"title": item.title})
        return redirect(back)
    try:
        item = services.item_update(
            actor=actor,
            item=item,
            data=dict(data),
            published_at=moment if action == "publish_now" else None,
            ip=_ip(request),
        )
    except DomainError as error:
        messages.error(
            request,
            _("「%(title)s」未能完成操作：%(reason)s")
            % {"title": item.title, "reason": error.message},
        )
    else:
        messages.success(request, str(done) % {"title": item.title})
    return redirect(back)


# --- 内容管理：新建与编辑 ------------------------------------------------------------------------


def _form_columns(actor: User, item: Item | None) -> list[Column]:
    """Columns an item may go to: the active editable ones, and the item's own."""
    columns = list(access.editable_columns(actor).select_related("channel"))
    keep = item.column_id if item is not None else None
    return [c for c in columns if c.is_active or c.pk == keep]


def _form_accounts(actor: User, item: Item | None) -> list[Account]:
    accounts = list(access.editable_accounts(actor).order_by("name"))
    if item is not None and item.account is not None and item.account not in accounts:
        accounts.insert(0, item.account)  # kept, even if switched off or out of reach
    return accounts


def _initial(item: Item) -> dict[str, Any]:
    moment = now()
    return {
        "column": item.column_id,
        "account": item.account_id or "",
        "title": item.title,
        "summary": item.summary,
        "source": item.source,
        "author": item.author,
        "tags": "，".join(item.tag_list),
        "body": item.body,
        "publish_at": item.published_at if item_state(item, moment) == "scheduled" else None,
    }


def _retyped(request: HttpRequest, body: str) -> dict[str, Any]:
    """What was typed, as initial values of a fresh form (files cannot be refilled)."""
    initial = {name: request.POST.get(name, "") for name in ItemForm.base_fields}
    initial["body"] = body
    return initial


@dataclass(frozen=True)
class BodyImage:
    """What ``go=image`` did: the stored image's URL and the body with it, or the refusal."""

    body: str
    url: str = ""
    error: str = ""


def _upload_body_image(request: HttpRequest) -> BodyImage:
    """``go=image``: store the chosen image and append it to the body as typed."""
    body = request.POST.get("body", "")
    upload = request.FILES.get("body_image")
    if upload is None:
        return BodyImage(body, error=_("请先选择要上传的图片。"))
    try:
        url = services.body_image_save(actor=console_actor(request), upload=upload, ip=_ip(request))
    except ValidationFailed as error:
        return BodyImage(body, error=str(error.details["fields"].get("image", error.message)))
    body = (body.rstrip() + "\n" if body.strip() else "") + f'<p><img src="{url}" alt=""></p>'
    return BodyImage(body, url=url)


@login_required
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest) -> HttpResponse:
    actor = console_actor(request)
    access.editable_items(actor)  # 403 for anyone who edits nothing
    return _item_form(request, actor, None)


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    actor = console_actor(request)
    item = access.access_item_as_editor(actor, item_id)
    return _item_form(request, actor, item)


def _item_form(request: HttpRequest, actor: User, item: Item | None) -> HttpResponse:
    columns = _form_columns(actor, item)
    accounts = _form_accounts(actor, item)
    moment = now()
    state = item_state(item, moment) if item is not None else "new"
    kind = item.kind if item is not None else None

    def make(*args: Any, **kwargs: Any) -> ItemForm:
        return ItemForm(*args, columns=columns, accounts=accounts, kind=kind, **kwargs)

    image: BodyImage | None = None
    go = request.POST.get("go", "save") if request.method == "POST" else ""

    if request.method == "POST" and go == "image":
        image = _upload_body_image(request)
        form = make(None, initial=_retyped(request, image.body))
    elif request.method == "POST":
        form = make(request.POST, request.FILES)
        if form.is_valid():
            saved = _save_item(
                request, actor, item, form, accounts, go=go, state=state, moment=moment
            )
            if saved is not None:
                return redirect("console:content_item_edit", saved.pk)
    else:
        form = make(None, initial=_initial(item) if item else None)

    return console_render(
        request,
        "content/console_item_form.html",
        {
            "form": form,
            "item": item,
            "state": state,
            "state_label": STATE_LABELS.get(state, ""),
            "image": image,
            # ``form.media`` is the form's Media in a template: the field is passed by name.
            "media_field": form["media"] if "media" in form.fields else None,
            "has_columns": bool(columns),
        },
        section="content_items",
    )


def _save_item(
    request: HttpRequest,
    actor: User,
    item: Item | None,
    form: ItemForm,
    accounts: list[Account],
    *,
    go: str,
    state: str,
    moment: dt.datetime,
) -> Item | None:
    """Save through the services; ``None`` (the form holding the refusal) if they refuse."""
    fields = form.cleaned_data
    publish = go == "publish" and state != "published"
    when: dt.datetime | None = fields.get("publish_at") if publish else None
    if when is not None and when <= moment:
        form.add_error("publish_at", _("定时发布的时间须晚于现在；立即发布请留空。"))
        return None
    kind = item.kind if item is not None else fields["kind"]
    article = kind == ItemKind.ARTICLE
    try:
        column = access.access_column_as_editor(actor, fields["column"])
        account = {a.pk: a for a in accounts}.get(fields.get("account") or 0)
        # Only what the kind uses: a file picked before switching the kind is not kept.
        names = ["title", "summary", "source", "author", "tags"] + (["body"] if article else [])
        data: dict[str, Any] = {name: fields[name] for name in names}
        files = services.ItemFiles(
            cover=fields.get("cover"),
            media=None if article else fields.get("media"),
            poster=None if article else fields.get("poster"),
        )
        if item is None:
            saved = services.item_create(
                actor=actor,
                column=column,
                kind=kind,
                data=data,
                files=files,
                account=account,
                publish=publish,
                published_at=when,
                ip=_ip(request),
            )
        else:
            data["account"] = account
            published_at = when
            if publish:
                data["status"] = ItemStatus.PUBLISHED
                # No time given: out now, unless it went out before (a withdrawn item keeps
                # its first publish time) — but never back to a time still to come.
                if when is None and item.published_at is not None and item.published_at > moment:
                    published_at = moment
            saved = services.item_update(
                actor=actor,
                item=item,
                data=data,
                files=files,
                column=column if column.pk != item.column_id else None,
                published_at=published_at,
                ip=_ip(request),
            )
    except DomainError as error:
        form.add_domain_error(error)
        return None
    messages.success(request, _saved_message(saved))
    return saved


def _saved_message(item: Item) -> str:
    state = item_state(item, now())  # after the save: "now" may have been its publish time
    if state == "scheduled" and item.published_at is not None:
        return _("已保存「%(title)s」，将于 %(time)s 定时发布。") % {
            "title": item.title,
            "time": item.published_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
        }
    if state == "published":
        return _("已保存并发布「%(title)s」。") % {"title": item.title}
    return _("已保存「%(title)s」（%(state)s）。") % {
        "title": item.title,
        "state": STATE_LABELS[state],
    }


# --- 正文图片 -----------------------------------------------------------------------------------


@login_required
@require_POST
def image_upload(request: HttpRequest) -> HttpResponse:
    """``POST /console/content/images`` (``image``): 201 ``{"url", "html"}`` — the address
    to use as ``<img src>``; refusals as ``{"code", "message", "details"}`` with their status."""
    actor = console_actor(request)
    try:
        access.EditorScope.of(actor).require_editor()
        form = BodyImageForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ValidationFailed({"image": _("请选择图片。")})
        url = services.body_image_save(
            actor=actor, upload=form.cleaned_data["image"], ip=_ip(request)
        )
    except DomainError as error:
        return JsonResponse(
            {"code": error.code, "message": str(error.message), "details": error.details},
            status=error.status,
        )
    return JsonResponse({"url": url, "html": f'<img src="{url}" alt="">'}, status=201)


# --- 栏目管理 ------------------------------------------------------------------------------------


@login_required
@require_GET
def columns_index(request: HttpRequest) -> HttpResponse:
    """/console/content/columns/ → the columns of the editor's first channel."""
    channel = access.editable_channels(console_actor(request)).order_by("position", "id").first()
    if channel is None:
        raise NotFound(_("您管理的范围内还没有频道。"))
    return redirect("console:content_columns", channel.pk)


@login_required
@require_GET
def column_list(request: HttpRequest, channel_id: int) -> HttpResponse:
    actor = console_actor(request)
    channel = access.access_channel_as_editor(actor, channel_id)
    columns = Column.objects.filter(channel=channel).annotate(item_count=Count("items"))
    return console_render(
        request,
        "content/console_columns.html",
        {
            "channel": channel,
            "channels": list(access.editable_channels(actor).order_by("position", "id")),
            "nodes": column_tree(columns),
        },
        section="content_columns",
    )


@login_required
@require_http_methods(["GET", "POST"])
def column_create(request: HttpRequest, channel_id: int) -> HttpResponse:
    actor = console_actor(request)
    channel = access.access_channel_as_editor(actor, channel_id)
    columns = list(Column.objects.filter(channel=channel))
    initial = {"parent": query_int(request.GET.get("parent")) or ""}
    form = ColumnCreateForm(
        request.POST if request.method == "POST" else None, columns=columns, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        parent = next((c for c in columns if c.pk == fields["parent"]), None)
        try:
            column = services.column_create(
                actor=actor,
                channel=channel,
                name=fields["name"],
                slug=fields["slug"],
                parent=parent,
                ip=_ip(request),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("已新建栏目「%(name)s」。") % {"name": column.name})
            return redirect("console:content_columns", channel.pk)
    return console_render(
        request,
        "content/console_column_form.html",
        {"form": form, "channel": channel, "column": None},
        section="content_columns",
    )


@login_required
@require_http_methods(["GET", "POST"])
def column_edit(request: HttpRequest, column_id: int) -> HttpResponse:
    actor = console_actor(request)
    column = access.access_column_as_editor(actor, column_id)
    form = ColumnUpdateForm(
        request.POST if request.method == "POST" else None,
        initial={"name": column.name, "is_active": column.is_active},
    )
    if request.method == "POST" and form.is_valid():
        try:
            column = services.column_update(
                actor=actor,
                column=column,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
                ip=_ip(request),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("已保存栏目「%(name)s」。") % {"name": column.name})
            return redirect("console:content_columns", column.channel_id)
    return console_render(
        request,
        "content/console_column_form.html",
        {"form": form, "channel": column.channel, "column": column},
        section="content_columns",
    )


@login_required
@require_POST
def column_move(request: HttpRequest, column_id: int) -> HttpResponse:
    actor = console_actor(request)
    column = access.access_column_as_editor(actor, column_id)
    direction = request.POST.get("direction", "")
    try:
        services.column_move(actor=actor, column=column, direction=direction, ip=_ip(request))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done = _("已将「%(name)s」上移。") if direction == "up" else _("已将「%(name)s」下移。")
        messages.success(request, done % {"name": column.name})
    return redirect(reverse("console:content_columns", args=[column.channel_id]))


@login_required
@require_POST
def column_switch(request: HttpRequest, column_id: int) -> HttpResponse:
    """启用 / 停用 from the tree (``active=1|0``)."""
    actor = console_actor(request)
    column = access.access_column_as_editor(actor, column_id)
    active = request.POST.get("active") == "1"
    services.column_update(actor=actor, column=column, is_active=active, ip=_ip(request))
    done = _("已启用栏目「%(name)s」。") if active else _("已停用栏目「%(name)s」。")
    messages.success(request, done % {"name": column.name})
    return redirect("console:content_columns", column.channel_id)


# --- 强国号管理 ----------------------------------------------------------------------------------


def _accounts_in_scope(actor: User) -> QuerySet[Account]:
    """Every 强国号 of an organisation in the editor's scope, switched off ones included
    (``access.editable_accounts`` lists only those one may publish under)."""
    scope = access.EditorScope.of(actor)
    scope.require_editor()
    condition = Q(pk__in=[])
    for path in scope.paths:
        condition |= Q(organization__path__startswith=path)
    return Account.objects.filter(condition).select_related("organization")


def _access_account(actor: User, account_id: int) -> Account:
    account = _accounts_in_scope(actor).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("找不到该强国号，或它不在您的管理范围内。"))
    return account


def _organization_in_scope(actor: User, code: str) -> Organization:
    scope = access.EditorScope.of(actor)
    organization = Organization.objects.filter(code=code.strip()).first()
    if organization is None or not scope.covers_path(organization.path):
        raise ValidationFailed({"organization_code": _("找不到该组织，或它不在您的管理范围内。")})
    return organization


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = _accounts_in_scope(console_actor(request)).annotate(item_count=Count("items"))
    q = " ".join(request.GET.get("q", "").split())[:50]
    if q:
        accounts = accounts.filter(name__icontains=q)
    page = console_page(request, accounts.order_by("-is_active", "name", "id"), PAGE_SIZE)
    return console_render(
        request,
        "content/console_accounts.html",
        {"page": page, "q": q},
        section="content_accounts",
    )


def _account_form(request: HttpRequest, actor: User, account: Account | None) -> HttpResponse:
    posted = request.method == "POST"
    initial = (
        {
            "name": account.name,
            "kind": account.kind,
            "organization_code": account.organization.code,
            "intro": account.intro,
            "is_active": account.is_active,
        }
        if account is not None
        else None
    )
    form = AccountForm(request.POST if posted else None, request.FILES or None, initial=initial)
    if posted and form.is_valid():
        fields = form.cleaned_data
        data = {name: fields[name] for name in ("name", "kind", "intro", "is_active")}
        try:
            organization = _organization_in_scope(actor, fields["organization_code"])
            if account is None:
                account = services.account_create(
                    actor=actor,
                    organization=organization,
                    data=data,
                    avatar=fields.get("avatar"),
                    ip=_ip(request),
                )
                done = _("已新建强国号「%(name)s」。")
            else:
                account = services.account_update(
                    actor=actor,
                    account=account,
                    data=data,
                    organization=organization
                    if organization.pk != account.organization_id
                    else None,
                    avatar=fields.get("avatar"),
                    ip=_ip(request),
                )
                done = _("已保存强国号「%(name)s」。")
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, done % {"name": account.name})
            return redirect("console:content_accounts")
    return console_render(
        request,
        "content/console_account_form.html",
        {"form": form, "account": account},
        section="content_accounts",
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    actor = console_actor(request)
    _accounts_in_scope(actor)  # 403 for anyone who edits nothing
    return _account_form(request, actor, None)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = console_actor(request)
    return _account_form(request, actor, _access_account(actor, account_id))
