"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import translation


def pytest_configure(config: pytest.Config) -> None:
    """Parallel workers (pytest-xdist) share one Redis database: each gets its own cache key
    prefix, so that one worker's clean slate never wipes another's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    from django.conf import settings

    for options in settings.CACHES.values():
        options["KEY_PREFIX"] = f"{options.get('KEY_PREFIX', '')}-{worker}"


def _cache_clear() -> None:
    """Empty this test run's cache: on Redis only the keys under this worker's prefix
    (``clear`` would flush the whole database, under the other workers' feet)."""
    redis_cache = getattr(cache, "_cache", None)
    if redis_cache is None or not hasattr(redis_cache, "get_client"):
        cache.clear()  # local memory: private to the process
        return
    client = redis_cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: every test starts with none. Nor does it inherit
    the rule set in force from a rolled-back test (kept in process memory)."""
    from xuexi.points.selectors import ruleset_cache_clear

    _cache_clear()
    ruleset_cache_clear()
    yield
    _cache_clear()
    ruleset_cache_clear()


@pytest.fixture(autouse=True)
def _own_ranking_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Redis rankings live beside the cache, not in it: each test writes them under a key
    prefix of its own (no test, worker or earlier run sees another's sets), dropped after it."""
    from django.conf import settings

    from xuexi.points import rankings

    monkeypatch.setattr(rankings, "KEY_PREFIX", f"test:rk:{uuid.uuid4().hex}")
    yield
    if settings.REDIS_URL:
        rankings.rankings_forget()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploads made by a test land in a temporary folder, not in var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """LocaleMiddleware activates a request's language and never deactivates it: a test that
    asks for English must not leave the next test's services speaking English."""
    translation.deactivate()
    yield
    translation.deactivate()


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
            wanted = message["phone"] == phone and purpose in (None, message["purpose"])
            if wanted and message.get("code"):
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


@pytest.fixture
def locmem_cache(settings: Any) -> None:
    """For tests that travel in time past a cache TTL: Redis keeps real time, locmem does not."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "time-travel",
        }
    }


@pytest.fixture
def personas(db: Any) -> dict[str, Any]:
    """The fixed cast of the persona matrix (ARCHITECTURE.md), on a small tree.

    全国学习平台 › 示范省 › 东州市 › 县A › 支部A1 / 县B › 支部B1. ``outsider`` administers the
    sibling county B; ``member`` belongs to branch A1; ``stranger`` has no organisation at all.
    """
    from xuexi.accounts.tests.factories import UserFactory
    from xuexi.organizations.models import Organization
    from xuexi.organizations.services import membership_place, role_grant

    def child(parent: Organization, name: str, kind: str, code: str) -> Organization:
        return Organization.objects.add_child(parent, {"name": name, "kind": kind, "code": code})

    root = Organization.objects.add_root({"name": "全国学习平台", "kind": "platform", "code": "P"})
    province = child(root, "示范省", "province", "P-1")
    city = child(province, "东州市", "city", "P-1-1")
    county_a = child(city, "县A", "county", "P-1-1-1")
    county_b = child(city, "县B", "county", "P-1-1-2")
    branch_a = child(county_a, "支部A1", "branch", "P-1-1-1-1")
    branch_b = child(county_b, "支部B1", "branch", "P-1-1-2-1")
    orgs = {
        "root": root,
        "province": province,
        "city": city,
        "county_a": county_a,
        "county_b": county_b,
        "branch_a": branch_a,
        "branch_b": branch_b,
    }

    cast = {
        "operator": ("13800000000", "root", "operator", "root"),
        "province_admin": ("13800000001", "province", "main_admin", "province"),
        "county_admin": ("13800000002", "county_a", "main_admin", "county_a"),
        "outsider": ("13800000003", "county_b", "main_admin", "county_b"),
        "branch_admin": ("13800000004", "branch_a", "admin", "branch_a"),
        "member": ("13800000005", None, None, "branch_a"),
        "member_b": ("13800000006", None, None, "branch_b"),
        "stranger": ("13800000007", None, None, None),
    }
    people: dict[str, Any] = {"orgs": orgs}
    for name, (phone, role_on, role, member_of) in cast.items():
        user = UserFactory.create(phone=phone)
        if member_of:
            membership_place(user=user, organization=orgs[member_of])
        if role_on and role:
            role_grant(user=user, organization=orgs[role_on], role=role, granted_by=None)
            user.refresh_from_db()
        people[name] = user
    return people


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, end sessions that server threads left open.

    The browser journeys' live server answers in threads of its own; one may still hold a
    PostgreSQL session when the run ends, and PostgreSQL refuses to drop a database in use.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
