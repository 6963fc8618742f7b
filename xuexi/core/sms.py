"""SMS transport with pluggable backends (``XUEXI_SMS_BACKEND``).

- ``FileBackend`` (embedded default): appends one JSON line per message to ``XUEXI_SMS_OUTBOX``
  — ``{"phone", "purpose", "code", "message", "sent_at"}`` (API.md), readable by tests and
  by a developer who wants the code of a registration.
- ``ConsoleBackend``: logs the message.
- ``HttpProviderBackend``: posts the message to a provider gateway (``XUEXI_SMS_PROVIDER_URL``
  with ``XUEXI_SMS_PROVIDER_KEY``); adapters for a specific provider subclass it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import urllib.request
from dataclasses import asdict, dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from xuexi.core.time import now

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    message: str
    purpose: str = ""
    code: str | None = None
    sent_at: str = field(default_factory=lambda: now().isoformat())


class SmsBackend:
    def send(self, sms: SmsMessage) -> None:
        raise NotImplementedError


class FileBackend(SmsBackend):
    """Appends JSON lines to the outbox file; an exclusive lock keeps lines whole."""

    def send(self, sms: SmsMessage) -> None:
        line = json.dumps(asdict(sms), ensure_ascii=False) + "\n"
        with open(settings.XUEXI_SMS_OUTBOX, "a", encoding="utf-8") as outbox:
            fcntl.flock(outbox, fcntl.LOCK_EX)
            outbox.write(line)


class ConsoleBackend(SmsBackend):
    def send(self, sms: SmsMessage) -> None:
        logger.info("SMS to %s: %s", sms.phone, sms.message)


class HttpProviderBackend(SmsBackend):
    """A JSON-over-HTTPS gateway: ``{"phone", "sign", "message"}`` with a bearer key."""

    timeout_seconds = 5

    def send(self, sms: SmsMessage) -> None:
        if not settings.XUEXI_SMS_PROVIDER_URL.startswith("https://"):
            raise RuntimeError("XUEXI_SMS_PROVIDER_URL must be an https:// URL")
        body = json.dumps(
            {"phone": sms.phone, "sign": settings.XUEXI_SMS_SIGN, "message": sms.message}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 — https checked above
            settings.XUEXI_SMS_PROVIDER_URL,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.XUEXI_SMS_PROVIDER_KEY}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"SMS provider answered {response.status}")


@cache
def _backend(path: str) -> SmsBackend:
    backend_class: type[SmsBackend] = import_string(path)
    return backend_class()


def sms_send(sms: SmsMessage) -> None:
    """Send through the configured backend. Call after commit (``transaction.on_commit``)."""
    _backend(settings.XUEXI_SMS_BACKEND).send(sms)
