"""Per-day, per-organisation figures that reports read instead of the ledger (docs/reports.md).

``DailyFigure`` holds the figures of one organisation's **whole subtree** for one Asia/Shanghai
day, so a report of any node — a branch or the province — reads one row for the node and one
per child, and a 30-day trend reads 30 rows. ``ReportDay`` says which days have been computed
and whether they are final: a node without a row on a computed day had nothing to count.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportDay(models.Model):
    """One computed day: live (refreshed through the day) until the nightly close makes it
    final. ``ledger_points`` is the ledger's sum for the day at the close (or refresh) and
    ``reconciled`` whether the roots' stored totals equal it."""

    day = models.DateField(_("日期"), unique=True)
    final = models.BooleanField(_("已结算"), default=False)
    computed_at = models.DateTimeField(_("统计时间"), default=timezone.now)
    ledger_points = models.BigIntegerField(_("积分明细合计"), default=0)
    reconciled = models.BooleanField(_("与积分明细一致"), default=False)

    class Meta:
        verbose_name = pgettext_lazy("model", "报表日")
        verbose_name_plural = pgettext_lazy("model plural", "报表日")

    def __str__(self) -> str:
        return f"{self.day} ({'final' if self.final else 'live'})"


class DailyFigure(models.Model):
    """The figures of ``organization`` and everything below it on ``day``.

    Members count where they were listed at the end of the day (the membership in force at
    the next midnight), so a member counts once in any subtree and a later transfer never
    changes a past day. ``points_total`` sums the ledger entries by the organisation they were
    earned in (``LedgerEntry.organization``), like the rankings.
    """

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("组织"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The organisation's parent when the day was computed: a report lists a node's children
    # from one indexed read of (day, parent), and a past day keeps the tree it was counted in.
    parent = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("上级组织"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    day = models.DateField(_("日期"))
    expected = models.IntegerField(_("应注册人数"), default=0)
    registered = models.IntegerField(_("已注册人数"), default=0)
    participants = models.IntegerField(_("参学人数"), default=0)
    active = models.IntegerField(_("活跃人数"), default=0)
    points_total = models.BigIntegerField(_("积分合计"), default=0)

    class Meta:
        verbose_name = pgettext_lazy("model", "每日报表数据")
        verbose_name_plural = pgettext_lazy("model plural", "每日报表数据")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["day", "organization"], name="one_figure_per_day_org"),
            models.CheckConstraint(
                condition=Q(registered__lte=models.F("expected")),
                name="figure_registered_lte_expected",
            ),
        ]
        # The unique constraint's index (day, organization) serves a node's row of a day; these
        # serve a node's trend over days and a node's children on a day.
        indexes: ClassVar = [
            models.Index(fields=["organization", "day"], name="figure_org_day"),
            models.Index(fields=["day", "parent"], name="figure_day_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day}"
