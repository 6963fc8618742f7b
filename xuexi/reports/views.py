"""The administrators' report pages (统计) under /console/reports/: the dashboard of a node —
today's live and yesterday's final figures, a 30-day trend chart, the children ranked with
drill-down to any depth — the member lists by status, and the Excel download.

Thin, like every console page: the node comes through ``access_organization_for_reports``
(403 for non-administrators, 404 outside the scope, as Chinese pages), the figures from
``xuexi.reports.selectors``. Each page costs the same queries for a branch and a province
(a test counts them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xuexi.accounts.models import User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.pagination import paginate
from xuexi.core.time import business_day
from xuexi.organizations.models import Organization
from xuexi.organizations.roster_views import xlsx_attachment
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import organization_ancestors
from xuexi.reports import exports, selectors
from xuexi.reports.access import access_organization_for_reports

MEMBERS_PAGE_SIZE = 30
SECTION = "reports"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _day(request: HttpRequest, *, default: dt.date) -> dt.date:
    """The ``date`` asked for; ``default`` when it is missing, malformed or still to come."""
    try:
        day = parse_date((request.GET.get("date") or "").strip())
    except ValueError:
        day = None
    return day if day is not None and day <= business_day() else default


def _choice(request: HttpRequest, name: str, choices: dict[str, Any], default: str) -> str:
    value = request.GET.get(name, default)
    return value if value in choices else default


def _crumbs(actor: User, organization: Organization) -> list[dict[str, Any]]:
    """The path down to ``organization``; nodes inside the scope link to their dashboard."""
    scope = AdminScope.of(actor)
    return [
        {
            "name": node.name,
            "url": reverse("console:reports_dashboard", args=[node.pk])
            if scope.covers(node)
            else "",
        }
        for node in [*organization_ancestors(organization), organization]
    ]


@login_required
@require_GET
def reports_index(request: HttpRequest) -> HttpResponse:
    """/console/reports/ → the dashboard of the administrator's top node."""
    scope = AdminScope.of(_actor(request))
    scope.require_admin()
    top = Organization.objects.get(path=scope.root_paths[0])
    return redirect("console:reports_dashboard", top.pk)


def _trend_data(trend: list[selectors.TrendPoint]) -> dict[str, Any]:
    """The chart's series: days never computed are gaps (``None``), not zeros."""

    def series(value: str) -> list[float | None]:
        return [getattr(point.figures, value) if point.computed else None for point in trend]

    return {
        "days": [f"{point.day:%m-%d}" for point in trend],
        "final": [point.final for point in trend],
        "participation": [
            None if v is None else round(v * 100, 1) for v in series("participation")
        ],
        "coverage": [None if v is None else round(v * 100, 1) for v in series("coverage")],
        "points_per_member": series("points_per_member"),
        "labels": {
            "participation": _("参学率（%）"),
            "coverage": _("注册率（%）"),
            "points_per_member": _("人均积分"),
            "live": _("今日（实时）"),
        },
    }


@login_required
@require_GET
def dashboard(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_for_reports(actor, org_id)
    today = business_day()
    yesterday_date = today - dt.timedelta(days=1)
    # The ranking opens on yesterday, the last final day: this morning's live figures rank
    # everyone at nought. Today's lists are one click away on today's card.
    day = _day(request, default=yesterday_date)
    period = _choice(request, "period", selectors.PERIODS, "day")
    by = _choice(request, "by", selectors.RANK_ORDERS, "participation")
    live = selectors.report_figures(organization, day=today, with_children=False)
    yesterday = selectors.report_figures(organization, day=yesterday_date, with_children=False)
    report = selectors.report_figures(organization, day=day, period=period, by=by)
    trend = selectors.report_trend(organization, last=today)
    context = {
        "organization": organization,
        "crumbs": _crumbs(actor, organization),
        "console_section": SECTION,
        "live": live,
        "yesterday": yesterday,
        "report": report,
        "day": day,
        "today": today,
        "period": period,
        "by": by,
        "periods": list(selectors.PERIODS.items()),
        "orders": list(selectors.RANK_ORDERS.items()),
        "statuses": list(selectors.MEMBER_STATUSES.items()),
        "trend": _trend_data(trend),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
def members(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_for_reports(actor, org_id)
    day = _day(request, default=business_day())
    status = _choice(request, "status", selectors.MEMBER_STATUSES, "not_learned")
    q = (request.GET.get("q") or "").strip()[:50]
    rows = selectors.report_members(organization, day=day, status=status, q=q)
    page = paginate(
        rows, cursor=request.GET.get("cursor") or None, limit=MEMBERS_PAGE_SIZE, ascending=True
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "organization": organization,
        "crumbs": _crumbs(actor, organization),
        "console_section": SECTION,
        "day": day,
        "status": status,
        "status_label": selectors.MEMBER_STATUSES[status],
        "statuses": list(selectors.MEMBER_STATUSES.items()),
        "q": q,
        "rows": [selectors.report_member_row(membership) for membership in page.items],
        "next_cursor": page.next_cursor,
        "first_page": not request.GET.get("cursor"),
        "querystring": query.urlencode(),
    }
    return render(request, "reports/members.html", context)


@login_required
@require_GET
def daily_xlsx(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_for_reports(actor, org_id)
    day = _day(request, default=business_day())
    content = exports.report_workbook(
        actor=actor, organization=organization, day=day, ip=client_ip_from_request(request)
    )
    return xlsx_attachment(content, exports.report_filename(organization, day))
