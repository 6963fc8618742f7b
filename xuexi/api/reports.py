"""Report routes of API.md "Reports" (C10): a node's day report with its children, its members
by status, and the same report as an Excel file.

Thin: every route fetches the node through ``access_organization_for_reports`` (administrators
in scope; outside it 404, no administrative role 403) and reads ``xuexi.reports.selectors``,
which read the per-day aggregates — never the ledger — for the figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.pagination import paginate
from xuexi.core.time import business_day
from xuexi.organizations.roster import XLSX_CONTENT_TYPE
from xuexi.organizations.roster_views import xlsx_attachment
from xuexi.reports import exports, selectors
from xuexi.reports.access import access_organization_for_reports

router = Router(tags=["学习报表"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


class FiguresOut(Schema):
    id: int
    name: str
    expected: int
    registered: int
    coverage: float
    participants: float
    participation: float
    active: float
    points_total: int
    points_per_member: float


class ChildFiguresOut(FiguresOut):
    rank: int


class DailyReportOut(FiguresOut):
    date: dt.date
    final: bool
    ready: bool  # false: the day has not been computed yet (figures are zero, not measured)
    computed_at: dt.datetime | None
    children: list[ChildFiguresOut]


class ReportMemberOut(Schema):
    id: int
    real_name: str
    phone: str  # masked
    organization: dict
    registered: bool
    points: int  # the day's learning points


class ReportMembersOut(Schema):
    date: dt.date
    status: str
    items: list[ReportMemberOut]
    next_cursor: str | None


@router.get(
    "/organizations/{organization_id}/reports/daily",
    response={200: DailyReportOut, **ERRORS},
)
def report_daily(
    request: HttpRequest,
    organization_id: int,
    date: dt.date | None = None,
    by: Literal["coverage", "participation", "points_per_member"] = "participation",
) -> dict:
    """The subtree's figures for a day (default today, live until the nightly close makes it
    final), with every child organisation ranked ``by`` coverage, participation (default) or
    points per member. Ratios are fractions (0.5 = 50 %)."""
    organization = access_organization_for_reports(_actor(request), organization_id)
    day = date or business_day()
    report = selectors.report_figures(organization, day=day, by=by)
    return {
        **report.figures.as_dict(),
        "date": day,
        "final": report.final,
        "ready": report.ready,
        "computed_at": report.computed_at,
        "children": [{**child.as_dict(), "rank": child.rank} for child in report.children],
    }


@router.get(
    "/organizations/{organization_id}/reports/members",
    response={200: ReportMembersOut, **ERRORS},
)
def report_members(
    request: HttpRequest,
    organization_id: int,
    status: Literal["unregistered", "not_learned", "learned"],
    date: dt.date | None = None,
    q: str = "",
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    """Members of the subtree on a day by status — ``unregistered`` (listed, pre-listed too,
    not registered), ``not_learned`` (registered, no learning points that day), ``learned`` —
    searchable by name or phone (``q``), in pages (``cursor``, ``limit`` ≤ 100)."""
    organization = access_organization_for_reports(_actor(request), organization_id)
    day = date or business_day()
    members = selectors.report_members(organization, day=day, status=status, q=q)
    page = paginate(members, cursor=cursor, limit=limit, ascending=True)
    return {
        "date": day,
        "status": status,
        "items": [
            {
                "id": row.user_id,
                "real_name": row.real_name,
                "phone": row.phone,
                "organization": {"id": row.organization_id, "name": row.organization_name},
                "registered": row.registered,
                "points": row.points,
            }
            for row in map(selectors.report_member_row, page.items)
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/organizations/{organization_id}/reports/daily.xlsx",
    response={
        200: None,
        **ERRORS,
    },
    openapi_extra={
        "responses": {
            "200": {
                "description": "Excel 文件（.xlsx）",
                "content": {XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def report_daily_xlsx(
    request: HttpRequest, organization_id: int, date: dt.date | None = None
) -> HttpResponse:
    """The day report and its member lists as .xlsx (sheets 日报, 未注册, 未学习, 已学习);
    audited, at most ``XUEXI_EXPORTS_PER_DAY`` a day per administrator (429 after)."""
    actor = _actor(request)
    organization = access_organization_for_reports(actor, organization_id)
    day = date or business_day()
    content = exports.report_workbook(
        actor=actor, organization=organization, day=day, ip=client_ip_from_request(request)
    )
    return xlsx_attachment(content, exports.report_filename(organization, day))
