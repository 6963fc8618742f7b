"""Atomic counters for business rate limits (SECURITY S2, S24).

Built on the cache: ``cache.add`` and ``cache.incr`` are single atomic commands on Redis
(SET NX / INCR) and run under a lock in the local-memory cache, so two concurrent requests can
never both pass a limit of one. Never read-then-write a counter.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from xuexi.core.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per window of ``seconds`` for one key."""

    key: str
    count: int
    seconds: int
    message: str
    code: str = "rate_limited"


def hit(limit: Limit) -> int:
    """Count one hit against ``limit`` and return the new count; raise ``RateLimited`` past it.

    The window starts at the first hit (fixed window keyed by first use). A refused hit is still
    counted, so hammering a limit does not reopen it sooner.
    """
    key = f"rl:{limit.key}"
    if cache.add(key, 1, timeout=limit.seconds):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start a new window
            cache.add(key, 1, timeout=limit.seconds)
            count = 1
    if count > limit.count:
        raise RateLimited(limit.message, retry_after=retry_after(limit), code=limit.code)
    return count


def retry_after(limit: Limit) -> int:
    """Seconds until ``limit``'s window ends (best effort; the window length if unknown)."""
    ttl = getattr(cache, "ttl", None)
    if ttl is not None:  # django-redis style; Django's RedisCache has no ttl()
        remaining = ttl(f"rl:{limit.key}")
        if remaining and remaining > 0:
            return int(remaining)
    return limit.seconds


def take_once(key: str, seconds: int) -> bool:
    """Claim ``key`` for ``seconds``; True if this call got it (atomic SET NX)."""
    return bool(cache.add(f"once:{key}", 1, timeout=seconds))


def release(key: str) -> None:
    cache.delete(f"once:{key}")
