"""The report routes of API.md "Reports": shapes, member lists, the workbook, query counts."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.models import AuditEntry
from xuexi.organizations.models import Membership, Organization, RoleGrant
from xuexi.reports import rollup
from xuexi.reports.tests.conftest import DAY_ONE, LONG_AGO, child

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(story) -> Any:
    """The county's main administrator."""
    user = UserFactory.create(phone="13600000001", real_name="县管理员")
    RoleGrant.objects.create(user=user, organization=story.orgs["C"], role="main_admin")
    return user


def test_the_daily_report_has_the_fields_of_the_contract(client, story, admin):
    rollup.report_day_close(DAY_ONE)
    client.force_login(admin)
    body = client.get(
        f"/api/v1/organizations/{story.orgs['C'].pk}/reports/daily?date={DAY_ONE}"
    ).json()
    assert body["date"] == "2026-11-02"
    assert body["final"] is True
    assert {k: body[k] for k in ("expected", "registered", "participants", "active")} == {
        "expected": 6,
        "registered": 4,
        "participants": 2,
        "active": 3,
    }
    assert (body["coverage"], body["participation"]) == (0.6667, 0.5)
    assert (body["points_total"], body["points_per_member"]) == (13, 3.25)
    assert [(c["name"], c["rank"], c["participation"]) for c in body["children"]] == [
        ("支部B", 1, 1.0),
        ("支部A", 2, 0.3333),
    ]


def test_a_future_date_or_a_bad_status_is_refused_with_a_clear_error(client, story, admin):
    client.force_login(admin)
    base = f"/api/v1/organizations/{story.orgs['C'].pk}/reports"
    response = client.get(f"{base}/daily?date=2999-01-01")
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["date"] == "不能查询尚未到来的日期。"
    assert client.get(f"{base}/members?status=lazy").status_code == 422


def test_the_member_list_pages_and_masks_phones(client, story, admin):
    client.force_login(admin)
    base = f"/api/v1/organizations/{story.orgs['C'].pk}/reports/members"
    first = client.get(f"{base}?date={DAY_ONE}&status=not_learned&limit=1").json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    second = client.get(
        f"{base}?date={DAY_ONE}&status=not_learned&limit=1&cursor={first['next_cursor']}"
    ).json()
    names = {first["items"][0]["real_name"], second["items"][0]["real_name"]}
    assert names == {"成员a2", "成员a4"}
    assert second["next_cursor"] is None
    assert first["items"][0]["phone"].count("*") == 4
    learned = client.get(f"{base}?date={DAY_ONE}&status=learned&q=成员t").json()["items"]
    assert [(m["real_name"], m["points"], m["organization"]["name"]) for m in learned] == [
        ("成员t", 5, "支部B")
    ]


def test_the_workbook_has_a_sheet_per_view_frozen_chinese_headers_and_no_formulas(
    client, story, admin
):
    story.people["a4"].real_name = '=HYPERLINK("http://x")'
    story.people["a4"].save(update_fields=["real_name"])
    rollup.report_day_close(DAY_ONE)
    client.force_login(admin)
    response = client.get(
        f"/api/v1/organizations/{story.orgs['C'].pk}/reports/daily.xlsx?date={DAY_ONE}"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["日报", "未注册", "未学习", "已学习"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    report = book["日报"]
    assert [c.value for c in report[1]] == [
        "排名", "组织", "应注册人数", "已注册人数", "注册率", "参学人数", "参学率",
        "活跃人数", "积分合计", "人均积分",
    ]  # fmt: skip
    assert [c.value for c in report[2]][1:4] == ["合计：县C", 6, 4]
    assert [c.value for c in report[3]][:2] == [1, "支部B"]
    not_learned = book["未学习"]
    assert [c.value for c in not_learned[1]] == ["姓名", "手机号", "所属组织", "当日学习积分"]
    names = [row[0].value for row in not_learned.iter_rows(min_row=2)]
    assert '\'=HYPERLINK("http://x")' in names
    assert all(row[0].data_type != "f" for row in not_learned.iter_rows(min_row=2))
    assert [row[0].value for row in book["未注册"].iter_rows(min_row=2)] == ["成员a3", "成员b1"]
    entry = AuditEntry.objects.get(action="report.export")
    assert entry.actor == admin
    assert entry.after is not None
    assert entry.after["rows"] == {
        "unregistered": 2,
        "not_learned": 2,
        "learned": 2,
    }


@override_settings(XUEXI_REPORTS_EXPORT_MAX_ROWS=1)
def test_a_member_sheet_past_the_cap_says_so(client, story, admin):
    client.force_login(admin)
    response = client.get(
        f"/api/v1/organizations/{story.orgs['C'].pk}/reports/daily.xlsx?date={DAY_ONE}"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["未学习"]
    assert sheet.max_row == 3
    assert "仅导出前 1 人" in sheet["A3"].value


def grow(story, branches: int, members: int) -> None:
    """Add ``branches`` branches of ``members`` members each under the county."""
    county = Organization.objects.get(pk=story.orgs["C"].pk)
    start = Organization.objects.filter(path__startswith=county.path).count()
    for b in range(branches):
        county.refresh_from_db()
        branch = child(county, f"新支部{start + b}", "branch", f"R-1-x{start + b}")
        for m in range(members):
            user = UserFactory.create(phone=f"135{start + b:04d}{m:04d}")
            Membership.objects.create(user=user, organization=branch, started_at=LONG_AGO)


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_report_routes_cost_the_same_queries_however_large_the_tree(client, story, admin):
    client.force_login(admin)
    county = story.orgs["C"].pk
    routes = [
        f"/api/v1/organizations/{county}/reports/daily?date={DAY_ONE}",
        f"/api/v1/organizations/{county}/reports/members?date={DAY_ONE}&status=not_learned",
        f"/console/reports/organizations/{county}/?date={DAY_ONE}",
        f"/console/reports/organizations/{county}/members/?date={DAY_ONE}&status=not_learned",
    ]

    def counts() -> list[int]:
        rollup.report_day_close(DAY_ONE)
        result = []
        for route in routes:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(route).status_code == 200
            result.append(len(queries))
        return result

    client.get(routes[0])  # the first request of the session pays the daily login point
    small = counts()
    grow(story, branches=3, members=2)
    assert counts() == small
    grow(story, branches=10, members=3)
    assert counts() == small
