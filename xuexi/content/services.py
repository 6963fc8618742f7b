"""Writes about content: editors' items, and what members do with items.

Editors' writes take an actor already checked by ``xuexi/content/access.py`` and are audited.
Member actions are idempotent (a second favourite, subscription or visit changes nothing and
pays nothing) and pay through ``points_award`` with a stable source, so a replay never pays
twice: subscribing pays ``subscribe`` once per account, sharing ``share`` once per item and
day, a local-channel visit ``local_channel`` once a day, a favourite ``favourite`` once per
item (rule sets that have these rules; the others answer ``no_rule`` and pay nothing).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.caching import content_changed
from xuexi.content.media import IMAGE_TYPES, check_image, check_media
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    Column,
    Favourite,
    Item,
    ItemKind,
    ItemStatus,
    ReadingHistory,
    Share,
    Subscription,
)
from xuexi.content.sanitize import body_text, sanitize_body
from xuexi.content.search import segment
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.organizations.models import Organization
from xuexi.points.services import Award, points_award

# --- editors ---------------------------------------------------------------------------------

TEXT_LIMITS = {"title": 120, "summary": 300, "source": 60, "author": 60, "tags": 200}
SUMMARY_FROM_BODY = 120  # characters of body text when no summary is given


@dataclass(frozen=True)
class ItemFiles:
    cover: UploadedFile | None = None
    media: UploadedFile | None = None
    poster: UploadedFile | None = None


def _clean_text(data: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        if name not in data:
            continue
        value = " ".join(str(data[name] or "").split())
        if len(value) > limit:
            errors[name] = _("不能超过 %(n)d 个字。") % {"n": limit}
        fields[name] = value
    if "tags" in fields:
        tags = [t.strip() for t in fields["tags"].replace("，", ",").split(",") if t.strip()]
        fields["tags"] = ",".join(dict.fromkeys(tags))
    if "title" in fields and not fields["title"]:
        errors["title"] = _("请填写标题。")
    if errors:
        raise ValidationFailed(errors)
    return fields


def _index(item: Item) -> None:
    item.search_text = segment(item.title, item.summary, body_text(item.body), item.tags)


def _snapshot(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "status": item.status,
        "column": item.column_id,
        "recommended": item.recommended,
        "featured": item.featured,
        "published_at": item.published_at,
        "account": item.account_id,
    }


def _apply_files(item: Item, files: ItemFiles) -> None:
    if files.cover is not None:
        check_image(files.cover, "cover")
        item.cover = files.cover
    if files.poster is not None:
        check_image(files.poster, "poster")
        item.poster = files.poster
    if files.media is not None:
        if item.kind == ItemKind.ARTICLE:
            raise ValidationFailed({"media": _("文章不能上传音视频文件。")})
        checked = check_media(files.media, item.kind, "media")
        item.media = files.media
        item.media_type = checked.content_type
        item.duration = checked.duration


def _check_complete(item: Item) -> None:
    """What an item needs before it may be published."""
    if item.kind == ItemKind.ARTICLE and not body_text(item.body):
        raise ValidationFailed({"body": _("正文不能为空。")})
    if item.kind != ItemKind.ARTICLE and not item.media:
        raise ValidationFailed({"media": _("请上传音视频文件。")})


@transaction.atomic
def item_create(
    *,
    actor: User,
    column: Column,
    kind: str,
    data: dict[str, Any],
    files: ItemFiles | None = None,
    account: Account | None = None,
    publish: bool = False,
    published_at: dt.datetime | None = None,
    ip: str | None = None,
) -> Item:
    """A new item in ``column`` (checked by the caller: ``access_column_as_editor``).

    With ``publish``, the item goes out at ``published_at`` (default now); a future time
    schedules it: ``Item.objects.published()`` hides it until then (定时发布)."""
    if kind not in ItemKind.values:
        raise ValidationFailed({"kind": _("内容类型无效。")})
    fields = _clean_text({"title": "", **data})
    item = Item(kind=kind, column=column, account=account, created_by=actor, **fields)
    item.body = sanitize_body(str(data.get("body") or ""))
    if not item.summary and item.kind == ItemKind.ARTICLE:
        item.summary = body_text(item.body)[:SUMMARY_FROM_BODY]
    _apply_files(item, files or ItemFiles())
    if publish:
        _check_complete(item)
        item.status = ItemStatus.PUBLISHED
        item.published_at = published_at or now()
    _index(item)
    item.save()
    # The reader's cached lists (焦点, 热门, feeds) must not outlive this write (caching.py).
    content_changed()
    audit_record(
        actor=actor,
        action="content.item_create",
        target=item,
        organization=column.channel.platform,
        after=_snapshot(item),
        ip=ip,
    )
    return item


EDITABLE_FLAGS = ("recommended", "featured")


@transaction.atomic
def item_update(
    *,
    actor: User,
    item: Item,
    data: dict[str, Any],
    files: ItemFiles | None = None,
    column: Column | None = None,
    published_at: dt.datetime | None = None,
    ip: str | None = None,
) -> Item:
    """Edit an item (checked by the caller: ``access_item_as_editor``). ``data`` may hold the
    text fields, ``body``, ``recommended``/``featured`` and ``status`` (``published`` to
    publish, ``withdrawn`` to take it down, ``draft``) and ``account`` (an ``Account`` checked
    by the caller, or ``None`` for none). ``published_at``, when given, becomes the publish
    time (a future one schedules the item); otherwise publishing keeps an earlier publish time
    or takes now."""
    item = Item.objects.select_for_update().get(pk=item.pk)
    before = _snapshot(item)
    for name, value in _clean_text(data).items():
        setattr(item, name, value)
    if "body" in data:
        item.body = sanitize_body(str(data["body"] or ""))
    if column is not None:
        item.column = column
    _apply_files(item, files or ItemFiles())
    if published_at is not None:
        item.published_at = published_at
    if "account" in data:
        item.account = data["account"]
    for flag in EDITABLE_FLAGS:
        if flag in data:
            setattr(item, flag, bool(data[flag]))
    status = data.get("status")
    if status is not None and status != item.status:
        if status not in ItemStatus.values:
            raise ValidationFailed({"status": _("状态无效。")})
        if status == ItemStatus.PUBLISHED:
            _check_complete(item)
            item.published_at = item.published_at or now()
        item.status = status
    if item.featured and item.status != ItemStatus.PUBLISHED:
        raise ValidationFailed({"featured": _("只有已发布的内容可以设为首页焦点。")})
    _index(item)
    item.updated_at = now()
    item.save()
    # The reader's cached lists (焦点, 热门, feeds) must not outlive this write (caching.py).
    content_changed()
    audit_record(
        actor=actor,
        action="content.item_update",
        target=item,
        organization=item.column.channel.platform,
        before=before,
        after=_snapshot(item),
        ip=ip,
    )
    return item


@transaction.atomic
def column_create(
    *,
    actor: User,
    channel: Channel,
    name: str,
    slug: str,
    parent: Column | None = None,
    ip: str | None = None,
) -> Column:
    name, slug = " ".join(name.split()), slug.strip().lower()
    errors = {}
    if not name or len(name) > 50:
        errors["name"] = _("请填写 1–50 个字的栏目名称。")
    if not slug or len(slug) > 50 or not all(c.isalnum() or c in "-_" for c in slug):
        errors["slug"] = _("标识只能使用字母、数字、“-”和“_”。")
    if parent is not None and parent.channel_id != channel.pk:
        errors["parent"] = _("上级栏目不在该频道中。")
    if errors:
        raise ValidationFailed(errors)
    last = Column.objects.filter(channel=channel, parent=parent).order_by("-position").first()
    try:
        with transaction.atomic():
            column = Column.objects.create(
                channel=channel,
                parent=parent,
                name=name,
                slug=slug,
                position=(last.position + 1) if last else 0,
            )
    except IntegrityError as exc:
        raise ValidationFailed({"slug": _("该频道已有同样标识的栏目。")}) from exc
    # The column tabs and feeds are cached (caching.py): renew them.
    content_changed()
    audit_record(
        actor=actor,
        action="content.column_create",
        target=column,
        organization=channel.platform,
        after={"name": name, "slug": slug, "parent": parent.pk if parent else None},
        ip=ip,
    )
    return column


# --- members ---------------------------------------------------------------------------------


def _published(item: Item) -> Item:
    """``item`` if members can see it now (published, and its publish time has come)."""
    if (
        item.status != ItemStatus.PUBLISHED
        or item.published_at is None
        or item.published_at > now()
    ):
        raise Conflict(_("该内容尚未发布或已撤回。"), code="item_not_published")
    return item


def favourite_add(*, member: User, item: Item) -> Award:
    """收藏 (idempotent); pays ``favourite`` once per item where the day's rules have it."""
    _published(item)
    Favourite.objects.get_or_create(member=member, item=item)
    return points_award(member=member, rule="favourite", source_type="item", source_id=item.pk)


def favourite_remove(*, member: User, item: Item) -> None:
    """Un-favouriting keeps any points paid: they were earned (compensation is for wrongs)."""
    Favourite.objects.filter(member=member, item=item).delete()


def subscription_add(*, member: User, account: Account) -> Award:
    """订阅 a 强国号 (idempotent); pays ``subscribe`` once per account, ever."""
    if not account.is_active:
        raise Conflict(_("该强国号已停用。"), code="account_inactive")
    with transaction.atomic():
        created = Subscription.objects.get_or_create(member=member, account=account)[1]
        if created:
            Account.objects.filter(pk=account.pk).update(subscriber_count=F("subscriber_count") + 1)
    return points_award(
        member=member, rule="subscribe", source_type="account", source_id=account.pk
    )


def subscription_remove(*, member: User, account: Account) -> None:
    with transaction.atomic():
        deleted = Subscription.objects.filter(member=member, account=account).delete()[0]
        if deleted:
            Account.objects.filter(pk=account.pk, subscriber_count__gt=0).update(
                subscriber_count=F("subscriber_count") - 1
            )


def share_create(*, member: User, item: Item) -> tuple[Share, Award]:
    """A share link for ``item``; pays ``share`` once per item and day (the member's own link
    is reused the same day)."""
    _published(item)
    day = business_day()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=BUSINESS_TZ)
    share = (
        Share.objects.filter(member=member, item=item, created_at__gte=start)
        .order_by("-created_at")
        .first()
    ) or Share.objects.create(member=member, item=item)
    award = points_award(
        member=member, rule="share", source_type="share", source_id=f"{item.pk}:{day}"
    )
    return share, award


def share_visit(token: str) -> Item | None:
    """The published item behind a share link (counting the visit), or ``None``."""
    share = Share.objects.select_related("item").filter(token=token).first()
    if share is None or share.item.status != ItemStatus.PUBLISHED:
        return None
    Share.objects.filter(pk=share.pk).update(visits=F("visits") + 1)
    return share.item


def history_touch(*, member: User, item: Item) -> None:
    """Record a visit in the member's reading history and the item's read count."""
    moment = now()
    updated = ReadingHistory.objects.filter(member=member, item=item).update(
        last_at=moment, visits=F("visits") + 1
    )
    if not updated:
        try:
            with transaction.atomic():
                ReadingHistory.objects.create(member=member, item=item, first_at=moment)
        except IntegrityError:  # a parallel first visit made the row
            ReadingHistory.objects.filter(member=member, item=item).update(
                last_at=moment, visits=F("visits") + 1
            )
    Item.objects.filter(pk=item.pk).update(read_count=F("read_count") + 1)


def local_channel_visit(*, member: User) -> Award:
    """Opening the 本地频道 pays ``local_channel`` once a day."""
    day = business_day()
    return points_award(
        member=member, rule="local_channel", source_type="local_channel", source_id=str(day)
    )


# --- editors: columns, 强国号 accounts and body images (the content console) -----------------


def _column_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 50:
        raise ValidationFailed({"name": _("请填写 1–50 个字的栏目名称。")})
    return name


@transaction.atomic
def column_update(
    *,
    actor: User,
    column: Column,
    name: str | None = None,
    is_active: bool | None = None,
    ip: str | None = None,
) -> Column:
    """Rename a column and/or switch it on or off (checked by the caller:
    ``access_column_as_editor``). A column switched off keeps its items and children."""
    column = (
        Column.objects.select_for_update(of=("self",))
        .select_related("channel__platform")
        .get(pk=column.pk)
    )
    before = {"name": column.name, "is_active": column.is_active}
    if name is not None:
        column.name = _column_name(name)
    if is_active is not None:
        column.is_active = bool(is_active)
    after = {"name": column.name, "is_active": column.is_active}
    if after == before:
        return column
    column.save(update_fields=["name", "is_active"])
    # The column tabs and feeds are cached (caching.py): renew them.
    content_changed()
    audit_record(
        actor=actor,
        action="content.column_update",
        target=column,
        organization=column.channel.platform,
        before=before,
        after=after,
        ip=ip,
    )
    return column


@transaction.atomic
def column_move(*, actor: User, column: Column, direction: str, ip: str | None = None) -> Column:
    """Move a column one place ``"up"`` or ``"down"`` among its siblings (same channel and
    parent), under a lock on the siblings' rows; the siblings are renumbered 0, 1, 2… so that
    equal positions left by older data cannot make a move a no-op. ``Conflict`` at either end."""
    if direction not in ("up", "down"):
        raise ValidationFailed({"direction": _("移动方向无效。")})
    siblings = list(
        Column.objects.select_for_update()
        .filter(channel_id=column.channel_id, parent_id=column.parent_id)
        .order_by("position", "id")
    )
    index = next((i for i, sibling in enumerate(siblings) if sibling.pk == column.pk), None)
    if index is None:  # moved under another parent meanwhile
        raise Conflict(_("栏目已被修改，请刷新后重试。"), code="column_changed")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        message = _("已经排在最前面。") if direction == "up" else _("已经排在最后面。")
        raise Conflict(message, code="column_at_edge")
    before = siblings[index].position
    siblings[index], siblings[other] = siblings[other], siblings[index]
    changed = []
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            changed.append(sibling)
    Column.objects.bulk_update(changed, ["position"])
    moved = siblings[other]
    channel = Channel.objects.select_related("platform").get(pk=moved.channel_id)
    # The column tabs and feeds are cached (caching.py): renew them.
    content_changed()
    audit_record(
        actor=actor,
        action="content.column_move",
        target=moved,
        organization=channel.platform,
        before={"position": before},
        after={"position": moved.position},
        ip=ip,
    )
    return moved


ACCOUNT_LIMITS = {"name": 50, "intro": 200}


def _account_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in ACCOUNT_LIMITS.items():
        if name in data:
            value = " ".join(str(data[name] or "").split())
            if len(value) > limit:
                errors[name] = _("不能超过 %(n)d 个字。") % {"n": limit}
            fields[name] = value
    if "name" in fields and not fields["name"]:
        errors["name"] = _("请填写强国号名称。")
    if "kind" in data:
        if data["kind"] not in AccountKind.values:
            errors["kind"] = _("类型无效。")
        fields["kind"] = data["kind"]
    if "is_active" in data:
        fields["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed(errors)
    return fields


def _account_snapshot(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "kind": account.kind,
        "organization": account.organization_id,
        "intro": account.intro,
        "is_active": account.is_active,
    }


def _account_save(account: Account) -> None:
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        raise ValidationFailed({"name": _("已有同名的强国号。")}) from exc


@transaction.atomic
def account_create(
    *,
    actor: User,
    organization: Organization,
    data: dict[str, Any],
    avatar: UploadedFile | None = None,
    ip: str | None = None,
) -> Account:
    """A 强国号 of ``organization`` (checked by the caller: in the editor's scope). ``data``
    holds ``name``, ``kind``, ``intro`` and optionally ``is_active``; the avatar is checked
    before anything is written."""
    fields = _account_fields({"name": "", "kind": AccountKind.INSTITUTION, **data})
    account = Account(organization=organization, **fields)
    if avatar is not None:
        check_image(avatar, "avatar")
        account.avatar = avatar
    _account_save(account)
    # Cards show a 强国号's name (caching.py): renew the cached lists.
    content_changed()
    audit_record(
        actor=actor,
        action="content.account_create",
        target=account,
        organization=organization,
        after=_account_snapshot(account),
        ip=ip,
    )
    return account


@transaction.atomic
def account_update(
    *,
    actor: User,
    account: Account,
    data: dict[str, Any],
    organization: Organization | None = None,
    avatar: UploadedFile | None = None,
    ip: str | None = None,
) -> Account:
    """Edit a 强国号 (checked by the caller, and so is a new ``organization``)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    before = _account_snapshot(account)
    for name, value in _account_fields(data).items():
        setattr(account, name, value)
    if organization is not None:
        account.organization = organization
    if avatar is not None:
        check_image(avatar, "avatar")
        account.avatar = avatar
    _account_save(account)
    # Cards show a 强国号's name (caching.py): renew the cached lists.
    content_changed()
    audit_record(
        actor=actor,
        action="content.account_update",
        target=account,
        organization=account.organization,
        before=before,
        after=_account_snapshot(account),
        ip=ip,
    )
    return account


BODY_IMAGE_FOLDER = "body"


def body_image_save(*, actor: User, upload: UploadedFile, ip: str | None = None) -> str:
    """Store an image for an article body under ``MEDIA_ROOT/body/<year>/<month>/`` with a
    random name and the extension of its real type, and answer its URL (``/media/…``: the
    only images the sanitiser keeps). The caller checks that ``actor`` is an editor."""
    content_type = check_image(upload, "image")
    moment = now().astimezone(BUSINESS_TZ)
    name = (
        f"{BODY_IMAGE_FOLDER}/{moment:%Y}/{moment:%m}/"
        f"{secrets.token_hex(12)}{IMAGE_TYPES[content_type]}"
    )
    stored = default_storage.save(name, upload)
    audit_record(
        actor=actor,
        action="content.body_image_upload",
        target_type="body_image",
        target_label=stored,
        after={"size": upload.size, "type": content_type},
        ip=ip,
    )
    return default_storage.url(stored)
