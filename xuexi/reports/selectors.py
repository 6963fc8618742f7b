"""Reads of the reports: a node's figures for a day or a period, its children ranked, the
trend, and the member lists by status. Figures come from ``DailyFigure`` (subtree totals),
so a report costs the same few queries for a branch and for the province; only the member
lists read memberships and the ledger, one page at a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xuexi.core.errors import ValidationFailed
from xuexi.core.masking import mask_phone
from xuexi.core.time import business_day
from xuexi.organizations.models import Membership, Organization
from xuexi.points.models import LedgerEntry
from xuexi.reports import rollup
from xuexi.reports.models import DailyFigure, ReportDay

PERIODS = {
    "day": _("日"),
    "week": _("周"),
    "month": _("月"),
    "year": _("年"),
    "rolling30": _("近30天"),
}
RANK_ORDERS = {
    "coverage": _("注册率"),
    "participation": _("参学率"),
    "points_per_member": _("人均积分"),
}
MEMBER_STATUSES = {
    "unregistered": _("未注册"),
    "not_learned": _("未学习"),
    "learned": _("已学习"),
}
TREND_DAYS = 30


def _ratio(numerator: float, denominator: float, digits: int = 4) -> float:
    return round(numerator / denominator, digits) if denominator else 0.0


@dataclass
class Figures:
    """A node's figures over a span of days (one day: the day's figures).

    ``expected`` and ``registered`` are those of the span's last computed day; participants
    and active members are daily averages; participation weighs each day by its registered
    members (sum of participants ÷ sum of registered); points are summed, and points per
    member divide them by the registered members of the last day.
    """

    organization_id: int
    name: str = ""
    path: str = ""
    days: int = 0
    expected: int = 0
    registered: int = 0
    participants_sum: int = 0
    registered_sum: int = 0
    active_sum: int = 0
    points_total: int = 0
    rank: int | None = None

    @property
    def coverage(self) -> float:
        return _ratio(self.registered, self.expected)

    @property
    def participants(self) -> float | int:
        return self._average(self.participants_sum)

    @property
    def active(self) -> float | int:
        return self._average(self.active_sum)

    @property
    def participation(self) -> float:
        return _ratio(self.participants_sum, self.registered_sum)

    @property
    def points_per_member(self) -> float:
        return _ratio(self.points_total, self.registered, 2)

    @property
    def unregistered(self) -> int:
        return self.expected - self.registered

    def _average(self, total: int) -> float | int:
        if self.days <= 1:
            return total
        return round(total / self.days, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.organization_id,
            "name": self.name,
            "expected": self.expected,
            "registered": self.registered,
            "coverage": self.coverage,
            "participants": self.participants,
            "participation": self.participation,
            "active": self.active,
            "points_total": self.points_total,
            "points_per_member": self.points_per_member,
        }


@dataclass
class Report:
    organization: Organization
    first: dt.date
    last: dt.date
    period: str
    final: bool  # every day of the span is closed
    computed_at: dt.datetime | None  # the latest computation among the span's days
    computed_days: int
    figures: Figures
    children: list[Figures] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.computed_days > 0


# --- which days are computed ---------------------------------------------------------------


def report_days_prepare(first: dt.date, last: dt.date) -> None:
    """Where reads compute figures themselves (the embedded default: no worker, no beat),
    compute what the span lacks: close ended days that are not final, refresh today when its
    live figures are older than ``XUEXI_REPORTS_LIVE_SECONDS``. Elsewhere, nothing: the beat
    jobs keep the figures, and a read never scans the ledger."""
    if not settings.XUEXI_REPORTS_COMPUTE_ON_READ:
        return
    today = business_day()
    last = min(last, today)
    marks = {mark.day: mark for mark in ReportDay.objects.filter(day__gte=first, day__lte=last)}
    oldest_live = timezone.now() - dt.timedelta(seconds=settings.XUEXI_REPORTS_LIVE_SECONDS)
    span_days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    open_days = [
        day for day in span_days if day < today and (day not in marks or not marks[day].final)
    ]
    if open_days:
        # Days before anyone was listed stay uncomputed ("no data", not zeros).
        earliest = Membership.objects.aggregate(earliest=Min("started_at"))["earliest"]
        for day in open_days:
            if earliest is not None and day >= business_day(earliest):
                rollup.report_day_close(day)
    if last == today:
        mark = marks.get(today)
        if mark is None or mark.computed_at < oldest_live:
            rollup.report_today_refresh()


# --- figures -------------------------------------------------------------------------------


def _span(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if period == "day":
        return day, day
    if period == "week":
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=6)
    if period == "month":
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return first, following - dt.timedelta(days=1)
    if period == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    if period == "rolling30":
        return day - dt.timedelta(days=29), day
    raise ValidationFailed({"period": str(_("统计周期无效。"))})


def _check_day(day: dt.date) -> None:
    if day > business_day():
        raise ValidationFailed({"date": str(_("不能查询尚未到来的日期。"))})


def period_span(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``period`` containing ``day`` (rolling30: the 30 days
    ending on it), never beyond today."""
    _check_day(day)
    first, last = _span(period, day)
    return first, min(last, business_day())


def _figures_of(
    rows: QuerySet[DailyFigure], last_day: dt.date | None, days: int
) -> dict[int, Figures]:
    """Figures per organisation from ``rows`` (already filtered to the span and the nodes):
    one grouped query, the last day's members picked by filtered sums."""
    on_last_day = Q(day=last_day)
    sums = rows.values("organization_id", "organization__name", "organization__path").annotate(
        last_expected=Sum("expected", filter=on_last_day),
        last_registered=Sum("registered", filter=on_last_day),
        participants_sum=Sum("participants"),
        registered_sum=Sum("registered"),
        active_sum=Sum("active"),
        points=Sum("points_total"),
    )
    return {
        row["organization_id"]: Figures(
            organization_id=row["organization_id"],
            name=row["organization__name"],
            path=row["organization__path"],
            days=days,
            expected=row["last_expected"] or 0,
            registered=row["last_registered"] or 0,
            participants_sum=row["participants_sum"] or 0,
            registered_sum=row["registered_sum"] or 0,
            active_sum=row["active_sum"] or 0,
            points_total=row["points"] or 0,
        )
        for row in sums
    }


def _rank(children: list[Figures], by: str) -> list[Figures]:
    """Children in descending order of ``by``, ties sharing a rank (1, 2, 2, 4), in tree order
    inside a tie."""
    ordered = sorted(children, key=lambda f: (-getattr(f, by), f.path))
    previous: float | None = None
    for place, figures in enumerate(ordered, start=1):
        value = getattr(figures, by)
        figures.rank = place if value != previous else ordered[place - 2].rank
        previous = value
    return ordered


def report_figures(
    organization: Organization,
    *,
    day: dt.date,
    period: str = "day",
    with_children: bool = True,
    by: str = "participation",
) -> Report:
    """The report of ``organization``'s subtree for the ``period`` containing ``day``, with its
    children ranked ``by`` coverage, participation or points per member. Three queries, however
    large the subtree (plus the computation of missing days where reads compute them)."""
    if by not in RANK_ORDERS:
        raise ValidationFailed({"by": str(_("排序方式无效。"))})
    first, last = period_span(period, day)
    report_days_prepare(first, last)
    marks = list(ReportDay.objects.filter(day__gte=first, day__lte=last).order_by("day"))
    last_day = marks[-1].day if marks else None
    days = len(marks)
    in_span = DailyFigure.objects.filter(day__gte=first, day__lte=last)
    own = _figures_of(in_span.filter(organization=organization), last_day, days)
    figures = own.get(organization.pk) or Figures(organization_id=organization.pk, days=days)
    figures.name, figures.path = organization.name, organization.path
    children: list[Figures] = []
    if with_children and organization.numchild:
        # One indexed read of (day, parent): the children as the tree stood on each day
        # counted; a child with nothing to count on those days has no row and is not ranked.
        children = _rank(
            list(_figures_of(in_span.filter(parent=organization), last_day, days).values()), by
        )
    return Report(
        organization=organization,
        first=first,
        last=last,
        period=period,
        final=bool(marks) and days == (last - first).days + 1 and all(m.final for m in marks),
        computed_at=max((m.computed_at for m in marks), default=None),
        computed_days=days,
        figures=figures,
        children=children,
    )


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    computed: bool
    final: bool
    figures: Figures


def report_trend(
    organization: Organization, *, last: dt.date, days: int = TREND_DAYS
) -> list[TrendPoint]:
    """``organization``'s figures for each of the ``days`` days ending on ``last``: two
    queries. Days never computed are marked so (no figures are invented for them)."""
    last = min(last, business_day())
    first = last - dt.timedelta(days=days - 1)
    report_days_prepare(first, last)
    marks = {m.day: m for m in ReportDay.objects.filter(day__gte=first, day__lte=last)}
    rows = {
        row.day: row
        for row in DailyFigure.objects.filter(
            organization=organization, day__gte=first, day__lte=last
        )
    }
    points = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = rows.get(day)
        figures = Figures(organization_id=organization.pk, name=organization.name, days=1)
        if row is not None:
            figures.expected, figures.registered = row.expected, row.registered
            figures.participants_sum = row.participants
            figures.registered_sum = row.registered
            figures.active_sum = row.active
            figures.points_total = row.points_total
        mark = marks.get(day)
        points.append(
            TrendPoint(
                day=day,
                computed=mark is not None,
                final=bool(mark and mark.final),
                figures=figures,
            )
        )
    return points


# --- member lists --------------------------------------------------------------------------


def report_members(
    organization: Organization, *, day: dt.date, status: str, q: str = ""
) -> QuerySet[Membership]:
    """Members of ``organization``'s subtree on ``day`` with ``status``: where they were
    listed at the day's end, as the figures count them. Each row carries ``learning_points``
    (that day's learning points, 0 when none) and ``is_registered``.

    ``unregistered``: listed (pre-listed too) but not registered by the day's end;
    ``not_learned``: registered, no learning points that day; ``learned``: registered, with
    learning points — the members the figures count as participants.
    ``q`` searches the name or the phone number."""
    if status not in MEMBER_STATUSES:
        raise ValidationFailed(
            {"status": str(_("成员状态无效，应为 unregistered、not_learned 或 learned。"))}
        )
    _check_day(day)
    _start, end = rollup.day_bounds(day)
    learning = (
        LedgerEntry.objects.filter(member=OuterRef("user_id"), day=day)
        .exclude(rule__in=rollup.NOT_LEARNING_RULES)
        .values("member")
        .annotate(total=Sum("points"))
        .values("total")
    )
    members = (
        Membership.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=end),
            organization__path__startswith=organization.path,
            started_at__lt=end,
        )
        .select_related("user", "organization")
        .annotate(
            learning_points=Coalesce(Subquery(learning, output_field=IntegerField()), Value(0)),
            is_registered=Case(
                When(user__registered_at__lt=end, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    if status == "unregistered":
        members = members.filter(is_registered=0)
    elif status == "not_learned":
        members = members.filter(is_registered=1, learning_points__lte=0)
    else:
        members = members.filter(is_registered=1, learning_points__gt=0)
    q = (q or "").strip()
    if q:
        members = members.filter(Q(user__real_name__icontains=q) | Q(user__phone__contains=q))
    return members


@dataclass(frozen=True)
class ReportMember:
    """One row of a member list, phone masked (S11)."""

    user_id: int
    real_name: str
    phone: str
    organization_id: int
    organization_name: str
    registered: bool
    points: int  # the day's learning points


def report_member_row(membership: Membership) -> ReportMember:
    """The row of a membership fetched by ``report_members`` (which annotates it)."""
    # The two values are annotations of report_members' query; the model does not declare them.
    points = membership.learning_points  # type: ignore[attr-defined]
    registered = membership.is_registered  # type: ignore[attr-defined]
    return ReportMember(
        user_id=membership.user_id,
        real_name=membership.user.real_name,
        phone=mask_phone(membership.user.phone),
        organization_id=membership.organization_id,
        organization_name=membership.organization.name,
        registered=bool(registered),
        points=int(points),
    )
