"""An administrator's day in the console, clicked through at phone and PC size (Playwright).

Signs in, opens the console, unfolds the organisation tree on demand, searches a branch, adds a
member, approves a join request, transfers a member to another branch, imports a small roster
and reads the operation log that recorded all of it. Screenshots go to
``test-artifacts/screenshots/console-<size>-<step>.png``.
"""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import (
    invitation_create,
    join_request_create,
    membership_place,
    role_grant,
)
from xuexi.web.tests import test_browser_journeys as journeys

# The journeys' browser, visit and database fixtures, shared by name.
browser = journeys.browser
visit = journeys.visit
_allow_database_calls_beside_playwright = journeys._allow_database_calls_beside_playwright
BOTH_SIZES = journeys.BOTH_SIZES
PASSWORD = journeys.PASSWORD
expect = journeys.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# One set of numbers per size, so that no rate limit or lockout leaks between the two runs.
ADMIN_PHONE = {"phone": "13500135001", "pc": "13500135002"}


def _branch(parent: Organization, name: str, code: str, kind: str = "branch") -> Organization:
    parent = Organization.objects.get(pk=parent.pk)  # numchild must be fresh for add_child
    return Organization.objects.add_child(parent, {"name": name, "kind": kind, "code": code})


def _county_with_people(size: str) -> dict[str, Any]:
    """示范县 with two branches, a town with two more, members, and one pending request."""
    p = "J" + size[:2].upper()
    county = Organization.objects.add_root(
        {"name": "示范县", "kind": "county", "code": f"{p}", "expected_members": 120}
    )
    organ = _branch(county, "县委机关第一党支部", f"{p}-1")
    town = _branch(county, "城关镇", f"{p}-2", kind="unit")
    town_one = _branch(town, "城关镇第一党支部", f"{p}-2-1")
    town_two = _branch(town, "城关镇第二党支部", f"{p}-2-2")

    admin = User.objects.create_user(phone=ADMIN_PHONE[size], real_name="周管理", password=PASSWORD)
    membership_place(user=admin, organization=organ)
    role_grant(user=admin, organization=county, role=Role.MAIN_ADMIN, granted_by=None)

    offset = 0 if size == "phone" else 50
    for number, name in enumerate(["陈学习", "林党员", "黄积分", "吴答题"]):
        member = User.objects.create_user(
            phone=f"1361000{offset + number:04d}", real_name=name, password=PASSWORD
        )
        membership_place(user=member, organization=organ)

    applicant = User.objects.create_user(
        phone=f"1362000{offset:04d}", real_name="郑申请", password=PASSWORD
    )
    invitation = invitation_create(actor=admin, organization=town_two)
    join_request_create(user=applicant, code=invitation.code)
    return {"county": county, "organ": organ, "town": town, "town_one": town_one, "two": town_two}


def _roster_xlsx(size: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "成员名单"
    sheet.append(["姓名", "手机号", "所属组织（编码或路径）", "政治面貌"])
    offset = 0 if size == "phone" else 50
    sheet.append(["何导入", f"1363000{offset:04d}", "", "中共党员"])
    sheet.append(["宋导入", f"1363000{offset + 1:04d}", "", "群众"])
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def shot(v: Any, step: str) -> None:
    """A screenshot once the page has loaded (stylesheet applied, no half-laid-out page)."""
    v.page.wait_for_load_state("load")
    v.shot(step)


def _open_tree(v: Any) -> None:
    """On a phone the tree panel starts folded: unfold it."""
    panel = v.page.locator("[data-tree-panel]")
    if panel.get_attribute("open") is None:
        v.page.locator(".tree-summary").click()
    expect(v.page.get_by_role("navigation", name="组织树")).to_be_visible()


@BOTH_SIZES
def test_an_administrator_manages_his_county_in_the_console(visit: Any, size: str) -> None:
    world = _county_with_people(size)
    v = visit("console", size)
    page = v.page

    # Sign in and open the console.
    v.goto(reverse("accounts:login"))
    page.get_by_label("手机号").fill(ADMIN_PHONE[size])
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="周管理，您好")).to_be_visible()
    v.goto(reverse("console:index"))
    expect(page).to_have_url(re.compile(rf"/console/organizations/{world['county'].pk}/$"))
    expect(page.get_by_role("heading", name="示范县", level=1)).to_be_visible()
    menu = page.get_by_role("navigation", name="管理菜单")
    expect(menu.get_by_role("link")).to_have_text(
        [
            "组织与成员",
            re.compile(r"入组审核\s*1"),
            "操作日志",
            "积分与活动",
            "积分排行",
            "积分规则",
            "学习报表",
            "登录日志",
        ]
    )
    expect(page.get_by_text("136****00" + ("01" if size == "phone" else "51"))).to_be_visible()
    shot(v, "01-organization")

    # The tree unfolds one level at a time, fetched when asked for.
    _open_tree(v)
    tree = page.get_by_role("navigation", name="组织树")
    expect(tree.get_by_role("link", name="城关镇第一党支部")).to_have_count(0)
    with page.expect_response(re.compile(r"/children/$")):
        tree.get_by_role("button", name="城关镇 的下级组织").click()
    expect(tree.get_by_role("link", name="城关镇第一党支部")).to_be_visible()
    expect(tree.get_by_role("button", name="城关镇 的下级组织")).to_have_attribute(
        "aria-expanded", "true"
    )
    shot(v, "02-tree-expanded")

    # Search an organisation and open it.
    page.get_by_label("搜索组织").fill("第二")
    results = page.locator("[data-tree-results]")
    expect(results.get_by_role("link", name=re.compile("城关镇第二党支部"))).to_be_visible()
    shot(v, "03-search")
    results.get_by_role("link", name=re.compile("城关镇第二党支部")).click()
    expect(page.get_by_role("heading", name="城关镇第二党支部", level=1)).to_be_visible()
    expect(page.get_by_text("本组织还没有成员")).to_be_visible()

    # Add a member in the dialog.
    page.get_by_role("link", name="新增成员").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="新增成员")).to_be_visible()
    dialog.get_by_label("姓名").fill("马新人")
    dialog.get_by_label("手机号").fill("1364000" + ("0001" if size == "phone" else "0051"))
    shot(v, "04-add-member-dialog")
    dialog.get_by_role("button", name="加入").click()
    expect(
        page.get_by_text("已将「马新人」加入本组织（未注册，本人注册后即可登录）。")
    ).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody").get_by_text("未注册")).to_be_visible()
    shot(v, "05-member-added")

    # Approve the pending join request.
    menu.get_by_role("link", name=re.compile("入组审核")).click()
    expect(page.get_by_role("heading", name="入组审核")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(v, "06-approvals")
    page.get_by_role("link", name="通过 郑申请").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("申请加入：示范县 › 城关镇 › 城关镇第二党支部")).to_be_visible()
    dialog.get_by_label("说明（可选）").fill("经核实为本支部党员")
    shot(v, "07-approve-dialog")
    dialog.get_by_role("button", name="确认通过").click()
    expect(page.get_by_text("已通过「郑申请」加入「城关镇第二党支部」的申请。")).to_be_visible()
    expect(page.get_by_text("没有待审核的申请")).to_be_visible()
    shot(v, "08-approved")

    # Transfer a member of the organ's branch to the town's first branch.
    v.goto(reverse("console:organization", args=[world["organ"].pk]))
    page.get_by_role("link", name="转接 陈学习").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="组织关系转接")).to_be_visible()
    dialog.get_by_label("搜索目标组织").fill("城关镇第一")
    dialog.get_by_role("button", name="搜索", exact=True).click()
    pick = dialog.get_by_role("button", name="转接到此：城关镇第一党支部")
    expect(pick).to_be_visible()
    shot(v, "09-transfer-dialog")
    pick.click()
    expect(page.get_by_text("已将「陈学习」的组织关系转接到「城关镇第一党支部」。")).to_be_visible()
    expect(page.locator("tbody").get_by_text("陈学习")).to_have_count(0)
    shot(v, "10-transferred")

    # Import a small roster into the organ's branch.
    page.get_by_role("link", name="导入", exact=True).click()
    expect(page.get_by_role("heading", name="成员名单导入")).to_be_visible()
    page.get_by_label("名单文件").set_input_files(
        {
            "name": "名单.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": _roster_xlsx(size),
        }
    )
    page.get_by_role("button", name="上传并检查").click()
    expect(page.get_by_role("heading", name="名单预览")).to_be_visible()
    shot(v, "11-roster-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("已导入：新增 2 人")).to_be_visible()
    shot(v, "12-roster-imported")

    # The operation log shows every action of the journey, in Chinese.
    menu.get_by_role("link", name="操作日志").click()
    expect(page.get_by_role("heading", name="操作日志")).to_be_visible()
    body = page.locator("tbody")
    for label in ("新增成员", "通过申请", "组织关系转接", "导入名单", "生成邀请码", "申请加入"):
        expect(body.get_by_text(label, exact=True).first).to_be_visible()
    shot(v, "13-audit")
    with page.expect_navigation():
        page.get_by_label("操作").select_option("member.transfer")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(body.get_by_text("县委机关第一党支部").first).to_be_visible()
    shot(v, "14-audit-filtered")

    # The other forms, looked at once: a new child, moving, closing, roles.
    v.goto(reverse("console:organization", args=[world["county"].pk]))
    page.get_by_role("link", name="新建下级组织").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("组织类型")).to_be_visible()
    shot(v, "15-create-child-dialog")
    dialog.get_by_role("link", name="取消").click()
    expect(dialog).to_be_hidden()
    v.goto(reverse("console:organization", args=[world["town"].pk]))
    page.get_by_role("link", name="关闭", exact=True).click()
    expect(page.get_by_role("dialog").get_by_text("需先转接或移出后才能关闭")).to_be_visible()
    shot(v, "16-close-confirm")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="移动", exact=True).click()
    expect(page.get_by_role("dialog").get_by_label("目标组织编码")).to_be_visible()
    shot(v, "17-move-dialog")
    page.keyboard.press("Escape")
    page.get_by_role("navigation", name="组织页面").get_by_role("link", name="角色与管理员").click()
    expect(page.get_by_role("heading", name="角色与管理员")).to_be_visible()
    page.get_by_role("link", name="授予角色").click()
    expect(page.get_by_role("dialog").get_by_label("角色")).to_be_visible()
    shot(v, "18-grant-role-dialog")


@BOTH_SIZES
def test_a_member_joins_by_invitation_and_sees_the_request_on_me(visit: Any, size: str) -> None:
    world = _county_with_people(size)
    admin = User.objects.get(phone=ADMIN_PHONE[size])
    invitation = invitation_create(actor=admin, organization=world["town_one"])
    phone = "1365000" + ("0001" if size == "phone" else "0051")
    User.objects.create_user(phone=phone, real_name="钱加入", password=PASSWORD)
    v = visit("console", size)
    page = v.page

    # The administrator's printable sheet, as a member would scan it.
    v.goto(reverse("accounts:login"))
    page.get_by_label("手机号").fill(ADMIN_PHONE[size])
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    v.goto(reverse("console:invitations", args=[world["town_one"].pk]))
    expect(page.get_by_text(invitation.code)).to_be_visible()
    shot(v, "20-join-invitations")
    page.get_by_role("link", name="打印二维码").click()
    expect(page.get_by_role("img", name="加入组织的二维码")).to_be_visible()
    expect(page.locator(".print-code")).to_have_text(invitation.code)
    shot(v, "21-join-print-sheet")
    page.context.clear_cookies()

    # The member signs in, types the code and applies.
    v.goto(reverse("accounts:login"))
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    v.main_nav_link("我的").click()
    page.get_by_role("link", name="加入组织").click()
    page.get_by_label("邀请码").fill(invitation.code.lower())
    shot(v, "22-join-code")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_text("城关镇第一党支部").first).to_be_visible()
    expect(page.get_by_text("示范县 › 城关镇 › 城关镇第一党支部")).to_be_visible()
    shot(v, "23-join-confirm")
    page.get_by_role("button", name="申请加入").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_text("已申请加入「城关镇第一党支部」，等待审核").first).to_be_visible()
    shot(v, "24-join-me-pending")
    page.get_by_role("button", name="撤回").click()
    expect(page.get_by_text("已撤回入组申请。")).to_be_visible()
    shot(v, "25-join-me-withdrawn")
