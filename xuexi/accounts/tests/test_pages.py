"""Account pages: sign-in, registration, reset, sign-out and session lifetimes (S4, S5, S20)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings

from xuexi.accounts.models import LoginEvent, User
from xuexi.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _sessions_in_the_database(settings):
    """These tests move the clock with time_machine, which Redis does not follow: with
    REDIS_URL the sessions are ``cached_db`` and a cached session expires by Redis's own TTL
    (set from the same expiry age on every save). Here they live in the database, whose expiry
    date follows the moved clock."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


def sign_in(client, password=DEFAULT_PASSWORD, **extra):
    return client.post(
        "/accounts/login/", {"method": "password", "phone": PHONE, "password": password} | extra
    )


def test_the_login_page_speaks_chinese(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_signing_in_on_the_page_rotates_the_session_and_logs_it(client):
    UserFactory.create(phone=PHONE)
    client.get("/accounts/login/")
    before = client.cookies.get(settings.SESSION_COOKIE_NAME)
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/"
    after = client.cookies[settings.SESSION_COOKIE_NAME]
    assert before is None or before.value != after.value
    assert after["httponly"]
    assert after["samesite"] == "Lax"
    event = LoginEvent.objects.get()
    assert (event.channel, event.result) == ("web", "success")


def test_a_wrong_password_shows_a_chinese_error_on_the_page(client):
    UserFactory.create(phone=PHONE)
    response = sign_in(client, password="Wrong2026")
    assert response.status_code == 200
    assert "手机号或密码错误" in response.content.decode()


def test_the_page_shows_the_lock_after_five_failures(client):
    UserFactory.create(phone=PHONE)
    for _ in range(3):
        response = sign_in(client, password="Wrong2026")
    for _ in range(2):  # from the fourth try on, each needs the picture captcha
        key, answer = captcha_answer(response)
        response = sign_in(client, password="Wrong2026", captcha_0=key, captcha_1=answer)
    assert response.status_code == 423
    assert "锁定" in response.content.decode()


def test_after_login_only_our_own_host_is_a_redirect_target(client):
    UserFactory.create(phone=PHONE)
    response = sign_in(client, next="https://evil.example.com/")
    assert response["Location"] == "/"
    client.logout()
    response = sign_in(client, next="/me/")
    assert response["Location"] == "/me/"


def test_a_member_session_ends_after_thirty_idle_minutes(client):
    UserFactory.create(phone=PHONE)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/me/").status_code == 200  # activity renews the session
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/me/").status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        response = client.get("/me/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def _session_writes(client, url="/me/") -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


@pytest.mark.parametrize("administrator", [False, True])
def test_activity_renews_a_session_at_most_once_a_minute(client, settings, administrator):
    UserFactory.create(phone=PHONE, is_administrator=administrator)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        clock.shift(dt.timedelta(seconds=61))
        assert _session_writes(client)  # a minute on: renewed (saved with a fresh expiry)
        clock.shift(dt.timedelta(seconds=30))
        assert _session_writes(client) == []  # 30 s later: not written again
        cookie_age = client.cookies[settings.SESSION_COOKIE_NAME]["max-age"]
        clock.shift(dt.timedelta(seconds=31))
        assert _session_writes(client)
    assert cookie_age == (15 * 60 if administrator else 30 * 60)


def test_a_visitor_without_a_session_is_not_given_one(client):
    response = client.get("/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_an_administrator_session_ends_after_fifteen_idle_minutes(client):
    UserFactory.create(phone=PHONE, is_administrator=True)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        clock.shift(dt.timedelta(minutes=14))
        assert client.get("/me/").status_code == 200
        clock.shift(dt.timedelta(minutes=16))
        assert client.get("/me/").status_code == 302


def test_an_administrator_session_ends_twelve_hours_after_sign_in_however_active(client):
    UserFactory.create(phone=PHONE, is_administrator=True)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client)
        minutes_active = 0
        while client.get("/me/").status_code == 200 and minutes_active < 24 * 60:
            clock.shift(dt.timedelta(minutes=10))
            minutes_active += 10
        # Active every 10 minutes, the session still ends once 12 hours have passed.
        assert minutes_active == 12 * 60 + 10


def test_logout_is_a_post_that_ends_the_session_and_is_logged(client):
    UserFactory.create(phone=PHONE)
    sign_in(client)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/me/").status_code == 302
    assert LoginEvent.objects.filter(result="logout", channel="web").count() == 1


def test_register_page_creates_the_account_and_signs_in(client, sms_outbox, run_on_commit):
    with run_on_commit():
        answer = client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "register"})
    assert answer.status_code == 202
    assert answer.json()["ok"] is True
    response = client.post(
        "/accounts/register/",
        {
            "real_name": "王建国",
            "phone": PHONE,
            "code": sms_outbox.last_code(PHONE),
            "password": "Study2026",
            "agree": "on",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(phone=PHONE).real_name == "王建国"
    assert "王建国" in client.get("/me/").content.decode()


def test_register_page_requires_the_agreement(client, sms_outbox, run_on_commit):
    with run_on_commit():
        client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "register"})
    response = client.post(
        "/accounts/register/",
        {
            "real_name": "王建国",
            "phone": PHONE,
            "code": sms_outbox.last_code(PHONE),
            "password": "Study2026",
        },
    )
    assert response.status_code == 200
    assert "请先阅读并同意" in response.content.decode()
    assert not User.objects.exists()


def test_the_sms_button_answers_429_with_retry_after(client, sms_outbox, run_on_commit):
    with run_on_commit():
        client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "register"})
        again = client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "register"})
    assert again.status_code == 429
    assert again["Retry-After"] == "60"
    assert "60 秒" in again.json()["message"]


def test_the_sms_button_refuses_a_malformed_number(client):
    answer = client.post("/accounts/sms-code/", {"phone": "12345", "purpose": "login"})
    assert answer.status_code == 422
    assert "手机号" in answer.json()["message"]


def test_password_reset_page(client, sms_outbox, run_on_commit):
    user = UserFactory.create(phone=PHONE)
    with run_on_commit():
        client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "reset_password"})
    response = client.post(
        "/accounts/password-reset/",
        {"phone": PHONE, "code": sms_outbox.last_code(PHONE), "new_password": "NewPass2026"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("NewPass2026")


def test_sms_login_on_the_page(client, sms_outbox, run_on_commit):
    UserFactory.create(phone=PHONE)
    with run_on_commit():
        client.post("/accounts/sms-code/", {"phone": PHONE, "purpose": "login"})
    response = client.post(
        "/accounts/login/",
        {"method": "sms", "phone": PHONE, "code": sms_outbox.last_code(PHONE, "login")},
    )
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


def test_the_django_admin_login_is_locked_out_like_any_other(client):
    UserFactory.create(phone=PHONE, is_staff=True)
    for _ in range(5):
        client.post("/django-admin/login/", {"username": PHONE, "password": "Wrong2026"})
    response = client.post(
        "/django-admin/login/", {"username": PHONE, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 423


def test_a_staff_member_can_sign_in_to_the_django_admin(client):
    UserFactory.create(phone=PHONE, is_staff=True)
    response = client.post(
        "/django-admin/login/", {"username": PHONE, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


def captcha_answer(response) -> tuple[str, str]:
    """The key the page rendered and the answer the captcha store holds for it."""
    from captcha.models import CaptchaStore

    found = re.search(r'name="captcha_0" value="([0-9a-f]+)"', response.content.decode())
    assert found, "the page shows no captcha"
    return found.group(1), CaptchaStore.objects.get(hashkey=found.group(1)).response


def test_the_page_asks_for_a_captcha_after_three_failures(client):
    UserFactory.create(phone=PHONE)
    for _ in range(2):
        assert "captcha" not in sign_in(client, password="Wrong2026").context["form"].fields
    third = sign_in(client, password="Wrong2026")
    assert "captcha" in third.context["form"].fields  # shown at once for the next try
    assert "图形验证码" in third.content.decode()


def test_without_the_right_captcha_the_password_is_not_even_tried(client):
    UserFactory.create(phone=PHONE)
    for _ in range(3):
        sign_in(client, password="Wrong2026")
    response = sign_in(client, captcha_0="0" * 40, captcha_1="999")
    assert response.status_code == 200
    assert "图形验证码不正确" in response.content.decode()
    assert client.get("/me/").status_code == 302
    assert LoginEvent.objects.filter(result="failed").count() == 3


def test_with_the_right_captcha_the_member_signs_in(client):
    UserFactory.create(phone=PHONE)
    for _ in range(3):
        page = sign_in(client, password="Wrong2026")
    key, answer = captcha_answer(page)
    response = sign_in(client, captcha_0=key, captcha_1=answer)
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


def test_a_new_browser_is_asked_for_a_captcha_for_an_account_under_attack(client):
    from django.test import Client

    UserFactory.create(phone=PHONE)
    for _ in range(3):
        sign_in(client, password="Wrong2026")
    fresh = Client()
    response = fresh.post(
        "/accounts/login/", {"method": "password", "phone": PHONE, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert "captcha" in response.context["form"].fields
