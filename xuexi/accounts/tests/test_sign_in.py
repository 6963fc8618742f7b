"""Signing in by password or SMS code, lockout and the login log (C1, SECURITY S4/S14)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from xuexi.accounts.models import LoginEvent, SmsCode
from xuexi.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def token(client, ip="203.0.113.7", **body):
    return client.post(
        "/api/v1/auth/token",
        {"phone": PHONE} | body,
        content_type="application/json",
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone) XuexiTest",
    )


def login_code(client, sms_outbox, run_on_commit, phone=PHONE) -> str:
    with run_on_commit():
        response = client.post(
            "/api/v1/auth/sms-codes",
            {"phone": phone, "purpose": "login"},
            content_type="application/json",
        )
    assert response.status_code == 202
    return sms_outbox.last_code(phone, "login")


def reset_password(client, sms_outbox, run_on_commit, new_password):
    with run_on_commit():
        client.post(
            "/api/v1/auth/sms-codes",
            {"phone": PHONE, "purpose": "reset_password"},
            content_type="application/json",
        )
    return client.post(
        "/api/v1/auth/password-reset",
        {
            "phone": PHONE,
            "code": sms_outbox.last_code(PHONE, "reset_password"),
            "new_password": new_password,
        },
        content_type="application/json",
    )


def test_a_member_signs_in_with_his_password_and_the_login_is_logged(client):
    user = UserFactory.create(phone=PHONE)
    response = token(client, password=DEFAULT_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert body["refresh_token"]
    event = LoginEvent.objects.get()
    assert (event.user, event.result, event.method, event.channel) == (
        user,
        "success",
        "password",
        "api",
    )
    assert event.ip == "203.0.113.7"
    assert "iPhone" in event.user_agent


def test_a_wrong_password_is_refused_with_one_message_for_unknown_and_known_numbers(client):
    UserFactory.create(phone=PHONE)
    known = token(client, password="Wrong2026")
    unknown = token(client, password="Wrong2026", phone="13999999999")
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert known.json()["code"] == "invalid_credentials"
    assert list(LoginEvent.objects.values_list("result", flat=True)) == ["failed", "failed"]


def test_five_failures_lock_the_account_for_fifteen_minutes_whatever_the_ip(client):
    UserFactory.create(phone=PHONE)
    with time_machine.travel(START, tick=False) as clock:
        statuses = [
            token(client, password="Wrong2026", ip=f"198.51.100.{n}").status_code for n in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 423]
        locked = token(client, password=DEFAULT_PASSWORD, ip="192.0.2.50")
        assert locked.status_code == 423
        assert locked.json()["code"] == "account_locked"
        assert "锁定" in locked.json()["message"]
        clock.shift(dt.timedelta(minutes=14))
        assert token(client, password=DEFAULT_PASSWORD).status_code == 423
        clock.shift(dt.timedelta(minutes=2))
        assert token(client, password=DEFAULT_PASSWORD).status_code == 200
    assert LoginEvent.objects.filter(result="locked").count() >= 2


def test_an_administrator_is_locked_for_thirty_minutes(client):
    UserFactory.create(phone=PHONE, is_administrator=True)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            token(client, password="Wrong2026")
        clock.shift(dt.timedelta(minutes=16))
        assert token(client, password=DEFAULT_PASSWORD).status_code == 423
        clock.shift(dt.timedelta(minutes=15))
        assert token(client, password=DEFAULT_PASSWORD).status_code == 200


def test_a_success_clears_earlier_failures(client):
    UserFactory.create(phone=PHONE)
    for _ in range(4):
        token(client, password="Wrong2026")
    assert token(client, password=DEFAULT_PASSWORD).status_code == 200
    for _ in range(4):
        assert token(client, password="Wrong2026").status_code == 401


def test_a_member_signs_in_with_an_sms_code(client, sms_outbox, run_on_commit):
    user = UserFactory.create(phone=PHONE)
    code = login_code(client, sms_outbox, run_on_commit)
    response = token(client, code=code)
    assert response.status_code == 200
    assert LoginEvent.objects.get(result="success").method == "sms"
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert me.json()["id"] == user.pk


def test_a_wrong_sms_code_counts_as_a_failed_login_and_a_wrong_try(
    client, sms_outbox, run_on_commit
):
    UserFactory.create(phone=PHONE)
    code = login_code(client, sms_outbox, run_on_commit)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = token(client, code=wrong)
    assert response.status_code == 422
    assert response.json()["code"] == "sms_code_wrong"
    assert SmsCode.objects.get().wrong_tries == 1
    assert LoginEvent.objects.get().result == "failed"


def test_a_used_login_code_cannot_sign_in_again(client, sms_outbox, run_on_commit):
    UserFactory.create(phone=PHONE)
    code = login_code(client, sms_outbox, run_on_commit)
    assert token(client, code=code).status_code == 200
    again = token(client, code=code)
    assert again.status_code == 422
    assert again.json()["code"] == "sms_code_used"


def test_password_and_code_together_are_refused(client):
    UserFactory.create(phone=PHONE)
    response = token(client, password=DEFAULT_PASSWORD, code="123456")
    assert response.status_code == 422
    assert not LoginEvent.objects.exists()


def test_an_inactive_account_cannot_sign_in(client):
    UserFactory.create(phone=PHONE, is_active=False)
    assert token(client, password=DEFAULT_PASSWORD).status_code == 401


def test_resetting_the_password_by_sms_unlocks_and_ends_old_tokens(
    client, sms_outbox, run_on_commit
):
    UserFactory.create(phone=PHONE)
    old_access = token(client, password=DEFAULT_PASSWORD).json()["access_token"]
    for _ in range(5):
        token(client, password="Wrong2026")
    assert token(client, password=DEFAULT_PASSWORD).status_code == 423
    response = reset_password(client, sms_outbox, run_on_commit, "NewPass2026")
    assert response.status_code == 204
    assert token(client, password="NewPass2026").status_code == 200
    assert token(client, password=DEFAULT_PASSWORD).status_code == 401
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {old_access}")
    assert me.status_code == 401


def test_a_password_reset_with_a_weak_password_changes_nothing(client, sms_outbox, run_on_commit):
    user = UserFactory.create(phone=PHONE)
    response = reset_password(client, sms_outbox, run_on_commit, "short")
    assert response.status_code == 422
    assert "new_password" in response.json()["details"]["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert SmsCode.objects.get().used_at is None


def test_a_password_reset_for_an_unknown_number_reveals_nothing(client):
    response = client.post(
        "/api/v1/auth/password-reset",
        {"phone": "13900000001", "code": "123456", "new_password": "NewPass2026"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "sms_code_invalid"
