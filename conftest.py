"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


class Outbox:
    """The SMS file backend's outbox, as API.md describes it (one JSON object a line)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]

    def last_code(self, phone: str, purpose: str | None = None) -> str:
        for message in reversed(self.messages()):
            if message["phone"] == phone and (purpose is None or message["purpose"] == purpose):
                if message.get("code"):
                    return str(message["code"])
        raise AssertionError(f"no code was sent to {phone}")


@pytest.fixture
def sms_outbox(settings: Any, tmp_path: Path) -> Outbox:
    settings.XUEXI_SMS_BACKEND = "xuexi.core.sms.FileBackend"
    settings.XUEXI_SMS_OUTBOX = str(tmp_path / "sms-outbox.jsonl")
    return Outbox(tmp_path / "sms-outbox.jsonl")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    """``with run_on_commit(): ...`` runs the after-commit side effects (SMS, pushes) on exit."""

    def runner() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return runner


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's real cost belongs in production, not in thousands of test sign-ins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
