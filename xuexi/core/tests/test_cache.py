"""The Redis cache backend shares one client per connection pool (xuexi/core/cache.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from xuexi.core.cache import RedisCache


def test_every_call_gets_the_same_client_of_its_pool():
    backend: Any = RedisCache("redis://127.0.0.1:6379/0", {})
    client = backend._cache.get_client(write=True)
    assert backend._cache.get_client(write=True) is client
    assert backend._cache.get_client("any-key") is client  # one server: reads use its pool too


def test_two_servers_keep_a_client_each():
    backend: Any = RedisCache("redis://127.0.0.1:6379/0,redis://127.0.0.1:6379/1", {})
    writer = backend._cache.get_client(write=True)
    reader = backend._cache.get_client()
    assert writer is not reader
    assert backend._cache.get_client() is reader


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis)")
def test_the_configured_cache_reads_what_it_wrote_through_the_shared_client():
    cache.set("shared-client-check", {"n": 1}, 30)
    assert cache.get("shared-client-check") == {"n": 1}
    configured: Any = cache
    assert configured._cache.get_client() is configured._cache.get_client(write=True)
    cache.delete("shared-client-check")
