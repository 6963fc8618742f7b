"""The organisation tree, memberships and scoped roles.

The tree is a materialised path (django-treebeard ``MP_Node``): a subtree is one indexed
prefix query on ``path`` on SQLite and PostgreSQL alike, never recursion in Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from xuexi.core.storage import PrivateFileStorage


class OrganizationKind(models.TextChoices):
    PLATFORM = "platform", _("学习平台")
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")
    LINE = "line", pgettext_lazy("organisation kind", "系统")
    UNIT = "unit", _("单位")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    GROUP = "group", _("学习小组")


class ManagementLine(models.TextChoices):
    """The system/industry line a node is managed by besides geography (分系统分行业)."""

    PROVINCIAL_ORGANS = "provincial_organs", _("省直机关")
    UNIVERSITIES = "universities", _("高校")
    STATE_ENTERPRISES = "state_enterprises", _("国企")
    OTHER = "other", _("其他")


class Organization(MP_Node):
    # treebeard ships no type stubs, so the plugin cannot infer these fields: spell them out.
    name: models.CharField[str, str] = models.CharField(_("名称"), max_length=100)
    kind: models.CharField[str, str] = models.CharField(
        _("类型"), max_length=20, choices=OrganizationKind.choices
    )
    line: models.CharField[str, str] = models.CharField(
        _("所属系统"), max_length=30, choices=ManagementLine.choices, blank=True, default=""
    )
    code: models.CharField[str, str] = models.CharField(_("组织编码"), max_length=40, unique=True)
    expected_members: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(
        _("应注册人数"), default=0
    )
    is_open: models.BooleanField[bool, bool] = models.BooleanField(_("开放"), default=True)
    contact_name: models.CharField[str, str] = models.CharField(
        _("联系人"), max_length=50, blank=True, default=""
    )
    contact_phone: models.CharField[str, str] = models.CharField(
        _("联系电话"), max_length=20, blank=True, default=""
    )
    created_at: models.DateTimeField[dt.datetime, dt.datetime] = models.DateTimeField(
        _("创建时间"), default=timezone.now
    )

    node_order_by: ClassVar[list[str]] = []

    class Meta:
        verbose_name = pgettext_lazy("model", "学习组织")
        verbose_name_plural = pgettext_lazy("model plural", "学习组织")

    def __str__(self) -> str:
        return self.name


# Members belong to a branch or a study group (PRODUCT C2); higher nodes organise them.
MEMBER_KINDS = frozenset({OrganizationKind.BRANCH, OrganizationKind.GROUP})

# Which kinds may sit directly under which: the shape of a real organisation tree.
CHILD_KINDS: dict[str, frozenset[str]] = {
    OrganizationKind.PLATFORM: frozenset({"platform", "province", "line"}),
    OrganizationKind.PROVINCE: frozenset({"city", "line", "unit"}),
    OrganizationKind.CITY: frozenset({"county", "line", "unit"}),
    OrganizationKind.COUNTY: frozenset({"line", "unit", "general_branch", "branch"}),
    OrganizationKind.LINE: frozenset({"line", "unit"}),
    OrganizationKind.UNIT: frozenset({"unit", "general_branch", "branch", "group"}),
    OrganizationKind.GENERAL_BRANCH: frozenset({"branch", "group"}),
    OrganizationKind.BRANCH: frozenset({"group"}),
    OrganizationKind.GROUP: frozenset(),
}


class MembershipEnd(models.TextChoices):
    TRANSFERRED = "transferred", _("组织关系转接")
    REMOVED = "removed", _("移出组织")


class Membership(models.Model):
    """A member's place in an organisation. History is kept: a transfer ends one and opens one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    started_at = models.DateTimeField(_("加入时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    end_reason = models.CharField(
        _("离开原因"), max_length=20, choices=MembershipEnd.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "组织关系")
        verbose_name_plural = pgettext_lazy("model plural", "组织关系")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="one_current_membership"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "ended_at"], name="membership_org_current")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.organization_id}"


class Role(models.TextChoices):
    ADMIN = "admin", _("学习管理员")
    MAIN_ADMIN = "main_admin", _("主管理员")
    CORRESPONDENT = "correspondent", _("通讯员")
    EDITOR = "editor", pgettext_lazy("role", "编辑")
    COMMENTATOR = "commentator", _("评论员")
    MODERATOR = "moderator", _("审核员")
    OPERATOR = "operator", _("运营人员")


ADMINISTRATIVE_ROLES = frozenset({Role.ADMIN, Role.MAIN_ADMIN, Role.OPERATOR})


class RoleGrant(models.Model):
    """A role held on a node; it covers the node's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "角色授权")
        verbose_name_plural = pgettext_lazy("model plural", "角色授权")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="one_grant_per_role_and_node"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.organization_id}"


class Invitation(models.Model):
    """An invitation code (and its QR code) for joining one organisation, pending approval."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("加入组织"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    code = models.CharField(_("邀请码"), max_length=12, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "邀请码")
        verbose_name_plural = pgettext_lazy("model plural", "邀请码")

    def __str__(self) -> str:
        return self.code

    def is_usable(self, at: dt.datetime) -> bool:
        return self.disabled_at is None and (self.expires_at is None or self.expires_at > at)


class JoinStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class JoinRequest(models.Model):
    """A member's request to join an organisation by invitation code; an administrator decides."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("申请加入"),
        on_delete=models.CASCADE,
        related_name="join_requests",
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=JoinStatus.choices, default=JoinStatus.PENDING
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "入组申请")
        verbose_name_plural = pgettext_lazy("model plural", "入组申请")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="one_pending_join_request"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "status"], name="joinrequest_org_status")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.organization_id} ({self.status})"


# --- roster uploads (成员名单导入) ------------------------------------------------------------


class RosterUploadStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    IMPORTED = "imported", _("已导入")
    REJECTED = "rejected", _("有错误")
    EXPIRED = "expired", _("已过期")


def roster_upload_path(instance: RosterUpload, filename: str) -> str:
    """A random name under ``rosters/``: the person's own file name never reaches the disk."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    suffix = suffix if suffix in {"xlsx", "xls", "csv"} else "bin"
    return f"rosters/{uuid.uuid4().hex}.{suffix}"


class RosterUpload(models.Model):
    """A roster file an administrator uploaded, checked and previewed before he confirms it.

    The file is kept only while the upload waits for confirmation (at most a day); ``result``
    holds the counts, the errors and the first rows shown on the preview page.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roster_uploads"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="roster_uploads"
    )
    file = models.FileField(
        _("文件"), upload_to=roster_upload_path, storage=PrivateFileStorage(), blank=True
    )
    original_name = models.CharField(_("文件名"), max_length=255)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RosterUploadStatus.choices,
        default=RosterUploadStatus.PREVIEWED,
    )
    result = models.JSONField(_("结果"), default=dict, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "名单导入")
        verbose_name_plural = pgettext_lazy("model plural", "名单导入")
        indexes: ClassVar = [
            models.Index(fields=["status", "created_at"], name="rosterupload_status_created")
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"
