"""A member's points journey in the browser, at phone and PC size (Playwright + Chromium).

Signs in (the day's login point shows in the top bar), opens 我的 → 学习积分 (today's
progress per rule), then 积分明细 (the ledger) and its filters. Screenshots go to
``test-artifacts/screenshots/points-<size>-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.core.time import now
from xuexi.organizations.services import membership_place
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import points_award, points_reverse, rulesets_install_default
from xuexi.web.tests.test_browser_journeys import (  # the journeys' browser and visit fixtures
    PASSWORD,
    _allow_database_calls_beside_playwright,
    _organization_path,
    browser,
    visit,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["_allow_database_calls_beside_playwright", "browser", "visit"]

BOTH_SIZES = pytest.mark.parametrize("size", ["phone", "pc"])
PHONES = {"phone": "13500135001", "pc": "13500135002"}


def _history(member: User) -> None:
    """A few days of learning before today's visit, and some of today's already."""
    moment = now()

    def pay(rule: str, source: str, days_ago: int, **kwargs: Any) -> None:
        at = moment - dt.timedelta(days=days_ago, seconds=1)
        points_award(
            member=member, rule=rule, source_type="journey", source_id=source, at=at, **kwargs
        )

    for days_ago in (3, 2, 1):
        pay("login", f"login-{days_ago}", days_ago)
        pay("chosen_reading", f"article-{days_ago}", days_ago, units=6)
        pay("daily_quiz", f"quiz-{days_ago}", days_ago, units=5)
    pay("four_player", "game-2", 2, outcome="win")
    pay("offline_activity", "lecture-3", 3, occurrences=5, note="党课：学习贯彻党的二十大精神")
    pay("subscribe", "sub-1a", 1)
    points_reverse(
        actor=None,
        entry=LedgerEntry.objects.get(member=member, source_id="sub-1a"),
        reason="重复订阅，积分已撤销",
    )
    pay("chosen_reading", "article-today", 0, units=3)  # 1 article + 3 minutes
    pay("daily_quiz", "quiz-today", 0, units=4)


@BOTH_SIZES
def test_a_member_follows_his_points_from_the_top_bar_to_the_ledger(visit: Any, size: str) -> None:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    ruleset = RuleSet.objects.get()
    assert ruleset.code == "2021"  # the default set: 63 points a day at most
    member = User.objects.create_user(phone=PHONES[size], real_name="孙积分", password=PASSWORD)
    membership_place(user=member, organization=_organization_path())
    _history(member)
    v = visit("points", size)
    page = v.page

    # Signing in: the first page of the day pays the login point, and the chip shows it.
    v.goto(reverse("accounts:login"))
    page.get_by_label("手机号").fill(PHONES[size])
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="孙积分，您好")).to_be_visible()
    chip = page.locator(".points-chip")
    expect(chip).to_be_visible()
    expect(chip).to_have_text(re.compile(r"今日\s*9/63"))  # reading 4 + quiz 4 + login 1
    v.shot("01-home-chip")

    # 我的: the ring, the totals, the two entries.
    v.main_nav_link("我的").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    ring = page.locator(".me-points")
    expect(ring.locator(".points-ring-value")).to_have_text("9")
    expect(ring).to_contain_text("连续学习")
    expect(ring).to_contain_text("4 天")
    v.shot("02-me")

    # 学习积分: today's progress per rule.
    page.get_by_role("link", name=re.compile("学习积分")).first.click()
    expect(page).to_have_url(re.compile(r"/points/$"))
    expect(page.locator(".points-nav-item.is-active")).to_have_text("学习积分")
    login = page.locator(".rule-row", has=page.locator("#rule-login"))
    expect(login).to_contain_text("已获 1 分 / 每日上限 1 分")
    expect(login).to_contain_text("已完成")
    quiz = page.locator(".rule-row", has=page.locator("#rule-daily_quiz"))
    expect(quiz).to_contain_text("已获 4 分 / 每日上限 5 分")
    expect(quiz.get_by_role("link", name="去答题")).to_have_attribute("href", "/quizzes/")
    video = page.locator(".rule-row", has=page.locator("#rule-watch_video"))
    expect(video.get_by_role("link", name="去看看")).to_be_visible()
    if size == "phone":
        box = quiz.get_by_role("link", name="去答题").bounding_box()
        assert box["height"] >= 36, box
        chip_box = chip.bounding_box()
        title_box = page.locator(".appbar-title").bounding_box()
        assert chip_box["x"] + chip_box["width"] <= 375, chip_box
        assert title_box is not None
    v.shot("03-today")

    # 积分明细: totals, then entries newest first, a correction in grey.
    page.get_by_role("navigation", name="积分").get_by_role("link", name="积分明细").click()
    expect(page).to_have_url(re.compile(r"/points/ledger/$"))
    totals = page.locator(".totals-grid")
    expect(totals).to_contain_text("今日")
    expect(totals.locator(".total-gold")).to_have_text("9")
    expect(page.locator(".ledger-row").first).to_contain_text("登录")
    expect(page.get_by_text("党课：学习贯彻党的二十大精神")).to_be_visible()
    correction = page.locator(".ledger-row.is-correction")
    expect(correction).to_contain_text("-1")
    expect(correction).to_contain_text("重复订阅，积分已撤销")
    v.shot("04-ledger")

    # Filters: today only, then one rule (the select submits itself).
    page.get_by_role("navigation", name="时间范围").get_by_role("link", name="今天").click()
    expect(page).to_have_url(re.compile(r"range=today"))
    expect(page.get_by_text("共 3 条记录")).to_be_visible()
    v.shot("05-ledger-today")
    with page.expect_navigation():
        page.get_by_label("积分项目").select_option("four_player")
    expect(page).to_have_url(re.compile(r"rule=four_player"))
    expect(page.get_by_text("没有符合条件的积分记录")).to_be_visible()
    v.shot("06-ledger-filtered-empty")
    page.get_by_role("link", name="查看全部记录").click()
    expect(page.locator(".ledger-list")).to_contain_text("四人赛")
