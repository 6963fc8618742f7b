"""Channels, columns, items (articles, videos, audio), 强国号 accounts and what members do with
items: subscriptions, favourites, shares, reading history, and verified learning sessions.

A channel is the national channel or the local channel (本地频道) of one sub-platform — a
``platform`` node of the organisation tree; columns (栏目) form a shallow hierarchy under a
channel. Editors and operators hold their role on a node: the national channel is edited from
the root, a local channel from its platform node (``xuexi/content/access.py``).
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xuexi.organizations.models import Organization


class ChannelKind(models.TextChoices):
    NATIONAL = "national", _("全国频道")
    LOCAL = "local", _("本地频道")


class Channel(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=ChannelKind.choices)
    name = models.CharField(_("名称"), max_length=50)
    # The platform node a local channel belongs to (its editors hold roles there); for the
    # national channel, the root of the tree.
    platform = models.ForeignKey(
        Organization, verbose_name=_("所属平台"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = pgettext_lazy("model", "频道")
        verbose_name_plural = pgettext_lazy("model plural", "频道")
        ordering = ("position", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["platform"],
                condition=Q(kind="local"),
                name="one_local_channel_per_platform",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="national"), name="one_national_channel"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Column(models.Model):
    """A 栏目: ordered by operators (``position``) under its parent or its channel."""

    channel = models.ForeignKey(
        Channel, verbose_name=_("频道"), on_delete=models.PROTECT, related_name="columns"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级栏目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("名称"), max_length=50)
    slug = models.SlugField(_("标识"), max_length=50)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "栏目")
        verbose_name_plural = pgettext_lazy("model plural", "栏目")
        ordering = ("position", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["channel", "slug"], name="column_slug_per_channel")
        ]

    def __str__(self) -> str:
        return self.name


class AccountKind(models.TextChoices):
    INSTITUTION = "institution", _("强国号")
    LOCAL_PLATFORM = "local_platform", _("地方平台")


class Account(models.Model):
    """A publishing account (强国号) of an organisation, or a local platform, that members
    subscribe to."""

    kind = models.CharField(_("类型"), max_length=20, choices=AccountKind.choices)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    organization = models.ForeignKey(
        Organization, verbose_name=_("主办组织"), on_delete=models.PROTECT, related_name="+"
    )
    intro = models.CharField(_("简介"), max_length=200, blank=True)
    avatar = models.ImageField(_("头像"), upload_to="accounts/%Y/%m/", blank=True)
    subscriber_count = models.PositiveIntegerField(_("订阅人数"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "强国号")
        verbose_name_plural = pgettext_lazy("model plural", "强国号")
        ordering = ("-subscriber_count", "id")

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    ARTICLE = "article", _("文章")
    VIDEO = "video", _("视频")
    AUDIO = "audio", _("音频")


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class ItemQuerySet(models.QuerySet["Item"]):
    def published(self) -> ItemQuerySet:
        return self.filter(status=ItemStatus.PUBLISHED, published_at__lte=timezone.now())


class Item(models.Model):
    """An article, a video or an audio programme.

    ``body`` is stored sanitised (``xuexi/content/sanitize.py``): what is stored is what is
    served. ``search_text`` is the title, summary and body text segmented into words
    (``xuexi/content/search.py``): the full-text index reads it.
    """

    kind = models.CharField(_("类型"), max_length=10, choices=ItemKind.choices)
    column = models.ForeignKey(
        Column, verbose_name=_("栏目"), on_delete=models.PROTECT, related_name="items"
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("发布号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    cover = models.ImageField(_("封面"), upload_to="covers/%Y/%m/", blank=True)
    body = models.TextField(_("正文"), blank=True)
    source = models.CharField(_("来源"), max_length=60, blank=True)
    author = models.CharField(_("作者"), max_length=60, blank=True)
    tags = models.CharField(_("标签"), max_length=200, blank=True)  # separated by commas
    media = models.FileField(_("音视频文件"), upload_to="media/%Y/%m/", blank=True)
    media_type = models.CharField(_("文件类型"), max_length=40, blank=True)
    poster = models.ImageField(_("海报"), upload_to="posters/%Y/%m/", blank=True)
    duration = models.PositiveIntegerField(_("时长（秒）"), default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    recommended = models.BooleanField(_("推荐"), default=False)
    featured = models.BooleanField(_("首页焦点"), default=False)
    read_count = models.PositiveIntegerField(_("阅读量"), default=0)
    search_text = models.TextField(_("检索文本"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "内容")
        verbose_name_plural = pgettext_lazy("model plural", "内容")
        indexes: ClassVar = [
            models.Index(fields=["column", "status", "-published_at"], name="item_column_feed"),
            models.Index(fields=["status", "-published_at"], name="item_feed"),
            models.Index(
                fields=["-published_at"],
                condition=Q(status="published", recommended=True),
                name="item_recommended_feed",
            ),
            # 焦点: a few hundred featured items among all; without it the home walks item_feed
            # through thousands of rows to find five.
            models.Index(
                fields=["-published_at"],
                condition=Q(status="published", featured=True),
                name="item_featured_feed",
            ),
            models.Index(fields=["account", "status", "-published_at"], name="item_account_feed"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_item_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


class Subscription(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "订阅")
        verbose_name_plural = pgettext_lazy("model plural", "订阅")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "account"], name="one_subscription")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.account_id}"


class Favourite(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "收藏")
        verbose_name_plural = pgettext_lazy("model plural", "收藏")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "item"], name="one_favourite")
        ]
        indexes: ClassVar = [models.Index(fields=["member", "-created_at"], name="favourite_feed")]

    def __str__(self) -> str:
        return f"{self.member_id} ♥ {self.item_id}"


def share_token() -> str:
    return secrets.token_urlsafe(9)  # 12 characters


class Share(models.Model):
    """A share link: ``/s/<token>`` shows the item without login."""

    token = models.CharField(max_length=16, unique=True, default=share_token)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = pgettext_lazy("model", "分享")
        verbose_name_plural = pgettext_lazy("model plural", "分享")

    def __str__(self) -> str:
        return self.token


class ReadingHistory(models.Model):
    """The member's last visit of each item (one row per member and item)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_history"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    visits = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = pgettext_lazy("model", "学习记录")
        verbose_name_plural = pgettext_lazy("model plural", "学习记录")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "item"], name="one_history_row")
        ]
        indexes: ClassVar = [models.Index(fields=["member", "-last_at"], name="history_feed")]

    def __str__(self) -> str:
        return f"{self.member_id} read {self.item_id}"


class SessionState(models.TextChoices):
    OPEN = "open", _("进行中")
    VALID = "valid", pgettext_lazy("learning session", "有效")
    INVALID = "invalid", _("无效")


class LearningSession(models.Model):
    """One reading or viewing of an item, issued by the server and judged by it (C13).

    The client sends heartbeats while the item is visible (and media plays); the server keeps
    how much verified time they add up to and decides at ``finish`` whether the session was
    valid. Only a valid session pays, once (its id is the ledger source).
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning_sessions"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=SessionState.choices, default="open")
    started_at = models.DateTimeField(default=timezone.now)
    last_beat_at = models.DateTimeField(null=True, blank=True)
    beats = models.PositiveIntegerField(default=0)
    verified_seconds = models.PositiveIntegerField(default=0)  # heartbeats at the rhythm
    position = models.PositiveIntegerField(default=0)  # media position, seconds
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=30, blank=True)
    points_awarded = models.PositiveIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "学习会话")
        verbose_name_plural = pgettext_lazy("model plural", "学习会话")
        constraints: ClassVar = [
            # No parallel sessions: one open session per member, held by the database.
            models.UniqueConstraint(
                fields=["member"], condition=Q(state="open"), name="one_open_session_per_member"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["member", "-started_at"], name="session_member_started"),
            models.Index(
                fields=["-finished_at"], condition=Q(state="invalid"), name="session_invalid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.item_id} {self.state}"
