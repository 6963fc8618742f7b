"""SMS verification codes (PRODUCT C1, SECURITY S2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from xuexi.accounts import services
from xuexi.accounts.models import SmsCode
from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import RateLimited, ValidationFailed

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
IP = "203.0.113.7"


def request_code(run_on_commit, phone=PHONE, purpose="register", ip=IP):
    with run_on_commit():
        return services.sms_code_request(phone=phone, purpose=purpose, client_ip=ip)


def refusal_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.code


def test_a_code_is_six_digits_sent_by_sms_and_stored_only_as_a_keyed_hash(
    sms_outbox, run_on_commit
):
    ticket = request_code(run_on_commit)
    code = sms_outbox.last_code(PHONE, "register")
    assert ticket.expires_in == 300
    assert ticket.resend_after == 60
    assert len(code) == 6
    assert code.isdigit()
    stored = SmsCode.objects.get(phone=PHONE)
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert (stored.expires_at - stored.created_at) == dt.timedelta(seconds=300)
    message = sms_outbox.messages()[-1]
    assert set(message) >= {"phone", "purpose", "code", "message", "sent_at"}
    assert code in message["message"]


def test_a_code_can_be_used_only_once(sms_outbox, run_on_commit):
    request_code(run_on_commit)
    code = sms_outbox.last_code(PHONE)
    services.sms_code_consume(phone=PHONE, purpose="register", code=code)
    with pytest.raises(ValidationFailed) as excinfo:
        services.sms_code_consume(phone=PHONE, purpose="register", code=code)
    assert refusal_code(excinfo) == "sms_code_used"


def test_a_code_expires_after_five_minutes(sms_outbox, run_on_commit):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        request_code(run_on_commit)
        code = sms_outbox.last_code(PHONE)
        clock.shift(dt.timedelta(seconds=301))
        with pytest.raises(ValidationFailed) as excinfo:
            services.sms_code_consume(phone=PHONE, purpose="register", code=code)
    assert refusal_code(excinfo) == "sms_code_expired"


def test_a_code_is_still_good_just_before_it_expires(sms_outbox, run_on_commit):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        request_code(run_on_commit)
        clock.shift(dt.timedelta(seconds=299))
        services.sms_code_consume(phone=PHONE, purpose="register", code=sms_outbox.last_code(PHONE))


def test_five_wrong_tries_void_the_code_even_the_right_one_afterwards(sms_outbox, run_on_commit):
    request_code(run_on_commit)
    code = sms_outbox.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = []
    for _ in range(5):
        with pytest.raises(ValidationFailed) as excinfo:
            services.sms_code_consume(phone=PHONE, purpose="register", code=wrong)
        messages.append(excinfo.value.message)
    assert messages[0] == "验证码错误，还可尝试 4 次。"
    assert refusal_code(excinfo) == "sms_code_exhausted"
    with pytest.raises(ValidationFailed) as excinfo:
        services.sms_code_consume(phone=PHONE, purpose="register", code=code)
    assert refusal_code(excinfo) == "sms_code_exhausted"
    assert SmsCode.objects.get(phone=PHONE).wrong_tries == 5


def test_a_code_for_one_purpose_does_not_work_for_another(sms_outbox, run_on_commit):
    UserFactory.create(phone=PHONE)
    request_code(run_on_commit, purpose="login")
    with pytest.raises(ValidationFailed):
        services.sms_code_consume(
            phone=PHONE, purpose="reset_password", code=sms_outbox.last_code(PHONE)
        )


def test_a_new_code_replaces_the_previous_one(sms_outbox, run_on_commit, locmem_cache):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        request_code(run_on_commit)
        first = sms_outbox.last_code(PHONE)
        clock.shift(dt.timedelta(seconds=61))
        request_code(run_on_commit)
        second = sms_outbox.last_code(PHONE)
        if first != second:
            with pytest.raises(ValidationFailed):
                services.sms_code_consume(phone=PHONE, purpose="register", code=first)
        services.sms_code_consume(phone=PHONE, purpose="register", code=second)


@pytest.mark.parametrize("bad_code", ["", "12345", "1234567", "abcdef", "12 456", "１２３４５６"])
def test_malformed_codes_are_refused_without_spending_a_try(bad_code, sms_outbox, run_on_commit):
    request_code(run_on_commit)
    with pytest.raises(ValidationFailed):
        services.sms_code_consume(phone=PHONE, purpose="register", code=bad_code)
    assert SmsCode.objects.get(phone=PHONE).wrong_tries == 0


def test_only_one_code_per_number_per_minute(sms_outbox, run_on_commit, locmem_cache):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        request_code(run_on_commit)
        clock.shift(dt.timedelta(seconds=59))
        with pytest.raises(RateLimited) as excinfo:
            request_code(run_on_commit)
        assert excinfo.value.code == "sms_resend_too_soon"
        assert excinfo.value.retry_after == 60
        clock.shift(dt.timedelta(seconds=2))
        request_code(run_on_commit)
    assert len(sms_outbox.messages()) == 2


def test_a_second_request_within_the_minute_is_refused_on_any_cache(sms_outbox, run_on_commit):
    request_code(run_on_commit)
    with pytest.raises(RateLimited):
        request_code(run_on_commit)
    assert SmsCode.objects.filter(phone=PHONE).count() == 1


def test_at_most_ten_codes_per_number_per_day(sms_outbox, run_on_commit, locmem_cache):
    start = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(10):
            request_code(run_on_commit)
            clock.shift(dt.timedelta(seconds=61))
        with pytest.raises(RateLimited) as excinfo:
            request_code(run_on_commit)
        assert excinfo.value.code == "sms_daily_limited"
        # The day is a calendar day in Asia/Shanghai: 00:00 there is 16:00 UTC.
        clock.move_to(dt.datetime(2026, 3, 1, 16, 0, 1, tzinfo=dt.UTC))
        request_code(run_on_commit)
    assert SmsCode.objects.filter(phone=PHONE).count() == 11


def test_at_most_twenty_codes_per_client_ip_per_hour(sms_outbox, run_on_commit):
    for n in range(20):
        request_code(run_on_commit, phone=f"1391000{n:04d}")
    with pytest.raises(RateLimited) as excinfo:
        request_code(run_on_commit, phone="13910009999")
    assert excinfo.value.code == "sms_ip_limited"
    request_code(run_on_commit, phone="13910009999", ip="198.51.100.1")


def test_the_global_daily_budget_stops_all_sending(settings, sms_outbox, run_on_commit):
    settings.XUEXI_SMS_GLOBAL_PER_DAY = 3
    for n in range(3):
        request_code(run_on_commit, phone=f"1392000{n:04d}", ip=f"198.51.100.{n}")
    with pytest.raises(RateLimited) as excinfo:
        request_code(run_on_commit, phone="13920009999", ip="198.51.100.99")
    assert excinfo.value.code == "sms_budget_exhausted"
    assert len(sms_outbox.messages()) == 3


def test_an_unregistered_number_gets_the_same_answer_but_no_login_code(sms_outbox, run_on_commit):
    unknown = request_code(run_on_commit, phone="13930000001", purpose="login")
    UserFactory.create(phone="13930000002")
    known = request_code(run_on_commit, phone="13930000002", purpose="login")
    assert unknown == known
    assert [m["phone"] for m in sms_outbox.messages()] == ["13930000002"]
    assert not SmsCode.objects.filter(phone="13930000001").exists()


def test_registering_a_taken_number_tells_only_the_owner_by_sms(sms_outbox, run_on_commit):
    UserFactory.create(phone=PHONE)
    request_code(run_on_commit, purpose="register")
    message = sms_outbox.messages()[-1]
    assert message["code"] is None
    assert "已注册" in message["message"]
    assert not SmsCode.objects.filter(phone=PHONE).exists()


def test_no_sms_leaves_when_the_transaction_is_rolled_back(sms_outbox):
    # Without run_on_commit the test transaction never commits: nothing may be sent.
    services.sms_code_request(phone=PHONE, purpose="register", client_ip=IP)
    assert sms_outbox.messages() == []


@pytest.mark.parametrize(
    "phone",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "电话号码"],
)
def test_malformed_phone_numbers_are_refused_in_chinese(phone, sms_outbox, run_on_commit):
    with pytest.raises(ValidationFailed) as excinfo:
        request_code(run_on_commit, phone=phone)
    assert excinfo.value.details["fields"]["phone"] == "请输入正确的 11 位中国大陆手机号码。"
    assert not SmsCode.objects.exists()


def test_a_number_with_country_code_or_spaces_is_normalised(sms_outbox, run_on_commit):
    request_code(run_on_commit, phone="+86 139-1234-5678")
    assert SmsCode.objects.get().phone == PHONE


def test_full_width_digits_from_a_chinese_keyboard_are_accepted(sms_outbox, run_on_commit):
    request_code(run_on_commit, phone="１３９１２３４５６７８")
    assert SmsCode.objects.get().phone == PHONE


def test_an_unknown_purpose_is_refused(sms_outbox, run_on_commit):
    with pytest.raises(ValidationFailed):
        request_code(run_on_commit, purpose="change_phone")
