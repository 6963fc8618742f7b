"""The SMS transport's backends."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from xuexi.core import sms
from xuexi.core.sms import ConsoleBackend, FileBackend, HttpProviderBackend, SmsMessage

MESSAGE = SmsMessage(phone="13912345678", purpose="login", code="123456", message="验证码 123456")


def test_the_file_backend_appends_one_json_line_per_message(sms_outbox):
    FileBackend().send(MESSAGE)
    FileBackend().send(MESSAGE)
    lines = sms_outbox.messages()
    assert len(lines) == 2
    assert lines[0]["phone"] == "13912345678"
    assert lines[0]["message"] == "验证码 123456"
    assert "sent_at" in lines[0]


def test_the_console_backend_logs_the_message(caplog):
    with caplog.at_level(logging.INFO, logger="xuexi.core.sms"):
        ConsoleBackend().send(MESSAGE)
    assert "13912345678" in caplog.text


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status = status

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def test_the_provider_backend_posts_json_with_the_key(settings, monkeypatch):
    settings.XUEXI_SMS_PROVIDER_URL = "https://sms.example.gov.cn/send"
    settings.XUEXI_SMS_PROVIDER_KEY = "k-123"
    settings.XUEXI_SMS_SIGN = "学习平台"
    sent: dict[str, Any] = {}

    def fake_urlopen(request, timeout):
        sent.update(
            url=request.full_url,
            body=json.loads(request.data),
            timeout=timeout,
            auth=request.get_header("Authorization"),
        )
        return FakeResponse(200)

    monkeypatch.setattr(sms.urllib.request, "urlopen", fake_urlopen)
    HttpProviderBackend().send(MESSAGE)
    assert sent["url"] == "https://sms.example.gov.cn/send"
    assert sent["body"] == {"phone": "13912345678", "sign": "学习平台", "message": "验证码 123456"}
    assert sent["auth"] == "Bearer k-123"
    assert sent["timeout"] == 5


def test_the_provider_backend_refuses_a_plain_http_gateway(settings):
    settings.XUEXI_SMS_PROVIDER_URL = "http://sms.example.gov.cn/send"
    with pytest.raises(RuntimeError, match="https"):
        HttpProviderBackend().send(MESSAGE)


def test_the_provider_backend_reports_a_refusal(settings, monkeypatch):
    settings.XUEXI_SMS_PROVIDER_URL = "https://sms.example.gov.cn/send"
    monkeypatch.setattr(sms.urllib.request, "urlopen", lambda request, timeout: FakeResponse(500))
    with pytest.raises(RuntimeError, match="500"):
        HttpProviderBackend().send(MESSAGE)


def test_the_configured_backend_is_used(settings, sms_outbox):
    settings.XUEXI_SMS_BACKEND = "xuexi.core.sms.FileBackend"
    sms.sms_send(MESSAGE)
    assert len(sms_outbox.messages()) == 1
