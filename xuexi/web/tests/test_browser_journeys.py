"""The main journeys as a person clicks them, at phone and PC size (Playwright + Chromium).

Every important step is saved as a full-page screenshot under
``test-artifacts/screenshots/<journey>-<size>-<step>.png`` so that people can look at them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from xuexi.accounts.models import LoginEvent, LoginResult, User
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import membership_place, role_grant

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SIZES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 375, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "pc": {"viewport": {"width": 1440, "height": 900}},
}
BOTH_SIZES = pytest.mark.parametrize("size", list(SIZES))
PASSWORD = "Xuexi2026ok"
# One number per journey and size, so that no rate limit or lockout leaks between cases.
PHONES = {
    ("register", "phone"): "13800138001",
    ("register", "pc"): "13800138002",
    ("sms-login", "phone"): "13900139001",
    ("sms-login", "pc"): "13900139002",
    ("lockout", "phone"): "13700137001",
    ("lockout", "pc"): "13700137002",
    ("login-log", "phone"): "13600136001",
    ("login-log", "pc"): "13600136002",
}


def _allow_database_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django's
    # "async-unsafe" guard would refuse the test's own ORM calls (creating users, reading the
    # outbox's rows). Nothing here is really concurrent: the test waits on every browser step.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _allow_database_calls_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """The allowance for every test here (``visit`` also grants it to the tests that use it
    elsewhere; some journey modules still import this fixture by name)."""
    _allow_database_calls(monkeypatch)


@contextlib.contextmanager
def _chromium() -> Iterator[Any]:
    """Headless Chromium; the test is skipped where it is not installed (fails on CI)."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (run scripts/browser-deps.sh)")
        pytest.skip("Chromium is not installed; browser journeys skipped")
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with _chromium() as chromium:
        yield chromium


class Visit:
    """One browser context at one size, with the page, its problems and its screenshots."""

    def __init__(self, browser: Any, base_url: str, journey: str, size: str) -> None:
        self.base_url = base_url
        self.journey = journey
        self.size = size
        self.context = browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            # Also proves the stylesheet honours it, and keeps screenshots free of half-done
            # colour transitions.
            reduced_motion="reduce",
            **SIZES[size],
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A page answered with 4xx (the lock page, a refused code) is logged as "Failed to load
        # resource": that is the journey, not a fault. CSP refusals and script errors are faults.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def shot(self, step: str) -> None:
        """Save a full-page screenshot and check that nothing overflows sideways."""
        self._screenshot(f"{self.journey}-{self.size}-{step}.png", step, full_page=True)

    def shot_from_top(self, step: str, *, full_page: bool = True) -> None:
        """A screenshot once the page has loaded, taken from the top (a sticky header would
        otherwise land mid-page); the whole page unless a dialog is open. Named by the width,
        ``<journey>-<375|1440>-<step>.png``; nothing may scroll sideways."""
        self.page.wait_for_load_state("load")
        if full_page:
            self.page.evaluate("window.scrollTo(0, 0)")
        width = SIZES[self.size]["viewport"]["width"]
        self._screenshot(f"{self.journey}-{width}-{step}.png", step, full_page=full_page)

    def _screenshot(self, name: str, step: str, *, full_page: bool) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{step}: the page scrolls sideways by {overflow}px"

    def sign_in(self, phone: str, name: str) -> None:
        """Sign in on the login page with the journeys' password; the home page greets ``name``."""
        self.goto(reverse("accounts:login"))
        self.page.get_by_label("手机号").fill(phone)
        self.page.get_by_label("密码", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="登录", exact=True).click()
        expect(self.page.get_by_role("heading", name=f"{name}，您好")).to_be_visible()

    def main_nav_link(self, name: str) -> Any:
        return self.page.get_by_role("navigation", name="主导航").get_by_role(
            "link", name=name, exact=True
        )

    def close(self) -> None:
        self.context.close()
        assert not self.problems, self.problems


@pytest.fixture
def visit(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``visit(journey, size)`` opens a browser context on the live server. A module of
    journeys needs only this fixture: it brings its own Chromium and database allowance."""
    _allow_database_calls(monkeypatch)
    opened: list[Visit] = []
    with _chromium() as browser:

        def open_visit(journey: str, size: str) -> Visit:
            opened.append(Visit(browser, live_server.url, journey, size))
            return opened[-1]

        yield open_visit
        for one in opened:
            one.close()


def add_child(parent: Organization, name: str, code: str, kind: str = "branch") -> Organization:
    """A child organisation of ``parent`` (read afresh: add_child needs a current numchild)."""
    parent = Organization.objects.get(pk=parent.pk)
    return Organization.objects.add_child(parent, {"name": name, "kind": kind, "code": code})


def _organization_path() -> Organization:
    province = Organization.objects.add_root({"name": "示范省", "kind": "province", "code": "BJ-P"})
    city = Organization.objects.add_child(
        province, {"name": "示范市", "kind": "city", "code": "BJ-C"}
    )
    return Organization.objects.add_child(
        city, {"name": "机关第一党支部", "kind": "branch", "code": "BJ-B"}
    )


@BOTH_SIZES
def test_a_newcomer_registers_signs_out_and_signs_in_again(
    visit: Any, sms_outbox: Any, size: str
) -> None:
    phone = PHONES["register", size]
    v = visit("register", size)
    page = v.page

    v.goto("/")
    expect(page.get_by_role("heading", name="欢迎来到学习平台")).to_be_visible()
    expect(v.main_nav_link("学习")).to_have_attribute("aria-current", "page")
    if size == "phone":
        for tab in ("学习", "视频", "答题", "我的"):
            box = v.main_nav_link(tab).bounding_box()
            assert box["height"] >= 44, f"tab {tab} is too short to tap: {box}"
            assert box["width"] >= 44, f"tab {tab} is too narrow to tap: {box}"
            assert box["y"] + box["height"] >= 812 - 1, f"tab {tab} is not at the bottom: {box}"
    v.shot("01-home")

    page.get_by_role("main").get_by_role("link", name="注册").click()
    expect(page.get_by_role("heading", name="注册账号")).to_be_visible()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator(".field-error")).to_have_count(5)  # every field says what is missing
    expect(page.get_by_text("请先阅读并同意用户协议和隐私政策。")).to_be_visible()
    v.shot("02-empty-form-errors")

    page.get_by_label("真实姓名").fill("张学习")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送，请注意查收短信。")).to_be_visible()
    countdown = page.get_by_role("button", name=re.compile(r"^\d+ 秒后重发$"))
    expect(countdown).to_be_disabled()
    v.shot("03-code-sent")

    page.get_by_label("验证码").fill(sms_outbox.last_code(phone, "register"))
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意").check()
    v.shot("04-filled-in")
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_text("欢迎您，张学习！注册成功。")).to_be_visible()
    expect(page.locator(".profile-name")).to_have_text("张学习")
    expect(page.get_by_text("尚未加入学习组织")).to_be_visible()
    expect(v.main_nav_link("我的")).to_have_attribute("aria-current", "page")
    v.shot("05-me")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_text("您已安全退出。")).to_be_visible()
    v.shot("06-signed-out")

    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="张学习，您好")).to_be_visible()
    expect(page.get_by_text("暂无学习内容")).to_be_visible()
    v.shot("07-home-signed-in")

    v.main_nav_link("我的").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.locator(".profile-name")).to_have_text("张学习")
    expect(page.get_by_text(phone)).to_be_visible()  # the owner sees his own number in full
    v.shot("08-me-again")


@BOTH_SIZES
def test_a_member_signs_in_with_an_sms_code(visit: Any, sms_outbox: Any, size: str) -> None:
    phone = PHONES["sms-login", size]
    member = User.objects.create_user(phone=phone, real_name="李答题", password=PASSWORD)
    membership_place(user=member, organization=_organization_path())
    v = visit("sms-login", size)
    page = v.page

    v.goto(reverse("accounts:login"))
    expect(page.get_by_role("heading", name="欢迎登录")).to_be_visible()
    v.shot("01-login-password-tab")
    page.get_by_role("link", name="验证码登录").click()
    expect(page).to_have_url(re.compile(r"method=sms"))
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送，请注意查收短信。")).to_be_visible()
    v.shot("02-code-sent")

    page.get_by_label("验证码").fill(sms_outbox.last_code(phone, "login"))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="李答题，您好")).to_be_visible()
    expect(page.get_by_text("示范省 › 示范市 › 机关第一党支部")).to_be_visible()
    v.shot("03-home-signed-in")

    v.main_nav_link("答题").click()
    expect(page.get_by_role("heading", name="每日答题")).to_be_visible()
    v.shot("04-quizzes")
    v.main_nav_link("视频").click()
    expect(page.get_by_text("暂无视频")).to_be_visible()
    v.shot("05-videos")

    v.main_nav_link("我的").click()
    expect(page.get_by_text("示范省 › 示范市 › 机关第一党支部")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("登录日志"))).to_have_count(0)
    v.shot("06-me")

    response = v.goto(reverse("console:login_log"))
    assert response.status == 403
    expect(page.get_by_role("heading", name="没有访问权限")).to_be_visible()
    v.shot("07-console-forbidden")


@BOTH_SIZES
def test_five_wrong_passwords_lock_the_account_and_a_reset_unlocks_it(
    visit: Any, sms_outbox: Any, size: str
) -> None:
    phone = PHONES["lockout", size]
    User.objects.create_user(phone=phone, real_name="王谨慎", password=PASSWORD)
    v = visit("lockout", size)
    page = v.page

    v.goto(reverse("accounts:login"))
    response = None
    for attempt in range(1, 6):
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("密码", exact=True).fill("Wrong2026no")
        if attempt > 3:  # after three failures the page asks for the picture captcha
            key = page.locator("input[name=captcha_0]").input_value()
            page.get_by_label("图形验证码").fill(CaptchaStore.objects.get(hashkey=key).response)
            if attempt == 4:
                v.shot("01b-captcha")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="登录", exact=True).click()
        response = navigation.value
        if attempt == 1:
            expect(page.get_by_role("alert")).to_have_text("手机号或密码错误。")
            expect(page.get_by_label("手机号")).to_have_value(phone)
            v.shot("01-wrong-password")

    assert response is not None
    assert response.status == 423
    expect(page.get_by_role("heading", name="账号已锁定")).to_be_visible()
    expect(page.get_by_text("账号已锁定 15 分钟")).to_be_visible()
    v.shot("02-locked")

    page.get_by_role("link", name="通过短信验证码重置密码").click()
    expect(page.get_by_role("heading", name="找回密码")).to_be_visible()
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送，请注意查收短信。")).to_be_visible()
    page.get_by_label("验证码").fill(sms_outbox.last_code(phone, "reset_password"))
    page.get_by_label("新密码").fill("Renewed2026ok")
    v.shot("03-password-reset")
    page.get_by_role("button", name="重置密码").click()
    expect(page.get_by_text("密码已重置，请用新密码登录。")).to_be_visible()

    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill("Renewed2026ok")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="王谨慎，您好")).to_be_visible()
    v.shot("04-signed-in-after-reset")


@BOTH_SIZES
def test_an_administrator_reads_the_login_log(visit: Any, size: str) -> None:
    phone = PHONES["login-log", size]
    branch = _organization_path()
    admin = User.objects.create_user(phone=phone, real_name="赵管理", password=PASSWORD)
    membership_place(user=admin, organization=branch)
    province = Organization.objects.get(code="BJ-P")
    role_grant(user=admin, organization=province, role=Role.ADMIN, granted_by=None)
    member = User.objects.create_user(phone="13512345678", real_name="钱学员", password=PASSWORD)
    membership_place(user=member, organization=branch)
    browser_ua = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    for result, method in [
        (LoginResult.FAILED, "password"),
        (LoginResult.SUCCESS, "sms"),
        (LoginResult.LOGOUT, ""),
    ]:
        LoginEvent.objects.create(
            user=member,
            phone=member.phone,
            ip="10.1.2.3",
            user_agent=browser_ua,
            channel="web",
            method=method,
            result=result,
        )
    v = visit("login-log", size)
    page = v.page

    v.sign_in(phone, "赵管理")
    v.main_nav_link("我的").click()
    expect(page.get_by_text("学习管理员")).to_be_visible()
    v.shot("01-me-with-role")

    page.get_by_role("link", name=re.compile("登录日志")).click()
    expect(page.get_by_role("heading", name="登录日志")).to_be_visible()
    expect(page.get_by_role("navigation", name="管理菜单").get_by_role("link")).to_have_text(
        [
            "组织与成员",
            re.compile("入组审核"),
            "操作日志",
            "积分与活动",
            "积分排行",
            "积分规则",
            "学习报表",
            "登录日志",
        ]
    )
    expect(page.get_by_text("135****5678").first).to_be_visible()
    assert "13512345678" not in page.content()
    v.shot("02-login-log")

    with page.expect_navigation():
        page.get_by_label("结果").select_option("failed")
    expect(page).to_have_url(re.compile(r"result=failed"))
    expect(page.locator("tbody tr")).to_have_count(1)
    v.shot("03-login-log-failed-only")


@BOTH_SIZES
def test_error_pages_speak_chinese_and_say_what_to_do(visit: Any, size: str) -> None:
    v = visit("errors", size)
    page = v.page

    response = v.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(page.get_by_role("link", name="返回首页")).to_be_visible()
    v.shot("01-not-found")

    page.set_content(render_to_string("500.html"))
    expect(page.get_by_role("heading", name="服务暂时不可用")).to_be_visible()
    v.shot("02-server-error")
