"""Rule sets, the append-only ledger and the counters that make "today" one read.

Hot rows (ledger, counters) carry the member id so that a later split of these tables by member
(per-province databases, Citus) needs no redesign; no transaction spans members.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RuleSet(models.Model):
    """A versioned set of points rules, in force from ``effective_from`` (Asia/Shanghai day)."""

    code = models.CharField(_("编号"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=100)
    effective_from = models.DateField(_("生效日期"), unique=True)
    data = models.JSONField(_("规则"))  # scoring.RuleSetSpec.as_data()
    shipped = models.BooleanField(_("随系统发布"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "积分规则")
        verbose_name_plural = pgettext_lazy("model plural", "积分规则")
        ordering: ClassVar = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.title}（{self.effective_from}）"


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The points ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The points ledger is append-only.")


class LedgerEntry(models.Model):
    """One award (or one compensating correction). Never changed, never deleted.

    ``(member, rule, source_type, source_id)`` is unique: the same source never pays twice,
    whatever the number of requests racing to claim it.
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("学员"),
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    rule = models.CharField(_("规则"), max_length=30)
    points = models.IntegerField(_("积分"))
    day = models.DateField(_("日期"))  # the Asia/Shanghai business day of ``at``
    at = models.DateTimeField(_("时间"), default=timezone.now)
    source_type = models.CharField(_("来源类型"), max_length=30)
    source_id = models.CharField(_("来源编号"), max_length=64)
    ruleset = models.ForeignKey(
        RuleSet, verbose_name=_("适用规则"), on_delete=models.PROTECT, related_name="+"
    )
    # Where the member belonged when he earned it: organisation rankings of past days stay
    # true after transfers.
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "积分明细")
        verbose_name_plural = pgettext_lazy("model plural", "积分明细")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["member", "rule", "source_type", "source_id"], name="one_award_per_source"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["member", "-at"], name="ledger_member_at"),
            models.Index(fields=["day", "organization"], name="ledger_day_org"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.rule} {self.points:+d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("The points ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The points ledger is append-only.")


class CounterPeriod(models.TextChoices):
    DAY = "day", _("日")
    WEEK = "week", _("周")


class Counter(models.Model):
    """Points and scoring occurrences of one member for one key over one day or week.

    Keys are rule codes, or ``group:<name>`` for a cap several rules share. The award service
    locks these rows (always in key order) to apply caps; ``points_counters_rebuild`` recomputes
    them from the ledger and proves they match.
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_counters"
    )
    period = models.CharField(max_length=4, choices=CounterPeriod.choices)
    start = models.DateField()  # the day, or the Monday of the week
    key = models.CharField(max_length=40)
    points = models.IntegerField(default=0)
    occurrences = models.IntegerField(default=0)

    class Meta:
        verbose_name = pgettext_lazy("model", "积分计数")
        verbose_name_plural = pgettext_lazy("model plural", "积分计数")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["member", "period", "start", "key"], name="one_counter_per_key"
            ),
            models.CheckConstraint(
                condition=Q(occurrences__gte=0), name="counter_occurrences_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period} {self.start} {self.key}: {self.points}"


# --- offline collective study (党课, 主题党日, 讲座) and the rankings switch -------------


class ActivityKind(models.TextChoices):
    PARTY_LECTURE = "party_lecture", _("党课")
    PARTY_DAY = "party_day", _("主题党日")
    LECTURE = "lecture", _("讲座")
    OTHER = "other", _("其他")


class Activity(models.Model):
    """An offline study activity an administrator records; each attendee is paid ``points``
    through the ``offline_activity`` rule (``activities.py``). Never deleted: a mistake is
    undone by reversing it, which writes compensating ledger entries."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("活动名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=ActivityKind.choices)
    held_on = models.DateField(_("活动日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    points = models.PositiveSmallIntegerField(_("每人积分"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    reversed_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reverse_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "线下学习活动")
        verbose_name_plural = pgettext_lazy("model plural", "线下学习活动")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(points__gte=1), name="activity_points_gte_1")
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "-held_on"], name="activity_org_held_on")
        ]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class ActivityAttendee(models.Model):
    """One attendee of an activity and what he was actually paid: the rule's daily cap may
    trim ``points_paid`` below the activity's points (``reason`` says ``capped``).
    ``settled_at`` is set once the award was attempted; ``reversal`` once it was undone."""

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="attendees", verbose_name=_("活动")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="+"
    )
    # Where the member belonged when the activity was recorded (shown in the list).
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points_paid = models.IntegerField(_("实得积分"), default=0)
    reason = models.CharField(_("说明"), max_length=20, blank=True)
    settled_at = models.DateTimeField(_("计分时间"), null=True, blank=True)
    reversal = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "活动参加人")
        verbose_name_plural = pgettext_lazy("model plural", "活动参加人")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["activity", "member"], name="one_attendance_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.member_id}: {self.points_paid}"


class RankingSetting(models.Model):
    """Whether personal (member) rankings are shown: one platform-wide row (``is_platform``,
    no organisation) and optional rows on nodes. The stricter wins: member rankings of a node
    are shown only when neither the platform nor the node nor any node above it turned them
    off. Organisation rankings are always shown."""

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("组织"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    is_platform = models.BooleanField(_("全平台"), default=False)
    members_visible = models.BooleanField(_("显示个人排行"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "排行设置")
        verbose_name_plural = pgettext_lazy("model plural", "排行设置")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["is_platform"],
                condition=Q(is_platform=True),
                name="one_platform_ranking_setting",
            ),
            models.CheckConstraint(
                condition=Q(is_platform=True, organization__isnull=True)
                | Q(is_platform=False, organization__isnull=False),
                name="ranking_setting_platform_or_node",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id or 'platform'}: {self.members_visible}"
