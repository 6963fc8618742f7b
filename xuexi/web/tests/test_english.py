"""The English side (ADR 0002): Chinese source strings, ``locale/en`` carries the English.

A request in English gets English pages and English API messages; a request without a language
still gets Chinese; the catalogue has an English text for every source string, and the compiled
``django.mo`` says the same as the ``.po`` it comes from.
"""

from __future__ import annotations

import ast
import gettext as gettext_module
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from xuexi.accounts.lockout import locked_out_response
from xuexi.accounts.models import LoginEvent, LoginMethod, LoginResult, PoliticalStatus, User
from xuexi.accounts.passwords import MemberPasswordValidator
from xuexi.api.errors import error_body
from xuexi.core.errors import NotAuthenticated
from xuexi.organizations.models import Organization
from xuexi.points.models import RuleSet

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")

# Han characters, CJK punctuation (。，、《》“” excepted: “” are English quotes too) and
# full-width forms (：，（）！？).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)

BAD_PHONE = "请输入正确的 11 位中国大陆手机号码。"
BAD_PHONE_EN = "Please enter a valid 11-digit mainland China mobile number."


def _title(html: str) -> str:
    match = TITLE.search(html)
    assert match, "the page has no <title>"
    return match.group(1).strip()


def _visible_chinese(html: str) -> list[str]:
    """Chinese text left on a page, apart from the language switch's own "简体中文"."""
    return CJK.findall(html.replace("简体中文", ""))


def _member(name: str = "Li Lei") -> User:
    return User.objects.create_user(phone="13812341234", real_name=name, password="Xuexi2026ok")


# --- Pages ------------------------------------------------------------------------------------


def test_the_login_page_is_english_for_an_english_browser(client: Client) -> None:
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert _title(html) == "Sign in · Learning Platform"
    assert not CJK.search(_title(html))
    assert "Welcome back" in html
    assert ">Sign in</button>" in html
    assert "Phone number" in html
    assert 'placeholder="Enter your phone number"' in html
    assert "Forgot your password?" in html


def test_the_login_page_stays_chinese_without_a_language(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert _title(html) == "登录 · 学习平台"
    assert "欢迎登录" in html
    assert 'placeholder="请输入手机号"' in html


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/accounts/login/?method=sms",
        "/accounts/register/",
        "/accounts/password-reset/",
        "/privacy/",
        "/terms/",
        "/no-such-page/",
    ],
)
def test_public_pages_have_no_chinese_left_in_english(client: Client, url: str) -> None:
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _visible_chinese(html) == [], f"untranslated text on {url}"


@pytest.mark.parametrize("name", ["home", "videos", "quizzes", "me"])
def test_member_pages_have_no_chinese_left_in_english(client: Client, name: str) -> None:
    client.force_login(_member())
    html = client.get(reverse(f"web:{name}"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _visible_chinese(html) == [], f"untranslated text on web:{name}"


def test_the_tab_bar_is_translated(client: Client) -> None:
    client.force_login(_member())
    html = client.get(reverse("web:videos"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    labels = re.findall(r'<span class="tab-label">(.*?)</span>', html)
    assert labels == ["Learn", "Videos", "Quizzes", "Me"]
    assert _title(html) == "Videos · Learning Platform"


def test_a_form_error_from_a_service_is_english(client: Client) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"method": "password", "phone": "123", "password": "whatever1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert BAD_PHONE_EN in response.content.decode()


def test_a_refusal_page_shows_the_english_message(client: Client) -> None:
    client.force_login(_member())
    response = client.get(reverse("console:login_log"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Access denied" in html
    assert "Only learning administrators can do this." in html


def _chinese_outside_data(html: str) -> list[str]:
    """Chinese left on a console page once the names that come from the database (organisations,
    people) are taken out: those are data, not interface text."""
    names = [*Organization.objects.values_list("name", flat=True)]
    names += [*User.objects.values_list("real_name", flat=True)]
    names += [*RuleSet.objects.values_list("title", flat=True)]
    for name in sorted(set(names), key=len, reverse=True):
        html = html.replace(name, "")
    return _visible_chinese(html)


def test_the_console_organisation_page_is_english(client: Client, personas: dict[str, Any]) -> None:
    member = personas["member"]
    member.political_status = PoliticalStatus.PARTY_MEMBER
    member.save(update_fields=["political_status"])
    county = personas["orgs"]["county_a"]
    client.force_login(personas["county_admin"])
    response = client.get(
        reverse("console:organization", args=[county.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert _title(html) == f"{county.name} · Organisations and members · Admin console"
    assert '<span class="tree-summary-label">Organisation tree</span>' in html
    assert '<h2 class="section-title" id="members-title">Members</h2>' in html
    assert '<th scope="col">Political status</th>' in html
    assert '<td data-label="Political status">CPC member</td>' in html
    assert '<span class="badge badge-success">Registered</span>' in html
    assert ">Download template</a>" in html
    assert ">Search</button>" in html
    assert _chinese_outside_data(html) == [], "untranslated text on the organisation page"
    chinese = client.get(reverse("console:organization", args=[county.pk])).content.decode()
    assert _title(chinese) == f"{county.name} · 组织与成员 · 管理后台"


@pytest.mark.parametrize(
    ("name", "org"),
    [
        ("console:roles", "county_a"),
        ("console:audit", "county_a"),
        ("console:invitations", "branch_a"),
        ("console:roster_import", "county_a"),
        ("console:organization_create", "county_a"),
        ("console:organization_close", "branch_a"),
        ("console:member_add", "branch_a"),
        ("console:role_grant", "county_a"),
        ("console:invitation_create", "branch_a"),
        ("console:approvals", None),
        ("console:audit_index", None),
    ],
)
def test_console_pages_have_no_chinese_left_in_english(
    client: Client, personas: dict[str, Any], name: str, org: str | None
) -> None:
    client.force_login(personas["county_admin"])
    url = reverse(name, args=[personas["orgs"][org].pk] if org else [])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    assert _chinese_outside_data(response.content.decode()) == [], f"untranslated text on {name}"


def test_the_login_log_shows_translated_choices(client: Client, personas: dict[str, Any]) -> None:
    LoginEvent.objects.create(
        user=personas["member"],
        phone=personas["member"].phone,
        channel="web",
        method=LoginMethod.PASSWORD,
        result=LoginResult.LOGOUT,
    )
    client.force_login(personas["operator"])
    response = client.get(reverse("console:login_log"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert _title(html) == "Sign-in log · Admin console"
    assert '<span class="badge badge-logout">Signed out</span>' in html
    assert '<td data-label="Method">Password</td>' in html
    assert "1 record" in html
    chinese = client.get(reverse("console:login_log")).content.decode()
    assert '<span class="badge badge-logout">退出</span>' in chinese


def test_the_500_page_renders_in_english() -> None:
    with translation.override("en"):
        html = render_to_string("500.html")
    assert '<html lang="en">' in html
    assert "Service temporarily unavailable" in html
    assert not CJK.search(html)


# --- The language switch ------------------------------------------------------------------------


def test_the_language_switch_makes_the_pages_english_and_back(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Welcome to the Learning Platform" in html
    assert _visible_chinese(html) == []

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "欢迎来到学习平台" in html


# --- API and JSON answers ---------------------------------------------------------------------


def _sms_code(client: Client, body: dict[str, Any], language: str | None = None) -> Any:
    headers = {"Accept-Language": language} if language else {}
    return client.post(
        "/api/v1/auth/sms-codes", body, content_type="application/json", headers=headers
    )


def test_an_api_refusal_is_english_for_an_english_client(client: Client) -> None:
    response = _sms_code(client, {"phone": "123", "purpose": "login"}, language="en")
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_error"
    assert body["message"] == BAD_PHONE_EN
    assert body["details"]["fields"]["phone"] == BAD_PHONE_EN


def test_an_api_refusal_stays_chinese_without_a_language(client: Client) -> None:
    response = _sms_code(client, {"phone": "123", "purpose": "login"})
    body = response.json()
    assert response.status_code == 422
    assert body["message"] == BAD_PHONE
    assert body["details"]["fields"]["phone"] == BAD_PHONE


def test_schema_validation_messages_are_english(client: Client) -> None:
    response = _sms_code(client, {"purpose": "login"}, language="en")
    body = response.json()
    assert response.status_code == 422
    assert body["details"]["fields"] == {"phone": "This field is required."}
    assert body["message"] == "phone: This field is required."
    chinese = _sms_code(client, {"purpose": "login"}).json()
    assert chinese["message"] == "phone：此项为必填项。"


def test_an_unauthenticated_api_call_is_answered_in_english(client: Client) -> None:
    response = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert not CJK.search(response.json()["message"])


def test_django_made_api_errors_are_english_too(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["message"] == "The requested content could not be found."
    assert client.get("/api/v1/no-such-thing").json()["message"] == "找不到请求的内容。"


def test_the_sms_button_answers_in_english(client: Client) -> None:
    response = client.post(
        reverse("accounts:sms_code"),
        {"phone": "12345", "purpose": "login"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json() == {"ok": False, "message": BAD_PHONE_EN}


def test_the_sms_itself_stays_chinese_for_an_english_client(
    client: Client, sms_outbox: Any, run_on_commit: Any
) -> None:
    with run_on_commit():
        response = _sms_code(client, {"phone": "13912345678", "purpose": "register"}, language="en")
    assert response.status_code == 202
    message = sms_outbox.messages()[-1]["message"]
    assert "您的注册验证码为" in message
    assert "Register" not in message


def test_the_lockout_answer_is_english(rf: RequestFactory) -> None:
    request = rf.post("/api/v1/auth/token")
    with translation.override("en"):
        response = locked_out_response(request)
    assert response.status_code == 423
    assert b"the account is locked for 15 minutes" in response.content


def test_lazy_messages_become_plain_strings_in_the_error_body() -> None:
    error = NotAuthenticated()
    with translation.override("en"):
        body = error_body(error.code, error.message, {"fields": {"x": error.message}})
    assert body["message"] == "Please sign in first."
    assert type(body["message"]) is str
    assert type(body["details"]["fields"]["x"]) is str
    assert str(error.message) == "请先登录。"


def test_the_password_policy_speaks_english() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        MemberPasswordValidator().validate("abc")
    assert excinfo.value.messages == [
        "The password must be at least 8 characters long.",
        "The password must contain both letters and digits.",
    ]


# --- The catalogue ---------------------------------------------------------------------------


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def _read_po(path: Path) -> list[Entry]:
    """msgctxt/msgid/msgid_plural/msgstr[n] and flags of each entry (no obsolete entries)."""
    entries: list[Entry] = []
    for block in path.read_text("utf-8").strip().split("\n\n"):
        entry = Entry()
        target: str | None = None
        parts: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#~"):
                raise AssertionError(f"obsolete entry left in the catalogue: {line}")
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                assert target is not None
                parts[target] += ast.literal_eval(line)
            else:
                keyword, _, literal = line.partition(" ")
                target = keyword
                parts[target] = ast.literal_eval(literal)
        entry.context = parts.get("msgctxt")
        entry.msgid = parts["msgid"]
        entry.msgid_plural = parts.get("msgid_plural")
        entry.msgstr = [parts[key] for key in sorted(parts) if key.startswith("msgstr")]
        entries.append(entry)
    return entries


def _messages() -> list[Entry]:
    header, *messages = _read_po(CATALOGUE)
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: en\n" in header.msgstr[0]
    return messages


def test_every_source_string_has_an_english_translation() -> None:
    messages = _messages()
    assert len(messages) > 200
    for entry in messages:
        assert "fuzzy" not in entry.flags, f"fuzzy: {entry.msgid}"
        expected = 2 if entry.msgid_plural is not None else 1
        assert len(entry.msgstr) == expected, entry.msgid
        for text in entry.msgstr:
            assert text.strip(), f"untranslated: {entry.msgid}"
            assert not CJK.search(text), f"Chinese left in the English of {entry.msgid}"


def test_translations_keep_placeholders_and_markup() -> None:
    for entry in _messages():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr:
            assert sorted(PLACEHOLDER.findall(text)) == wanted, entry.msgid


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    with COMPILED.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    for entry in _messages():
        if entry.msgid_plural is not None:
            got = [
                compiled.npgettext(entry.context, entry.msgid, entry.msgid_plural, n)
                if entry.context
                else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                for n in (1, 2)
            ]
            assert got == entry.msgstr, f"django.mo is stale: run compilemessages ({entry.msgid})"
        else:
            got_one = (
                compiled.pgettext(entry.context, entry.msgid)
                if entry.context
                else compiled.gettext(entry.msgid)
            )
            assert got_one == entry.msgstr[0], f"django.mo is stale ({entry.msgid})"


def test_django_uses_the_english_catalogue() -> None:
    with translation.override("en"):
        assert translation.gettext("学习平台") == "Learning Platform"
        assert translation.gettext("登录日志") == "Sign-in log"
        assert translation.gettext("党支部") == "Party branch"
        assert translation.pgettext("login result", "退出") == "Signed out"
        assert translation.gettext("退出") == "Sign out"
        assert str(LoginResult.SUCCESS.label) == "Succeeded"
        assert str(User._meta.verbose_name_plural) == "users"
    with translation.override("zh-hans"):
        assert translation.gettext("学习平台") == "学习平台"
        assert str(LoginResult.SUCCESS.label) == "成功"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) not installed")
def test_msgfmt_counts_no_untranslated_or_fuzzy_entries() -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", os.devnull, str(CATALOGUE)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages?\.", result.stderr.strip()), result.stderr


@pytest.mark.parametrize(
    ("persona", "name", "org"),
    [
        ("county_admin", "console:reports_dashboard", "county_a"),
        ("county_admin", "console:reports_members", "county_a"),
        ("county_admin", "console:points_rankings", "county_a"),
        ("county_admin", "console:points_activities", "county_a"),
        ("county_admin", "console:points_activity_create", "county_a"),
        ("operator", "console:points_rulesets", None),
        ("operator", "console:content_items", None),
        ("operator", "console:content_item_create", None),
        ("operator", "console:content_accounts", None),
        ("operator", "console:quizzes_questions", None),
        ("operator", "console:quizzes_question_create", None),
        ("operator", "console:quizzes_categories", None),
        ("operator", "console:quizzes_import", None),
        ("operator", "console:quizzes_specials", None),
        ("operator", "console:quizzes_special_create", None),
        ("operator", "console:quizzes_weeklies", None),
        ("operator", "console:quizzes_weekly_create", None),
    ],
)
def test_the_later_console_pages_have_no_chinese_left_in_english(
    client: Client, personas: dict[str, Any], persona: str, name: str, org: str | None
) -> None:
    client.force_login(personas[persona])
    url = reverse(name, args=[personas["orgs"][org].pk] if org else [])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    assert _chinese_outside_data(response.content.decode()) == [], f"untranslated text on {name}"


@pytest.mark.parametrize("name", ["quizzes:weekly", "quizzes:special", "quizzes:wrong"])
def test_the_quiz_pages_have_no_chinese_left_in_english(
    client: Client, personas: dict[str, Any], name: str
) -> None:
    client.force_login(personas["member"])
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert _chinese_outside_data(response.content.decode()) == [], f"untranslated text on {name}"
