"""The day report as an Excel workbook (.xlsx): one sheet per view — the report with its
children ranked, then the members who have not registered, have not learned, and have learned
— with Chinese headers, the header row frozen and every text cell neutralised against formula
injection (SECURITY S19).

The member sheets are a bulk export of personal data (S13): scoped by the caller's access
check, rate-limited per administrator and day, audited (``report.export``), phones masked
(S11), the requester named in the page header, and each sheet capped at
``XUEXI_REPORTS_EXPORT_MAX_ROWS`` rows with a closing line that says so.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core import ratelimit
from xuexi.core.audit import audit_record
from xuexi.core.spreadsheets import neutralise
from xuexi.core.time import BUSINESS_TZ, seconds_until_next_business_day
from xuexi.organizations.models import Organization
from xuexi.reports import selectors

REPORT_HEADERS = (
    "排名", "组织", "应注册人数", "已注册人数", "注册率", "参学人数", "参学率",
    "活跃人数", "积分合计", "人均积分",
)  # fmt: skip
MEMBER_HEADERS = ("姓名", "手机号", "所属组织", "当日学习积分")
MEMBER_SHEETS = (("unregistered", "未注册"), ("not_learned", "未学习"), ("learned", "已学习"))
CHUNK = 2_000


def report_filename(organization: Organization, day: dt.date) -> str:
    return _("学习日报-%(org)s-%(day)s.xlsx") % {"org": organization.name, "day": f"{day:%Y%m%d}"}


def report_workbook(
    *, actor: User, organization: Organization, day: dt.date, ip: str | None = None
) -> bytes:
    """The workbook of ``organization``'s report for ``day``; the caller has checked that
    ``actor`` may read it (``access_organization_for_reports``)."""
    import xlsxwriter

    ratelimit.hit(
        ratelimit.Limit(
            key=f"report-export:{actor.pk}",
            count=settings.XUEXI_EXPORTS_PER_DAY,
            seconds=seconds_until_next_business_day(),
            message=_("您今日导出报表的次数已达上限，请明天再试。"),
            code="export_daily_limit",
        )
    )
    report = selectors.report_figures(organization, day=day, by="participation")
    limit = settings.XUEXI_REPORTS_EXPORT_MAX_ROWS
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#FDEEEE", "border": 1})
    percent = workbook.add_format({"num_format": "0.0%"})
    decimal = workbook.add_format({"num_format": "0.00"})
    status = _("已结算") if report.final else _("实时数据，未结算")
    exported = timezone.now().astimezone(BUSINESS_TZ)
    # The page header names the day and the requester on every printed page (S13).
    page_header = "&L{}&R{}".format(
        _header_text(f"{organization.name} {day:%Y-%m-%d}（{status}）"),
        _header_text(
            _("导出人：%(name)s %(at)s")
            % {"name": actor.real_name, "at": f"{exported:%Y-%m-%d %H:%M}"}
        ),
    )

    def new_sheet(title: str, headers: tuple[str, ...], widths: tuple[int, ...]) -> Any:
        sheet = workbook.add_worksheet(title)
        sheet.set_header(page_header)
        for column, header in enumerate(headers):
            sheet.write_string(0, column, header, bold)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        return sheet

    sheet = new_sheet("日报", REPORT_HEADERS, (6, 28, 11, 11, 9, 10, 9, 10, 10, 10))
    rows: list[tuple[int | None, str, selectors.Figures]] = [
        (None, _("合计：%(org)s") % {"org": organization.name}, report.figures)
    ]
    rows += [(child.rank, child.name, child) for child in report.children]
    for line, (rank, name, figures) in enumerate(rows, start=1):
        if rank is not None:
            sheet.write_number(line, 0, rank)
        sheet.write_string(line, 1, neutralise(name))
        sheet.write_number(line, 2, figures.expected)
        sheet.write_number(line, 3, figures.registered)
        sheet.write_number(line, 4, figures.coverage, percent)
        sheet.write_number(line, 5, figures.participants)
        sheet.write_number(line, 6, figures.participation, percent)
        sheet.write_number(line, 7, figures.active)
        sheet.write_number(line, 8, figures.points_total)
        sheet.write_number(line, 9, figures.points_per_member, decimal)
    if not report.ready:
        sheet.write_string(len(rows) + 1, 1, _("该日的报表尚未生成。"))

    counts: dict[str, int] = {}
    for status_code, title in MEMBER_SHEETS:
        sheet = new_sheet(title, MEMBER_HEADERS, (14, 16, 28, 14))
        members = selectors.report_members(organization, day=day, status=status_code).order_by(
            "organization__path", "user_id"
        )
        written = 0
        for membership in members[: limit + 1].iterator(chunk_size=CHUNK):
            member = selectors.report_member_row(membership)
            if written == limit:
                sheet.write_string(
                    written + 1,
                    0,
                    _("仅导出前 %(limit)s 人，请按下级组织分别导出。") % {"limit": f"{limit:,}"},
                )
                break
            written += 1
            sheet.write_string(written, 0, neutralise(member.real_name))
            sheet.write_string(written, 1, member.phone)
            sheet.write_string(written, 2, neutralise(member.organization_name))
            sheet.write_number(written, 3, member.points)
        counts[status_code] = written
    workbook.close()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="report.export",
            target=organization,
            organization=organization,
            after={"day": day, "final": report.final, "rows": counts},
            ip=ip,
        )
    return buffer.getvalue()


def _header_text(text: str) -> str:
    # "&" starts a control code in Excel's page header: double it in names.
    return text.replace("&", "&&")
