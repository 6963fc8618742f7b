"""An administrator's points journey in the console, at phone and PC size (Playwright).

The main administrator of 示范县 signs in, opens 积分与活动, records yesterday's 党课 (date,
place, points per attendee, attendees picked from his subtree with the page's picker: ticked on
the list, one found by name), reads the confirmation and the activity's page with what each
attendee was paid (one trimmed by the day's cap), records a mistaken 主题党日 and reverses it
with a reason, then opens 积分排行: the members ranked by yesterday's points, the child
organisations ranked, and finally personal rankings switched off for his county (main
administrators may: ``rankings._can_set_node``) so that only organisation rankings remain.

Screenshots go to ``test-artifacts/screenshots/points-admin-<375|1440>-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import membership_place, role_grant
from xuexi.points.models import Activity, LedgerEntry, RankingSetting, RuleSet
from xuexi.points.services import points_award, rulesets_install_default
from xuexi.web.tests.test_browser_journeys import BOTH_SIZES, PASSWORD, add_child, expect, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["visit"]  # the fixture, shared by name

# One number per size, so that no rate limit or lockout leaks between the two runs.
ADMIN_PHONE = {"phone": "13300133001", "pc": "13300133002"}
ORGAN = "县委机关第一党支部"
TOWN = "城关镇"


def _county(size: str) -> dict[str, Any]:
    """示范县: the organ's branch (the administrator and four members), 城关镇 with two branches
    of one member each, and an empty branch; what some of them earned yesterday already."""
    p = "PA" + size[:2].upper()
    county = Organization.objects.add_root({"name": "示范县", "kind": "county", "code": p})
    organ = add_child(county, ORGAN, f"{p}-1")
    town = add_child(county, TOWN, f"{p}-2", kind="unit")
    town_one = add_child(town, "城关镇第一党支部", f"{p}-2-1")
    town_two = add_child(town, "城关镇第二党支部", f"{p}-2-2")
    add_child(county, "县直属第二党支部", f"{p}-3")

    admin = User.objects.create_user(phone=ADMIN_PHONE[size], real_name="周管理", password=PASSWORD)
    membership_place(user=admin, organization=organ)
    role_grant(user=admin, organization=county, role=Role.MAIN_ADMIN, granted_by=None)
    people = {"周管理": admin}
    offset = 0 if size == "phone" else 50
    places = [
        ("陈学习", organ),
        ("林党员", organ),
        ("黄积分", organ),
        ("吴答题", organ),
        ("赵镇里", town_one),
        ("钱镇里", town_two),
    ]
    for number, (name, organization) in enumerate(places):
        member = User.objects.create_user(
            phone=f"1371000{offset + number:04d}", real_name=name, password=PASSWORD
        )
        membership_place(user=member, organization=organization)
        people[name] = member

    # Yesterday, before the 党课: a login, a quiz, and a training course that nearly filled
    # 林党员's offline cap for the day (20 points).
    morning = dt.datetime.combine(business_day() - dt.timedelta(days=1), dt.time(9), BUSINESS_TZ)
    points_award(
        member=people["陈学习"], rule="login", source_type="journey", source_id="l", at=morning
    )
    points_award(
        member=people["黄积分"],
        rule="daily_quiz",
        source_type="journey",
        source_id="q",
        at=morning,
        units=4,
    )
    points_award(
        member=people["林党员"],
        rule="offline_activity",
        source_type="journey",
        source_id="training",
        at=morning,
        occurrences=17,
        note="县委党校培训班",
    )
    return {"county": county, "organ": organ, "town": town, "people": people}


def _row(*cells: str) -> re.Pattern[str]:
    """A row pattern: the cells' texts in order, whatever the spacing between them."""
    return re.compile(r"^\s*" + r"\s*".join(re.escape(cell) for cell in cells) + r"\s*$")


@BOTH_SIZES
def test_an_administrator_records_an_activity_and_reads_the_rankings(visit: Any, size: str) -> None:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    assert RuleSet.objects.get().code == "2021"  # offline activities: at most 20 points a day
    world = _county(size)
    yesterday = business_day() - dt.timedelta(days=1)
    v = visit("points-admin", size)
    page = v.page

    # Sign in, open the console, then 积分与活动: nothing recorded yet.
    v.sign_in(ADMIN_PHONE[size], "周管理")
    v.goto(reverse("console:index"))
    menu = page.get_by_role("navigation", name="管理菜单")
    menu.get_by_role("link", name="积分与活动").click()
    expect(page).to_have_url(re.compile(r"/activities/$"))
    expect(page.get_by_role("heading", name="积分与活动", level=1)).to_be_visible()
    expect(menu.get_by_role("link", name="积分与活动")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("还没有记录线下学习活动")).to_be_visible()
    if size == "pc":  # on a phone the menu strip says where one is; no breadcrumb
        expect(page.get_by_role("navigation", name="当前位置")).to_contain_text("示范县")
    v.shot_from_top("01-activities")

    # The form: a 党课 held yesterday, 5 points each.
    page.get_by_role("link", name="记录活动").click()
    expect(page.get_by_role("heading", name="记录线下学习活动")).to_be_visible()
    page.get_by_label("活动名称").fill("七月专题党课")
    page.get_by_label("活动类型").select_option(label="党课")
    page.get_by_label("活动日期").fill(yesterday.isoformat())
    page.get_by_label("地点").fill("县委党员活动室")
    page.get_by_label("每人积分").fill("5")
    picker = page.get_by_role("group", name=re.compile("参加人"))
    expect(picker.get_by_role("checkbox")).to_have_count(7)  # the whole subtree, one page
    expect(picker).to_contain_text("城关镇第二党支部")
    v.shot_from_top("02-activity-form")

    # Tick three on the list, then find the fourth by name: the ticks ride along.
    for name in ("周管理", "陈学习", "林党员"):
        picker.get_by_role("checkbox", name=re.compile(name)).check()
    picker.get_by_label("姓名或手机号").fill("赵")
    picker.get_by_role("button", name="查找").click()
    expect(picker.get_by_role("checkbox")).to_have_count(1)
    expect(page.get_by_label("活动名称")).to_have_value("七月专题党课")
    expect(page.get_by_label("每人积分")).to_have_value("5")
    expect(page.get_by_label("活动日期")).to_have_value(yesterday.isoformat())
    picker.get_by_role("checkbox", name=re.compile("赵镇里")).check()
    expect(picker.locator("legend")).to_have_text("参加人（已选 3 人）")
    picker.locator("summary").click()
    for name in ("周管理", "陈学习", "林党员"):
        expect(picker.locator(".picker-chosen-names")).to_contain_text(name)
    v.shot_from_top("03-attendees-picked")

    # Record: the confirmation, then each attendee's points (林党员 hit the day's cap).
    page.get_by_role("button", name="记录并计分").click()
    expect(page.get_by_role("heading", name="七月专题党课", level=1)).to_be_visible()
    expect(page.get_by_text("已记录活动「七月专题党课」，4 人共得 18 分。")).to_be_visible()
    expect(
        page.get_by_text("1 人因活动当天的线下活动积分已达上限只得到部分积分，0 人未得分。")
    ).to_be_visible()
    facts = page.get_by_role("region", name="活动信息")
    expect(facts).to_contain_text(yesterday.isoformat())
    expect(facts).to_contain_text("县委党员活动室")
    expect(facts.locator(".fact", has_text="参加人数")).to_contain_text("4")
    expect(facts.locator(".fact", has_text="实得总分")).to_contain_text("18")
    attendees = page.locator("section", has=page.locator("#attendees-title")).locator("tbody tr")
    expect(attendees).to_have_count(4)
    for name, organization, paid, note in [
        ("陈学习", ORGAN, "5", "全额计分"),
        ("林党员", ORGAN, "3", "当日线下活动积分已达上限，部分计分"),
        ("赵镇里", "城关镇第一党支部", "5", "全额计分"),
        ("周管理", ORGAN, "5", "全额计分"),
    ]:
        expect(attendees.filter(has_text=name)).to_have_text(_row(name, organization, paid, note))
    expect(page.get_by_text("全额 3 · 部分 1 · 未得分 0")).to_be_visible()
    v.shot_from_top("04-activity-recorded")

    # A second activity recorded by mistake: 主题党日 for 吴答题, 3 points.
    page.get_by_role("link", name="返回活动列表").click()
    page.get_by_role("link", name="记录活动").click()
    page.get_by_label("活动名称").fill("八月主题党日")
    page.get_by_label("活动类型").select_option(label="主题党日")
    page.get_by_label("活动日期").fill(yesterday.isoformat())
    page.get_by_label("每人积分").fill("3")
    page.get_by_role("checkbox", name=re.compile("吴答题")).check()
    page.get_by_role("button", name="记录并计分").click()
    expect(page.get_by_text("已记录活动「八月主题党日」，1 人共得 3 分。")).to_be_visible()
    v.shot_from_top("05-second-activity")

    # Reverse it, with a reason, in the dialog.
    page.get_by_role("link", name="撤销积分").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="撤销活动积分")).to_be_visible()
    expect(dialog).to_contain_text("1 名参加人的积分将以冲正记录扣回")
    expect(dialog).to_contain_text("共扣回 3 分")
    dialog.get_by_label("撤销原因").fill("活动改期到下月，误录")
    v.shot_from_top("06-reverse-dialog", full_page=False)
    dialog.get_by_role("button", name="确认撤销").click()
    expect(page.get_by_text("已撤销活动「八月主题党日」的积分。")).to_be_visible()
    expect(page.get_by_text(re.compile("原因：活动改期到下月，误录"))).to_be_visible()
    expect(page.get_by_role("link", name="撤销积分")).to_have_count(0)
    paid = page.get_by_role("region", name="活动信息").locator(".fact", has_text="实得总分")
    expect(paid.locator("s")).to_have_text("3")
    expect(paid).to_contain_text("已冲正")
    reversed_row = page.locator("section", has=page.locator("#attendees-title")).locator("tbody tr")
    expect(reversed_row).to_have_text([_row("吴答题", ORGAN, "3", "已冲正")])
    v.shot_from_top("07-reversed")
    assert LedgerEntry.objects.filter(member=world["people"]["吴答题"]).count() == 2

    # The list: both activities, the reversed one marked.
    page.get_by_role("link", name="返回活动列表").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("共 2 项")).to_be_visible()
    expect(rows.nth(0)).to_contain_text("八月主题党日")
    expect(rows.nth(0)).to_contain_text("已撤销")
    expect(rows.nth(1)).to_contain_text("七月专题党课")
    expect(rows.nth(1)).to_contain_text("已计分")
    expect(rows.nth(1)).to_contain_text("18")
    v.shot_from_top("08-activities-list")

    # 积分排行 for the county, on yesterday: the attendees placed by their points.
    menu.get_by_role("link", name="积分排行").click()
    expect(page.get_by_role("heading", name="积分排行", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/organizations/{world['county'].pk}/rankings/$"))
    page.get_by_label("日期").fill(yesterday.isoformat())
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(rf"date={yesterday.isoformat()}"))
    ranking = page.locator(".ranking-table tbody tr")
    expect(ranking).to_have_text(
        [
            _row("1", "林党员", ORGAN, "20"),
            _row("2", "陈学习", ORGAN, "6"),
            _row("3", "赵镇里", "城关镇第一党支部", "5"),
            _row("3", "周管理", "我", ORGAN, "5"),
            _row("5", "黄积分", ORGAN, "4"),
        ]
    )
    expect(page.get_by_text("共 5 人有积分")).to_be_visible()
    expect(page.locator(".ranking-me")).to_have_text(re.compile(r"第\s*3\s*名 · 5 分"))
    expect(page.locator(".ranking-table")).not_to_contain_text("吴答题")  # reversed: net 0
    if size == "phone":  # a compact list: one row is two short lines, not a tall card
        box = ranking.first.bounding_box()
        assert box is not None
        assert box["height"] <= 80, box
    v.shot_from_top("09-rankings-members")

    # The child organisations, by total and per member.
    page.get_by_role("navigation", name="排行类别").get_by_role("link", name="下级组织").click()
    organizations = page.locator(".ranking-table tbody tr")
    expect(organizations).to_have_text(
        [
            _row("1", ORGAN, "35", "5", "7.00"),
            _row("2", TOWN, "5", "2", "2.50"),
            _row("3", "县直属第二党支部", "0", "0", "0.00"),
        ]
    )
    v.shot_from_top("10-rankings-organizations")

    # Switch personal rankings off for the county (a main administrator may).
    page.get_by_role("link", name="排行设置").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="排行设置")).to_be_visible()
    expect(dialog.locator(".fact", has_text="当前效果")).to_contain_text("显示个人排行")
    dialog.get_by_role("radio", name="关闭").check()
    v.shot_from_top("11-ranking-setting", full_page=False)
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已关闭个人积分排行。", exact=True)).to_be_visible()
    expect(
        page.get_by_text(re.compile("本组织已关闭个人积分排行。这里只显示组织排行。"))
    ).to_be_visible()
    tabs = page.get_by_role("navigation", name="排行类别")
    expect(tabs.get_by_role("link", name="下级组织")).to_have_attribute("aria-current", "page")
    assert RankingSetting.objects.get(organization=world["county"]).members_visible is False
    page.get_by_label("日期").fill(yesterday.isoformat())
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".ranking-table tbody tr")).to_have_count(3)
    expect(page.locator(".ranking-table tbody tr").first).to_contain_text(ORGAN)
    expect(page.get_by_text("林党员")).to_have_count(0)
    v.shot_from_top("12-rankings-members-off")

    # The 成员 tab now says so, and offers the organisation ranking instead.
    tabs.get_by_role("link", name="成员").click()
    expect(page.get_by_text("个人积分排行已关闭", exact=True)).to_be_visible()
    expect(page.locator(".ranking-table")).to_have_count(0)
    v.shot_from_top("13-members-tab-off")
    page.get_by_role("link", name="查看下级组织排行").click()
    expect(page.locator(".ranking-table tbody tr")).to_have_count(3)

    # The town's own ranking: its members stay hidden (the county switched them off).
    page.locator(".ranking-table").get_by_role("link", name=TOWN, exact=True).click()
    expect(page.locator(".console-lead")).to_contain_text(f"「{TOWN}」及其下级组织")
    expect(page.get_by_text(re.compile("「示范县」已关闭其下的个人积分排行"))).to_be_visible()
    expect(page.locator(".ranking-table tbody tr")).to_have_text(
        [
            _row("1", "城关镇第一党支部", "5", "1", "5.00"),
            _row("2", "城关镇第二党支部", "0", "1", "0.00"),
        ]
    )
    v.shot_from_top("14-town-rankings")

    # The path leads back up, on a phone too.
    crumbs = page.get_by_role("navigation", name="当前位置")
    expect(crumbs).to_be_visible()
    crumbs.get_by_role("link", name="示范县").click()
    expect(page.locator(".console-lead")).to_contain_text("「示范县」及其下级组织")
    assert Activity.objects.filter(reversed_at__isnull=False).count() == 1
