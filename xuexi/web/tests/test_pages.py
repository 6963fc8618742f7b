"""Fast checks of the pages' markup (the browser journeys look at them as a person would)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from xuexi.accounts.models import LoginEvent, LoginResult, User
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import membership_place, role_grant

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _member(phone: str = "13812341234", name: str = "张学习") -> User:
    return User.objects.create_user(phone=phone, real_name=name, password="Xuexi2026ok")


def _assert_csp_friendly(html: str) -> None:
    assert not INLINE_SCRIPT.search(html), "inline <script> is blocked by script-src 'self'"
    assert not INLINE_HANDLER.search(html), "inline event handlers are blocked by the CSP"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/accounts/login/?method=sms",
        "/accounts/register/",
        "/accounts/password-reset/",
    ],
)
def test_public_pages_are_chinese_and_keep_to_the_csp(client: Client, url: str) -> None:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert 'name="viewport"' in html
    assert "/static/web/app.css" in html
    _assert_csp_friendly(html)


def test_member_pages_keep_to_the_csp_and_mark_the_current_tab(client: Client) -> None:
    client.force_login(_member())
    for name, label in [("home", "学习"), ("videos", "视频"), ("quizzes", "答题"), ("me", "我的")]:
        html = client.get(reverse(f"web:{name}")).content.decode()
        _assert_csp_friendly(html)
        active = re.findall(
            r'<a class="tab is-active"[^>]*aria-current="page">(.*?)</a>', html, re.S
        )
        assert len(active) == 1
        assert f'<span class="tab-label">{label}</span>' in active[0]


def test_the_owner_sees_his_full_number_and_no_console_link_without_a_role(
    client: Client,
) -> None:
    client.force_login(_member())
    html = client.get(reverse("web:me")).content.decode()
    assert "13812341234" in html
    assert "尚未加入学习组织" in html
    assert reverse("console:login_log") not in html


def test_an_administrator_sees_masked_numbers_in_the_login_log(client: Client) -> None:
    root = Organization.objects.add_root({"name": "示范省", "kind": "province", "code": "W-P"})
    admin = _member("13600000001", "赵管理")
    role_grant(user=admin, organization=root, role=Role.ADMIN, granted_by=None)
    member = _member()
    membership_place(user=member, organization=root)
    LoginEvent.objects.create(
        user=member,
        phone=member.phone,
        channel="web",
        method="password",
        result=LoginResult.FAILED,
    )
    client.force_login(admin)

    me = client.get(reverse("web:me")).content.decode()
    assert reverse("console:login_log") in me
    html = client.get(reverse("console:login_log")).content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert "失败" in html
    _assert_csp_friendly(html)


def test_a_member_without_a_role_is_refused_the_console_in_chinese(client: Client) -> None:
    client.force_login(_member())
    response = client.get(reverse("console:login_log"))
    assert response.status_code == 403
    assert "没有访问权限" in response.content.decode()


def test_an_unknown_address_gets_the_chinese_404_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_the_500_page_renders_without_any_context() -> None:
    html = render_to_string("500.html")
    assert "服务暂时不可用" in html
    assert "{%" not in html


def test_the_language_switch_posts_to_set_language(client: Client, settings: Any) -> None:
    html = client.get("/").content.decode()
    assert f'action="{reverse("set_language")}"' in html
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()
