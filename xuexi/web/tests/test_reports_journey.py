"""A county administrator's reports journey in the console, at phone and PC size (Playwright).

The main administrator of 示范县 opens 学习报表 from the console menu: today's live figures,
yesterday's final ones, the 30-day trend chart (drawn by ECharts, served by the project) and
the county's children ranked. He drills down to 城关镇, then to its first branch, lists the
branch's members who have not learned today, and downloads the Excel file.

Screenshots go to ``test-artifacts/screenshots/reports-<375|1440>-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Membership, Organization, Role
from xuexi.organizations.services import membership_place, role_grant
from xuexi.points.models import RuleSet
from xuexi.points.services import points_award, rulesets_install_default
from xuexi.reports import rollup
from xuexi.web.tests.test_browser_journeys import BOTH_SIZES, PASSWORD, add_child, expect, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["visit"]  # the fixture, shared by name

ADMIN_PHONE = {"phone": "13300134001", "pc": "13300134002"}
BRANCH = "城关镇第一党支部"


def _county(size: str) -> None:
    """示范县: the organ's branch, 城关镇 with two branches; members who learned yesterday and
    today, one who did not, one pre-listed; yesterday closed and today refreshed."""
    p = "RJ" + size[:2].upper()
    county = Organization.objects.add_root({"name": "示范县", "kind": "county", "code": p})
    organ = add_child(county, "县委机关党支部", f"{p}-1")
    town = add_child(county, "城关镇", f"{p}-2", kind="unit")
    town_one = add_child(town, BRANCH, f"{p}-2-1")
    town_two = add_child(town, "城关镇第二党支部", f"{p}-2-2")

    admin = User.objects.create_user(phone=ADMIN_PHONE[size], real_name="周管理", password=PASSWORD)
    membership_place(user=admin, organization=organ)
    role_grant(user=admin, organization=county, role=Role.MAIN_ADMIN, granted_by=None)
    offset = 0 if size == "phone" else 50
    people = {}
    places = [
        ("陈学习", organ),
        ("林党员", organ),
        ("赵镇里", town_one),
        ("孙未学", town_one),
        ("钱镇里", town_two),
    ]
    for number, (name, organization) in enumerate(places):
        member = User.objects.create_user(
            phone=f"1372000{offset + number:04d}", real_name=name, password=PASSWORD
        )
        membership_place(user=member, organization=organization)
        people[name] = member
    # A pre-listed member: an account with no usable password, never registered.
    listed = User.objects.create_user(phone=f"1372000{offset + 9:04d}", real_name="李名单")
    listed.registered_at = None
    listed.save(update_fields=["registered_at"])
    Membership.objects.create(user=listed, organization=town_one)

    today = business_day()
    yesterday = today - dt.timedelta(days=1)
    # Registered members since last week: a day counts those listed at its end.
    last_week = dt.datetime.combine(today - dt.timedelta(days=7), dt.time(9), BUSINESS_TZ)
    Membership.objects.filter(organization__path__startswith=county.path).update(
        started_at=last_week
    )
    User.objects.filter(pk__in=[admin.pk, *(p.pk for p in people.values())]).update(
        registered_at=last_week
    )
    for day, learners in (
        (yesterday, ("陈学习", "赵镇里", "钱镇里")),
        (today, ("陈学习", "赵镇里")),
    ):
        at = dt.datetime.combine(day, dt.time(0, 30), BUSINESS_TZ)
        for name in learners:
            points_award(
                member=people[name],
                rule="daily_quiz",
                source_type="journey",
                source_id=f"{day}",
                at=at,
                units=5,
            )
    rollup.report_day_close(yesterday)
    rollup.report_today_refresh()


@BOTH_SIZES
def test_a_county_administrator_reads_the_reports_and_downloads_them(visit: Any, size: str) -> None:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    _county(size)
    v = visit("reports", size)
    page = v.page

    v.sign_in(ADMIN_PHONE[size], "周管理")
    v.goto(reverse("console:index"))
    menu = page.get_by_role("navigation", name="管理菜单")
    menu.get_by_role("link", name="学习报表").click()

    # The county's dashboard: today live, yesterday final, the chart, the children ranked.
    expect(page.get_by_role("heading", name="示范县 学习报表", level=1)).to_be_visible()
    expect(menu.get_by_role("link", name="学习报表")).to_have_attribute("aria-current", "page")
    # The ranking opens on yesterday, the last final day.
    expect(page.get_by_label("日期", exact=True)).to_have_value(
        (business_day() - dt.timedelta(days=1)).isoformat()
    )
    today_card = page.get_by_role("region", name=re.compile("今日实时"))
    expect(today_card).to_contain_text("未结算")
    expect(today_card.locator(".report-figure", has_text="应注册")).to_contain_text("7")
    yesterday_card = page.get_by_role("region", name=re.compile("昨日"))
    expect(yesterday_card).to_contain_text("已结算")
    expect(yesterday_card.locator(".report-figure", has_text="参学人数")).to_contain_text("3")
    expect(page.locator(".report-chart svg")).to_be_visible()
    rows = page.locator(".report-table tbody tr")
    expect(rows).to_have_count(2)
    v.shot_from_top("01-county")

    # Drill down: 城关镇, then its first branch.
    rows.filter(has_text="城关镇").get_by_role("link", name="城关镇", exact=True).click()
    expect(page.get_by_role("heading", name="城关镇 学习报表", level=1)).to_be_visible()
    page.locator(".report-table tbody tr", has_text=BRANCH).get_by_role(
        "link", name=BRANCH, exact=True
    ).click()
    expect(page.get_by_role("heading", name=f"{BRANCH} 学习报表", level=1)).to_be_visible()
    expect(page.get_by_text("本组织没有下级组织")).to_be_visible()
    if size == "pc":
        expect(page.get_by_role("navigation", name="当前位置")).to_contain_text("城关镇")
    v.shot_from_top("02-branch")

    # Who has not learned today: 孙未学 (registered); 李名单 is under 未注册.
    page.get_by_role("region", name=re.compile("今日实时")).get_by_role(
        "link", name="未学习"
    ).click()
    expect(page.get_by_role("heading", name=f"{BRANCH} 成员名单", level=1)).to_be_visible()
    members = page.locator(".report-table tbody tr")
    expect(members).to_have_count(1)
    expect(members.first).to_contain_text("孙未学")
    expect(members.first).to_contain_text("****")
    v.shot_from_top("03-not-learned")
    page.get_by_role("navigation", name="成员状态").get_by_role("link", name="未注册").click()
    expect(page.locator(".report-table tbody tr")).to_have_text([re.compile("李名单")])

    # The Excel file of the branch's day.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"学习日报-{BRANCH}-")
    with open(download.path(), "rb") as file:  # the saved download has no .xlsx suffix
        book = openpyxl.load_workbook(file)
    assert book.sheetnames == ["日报", "未注册", "未学习", "已学习"]
    assert [row[0].value for row in book["未学习"].iter_rows(min_row=2)] == ["孙未学"]
    assert [row[0].value for row in book["已学习"].iter_rows(min_row=2)] == ["赵镇里"]
