"""Registration with an SMS code, through the API (PRODUCT C1, SECURITY S1/S3)."""

from __future__ import annotations

import pytest

from xuexi.accounts.models import SmsCode, User
from xuexi.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture
def register_code(client, sms_outbox, run_on_commit):
    def send(phone: str = PHONE) -> str:
        with run_on_commit():
            response = client.post(
                "/api/v1/auth/sms-codes",
                {"phone": phone, "purpose": "register"},
                content_type="application/json",
            )
        assert response.status_code == 202, response.content
        assert response.json() == {"expires_in": 300, "resend_after": 60}
        return sms_outbox.last_code(phone, "register")

    return send


def register(client, **fields):
    body = {"phone": PHONE, "real_name": "张明远", "password": "Study2026"} | fields
    return client.post("/api/v1/auth/register", body, content_type="application/json")


def test_a_newcomer_registers_with_a_code_and_gets_his_account(client, register_code):
    response = register(client, code=register_code())
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["phone"] == PHONE  # the owner sees his full number
    assert user["real_name"] == "张明远"
    assert user["organization"] is None
    assert user["roles"] == []
    account = User.objects.get(phone=PHONE)
    assert account.check_password("Study2026")
    assert account.password != "Study2026"
    assert SmsCode.objects.get(phone=PHONE).used_at is not None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1", "至少"),
        ("abc1234", "至少"),
        ("abcdefgh", "字母和数字"),
        ("12345678", "字母和数字"),
        ("", "请设置密码"),
        ("password1", "常见"),
    ],
)
def test_weak_passwords_are_refused_and_the_code_stays_usable(
    client, register_code, password, reason
):
    code = register_code()
    response = register(client, code=code, password=password)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert reason in body["details"]["fields"]["password"]
    assert not User.objects.filter(phone=PHONE).exists()
    assert register(client, code=code).status_code == 201


def test_a_wrong_code_creates_nothing(client, register_code):
    code = register_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = register(client, code=wrong)
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["code"].startswith("验证码错误")
    assert not User.objects.exists()


def test_a_code_cannot_register_twice(client, register_code):
    code = register_code()
    assert register(client, code=code).status_code == 201
    response = register(client, code=code, phone=PHONE)
    assert response.status_code == 422
    assert response.json()["code"] == "sms_code_used"
    assert User.objects.count() == 1


def test_registering_without_a_code_is_refused(client):
    response = register(client, code="123456")
    assert response.status_code == 422
    assert "验证码" in response.json()["message"]
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["", "张", "Robert'); DROP TABLE", "<b>张三</b>", "张三123"])
def test_a_real_name_is_required(client, register_code, name):
    response = register(client, code=register_code(), real_name=name)
    assert response.status_code == 422
    assert "真实姓名" in response.json()["details"]["fields"]["real_name"]
    assert not User.objects.exists()


def test_a_minority_name_with_a_middle_dot_is_accepted(client, register_code):
    response = register(client, code=register_code(), real_name="阿依古丽·买买提")
    assert response.status_code == 201


def test_a_taken_number_cannot_register_again(client, register_code):
    UserFactory.create(phone=PHONE)
    response = register(client, code="000000")
    assert response.status_code == 422  # no code was ever issued for a taken number
    assert User.objects.filter(phone=PHONE).count() == 1


def test_missing_fields_and_bad_json_get_the_error_shape(client):
    response = client.post(
        "/api/v1/auth/register", {"phone": PHONE}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["details"]["fields"]["code"] == "此项为必填项。"
    response = client.post("/api/v1/auth/register", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message", "details"}


def test_registration_records_the_privacy_notice_version_accepted(client, register_code):
    notice = client.get("/api/v1/auth/privacy-notice").json()
    assert notice["privacy_url"].endswith("/privacy/")
    response = register(client, code=register_code(), privacy_version=notice["version"])
    assert response.status_code == 201
    user = User.objects.get(phone=PHONE)
    assert user.privacy_version == notice["version"]
    assert user.privacy_accepted_at is not None


def test_an_outdated_privacy_notice_version_is_refused(client, register_code):
    response = register(client, code=register_code(), privacy_version="2019-01-01")
    assert response.status_code == 422
    assert "privacy_version" in response.json()["details"]["fields"]
    assert not User.objects.exists()


def test_the_privacy_notice_and_agreement_are_public_pages(client):
    for path, title in (("/privacy/", "隐私政策"), ("/terms/", "用户协议")):
        response = client.get(path)
        assert response.status_code == 200
        assert title in response.content.decode()
