"""Atomic business counters (SECURITY S2/S24): on local memory here, on Redis in the PG pass."""

from __future__ import annotations

import contextlib
import threading

import pytest

from xuexi.core import ratelimit
from xuexi.core.errors import RateLimited


def test_a_limit_lets_through_exactly_its_count():
    limit = ratelimit.Limit(key="t:seq", count=3, seconds=60, message="慢一点")
    assert [ratelimit.hit(limit) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RateLimited) as excinfo:
        ratelimit.hit(limit)
    assert excinfo.value.message == "慢一点"
    assert 0 < excinfo.value.retry_after <= 60


def test_concurrent_hits_never_pass_more_than_the_limit():
    limit = ratelimit.Limit(key="t:race", count=5, seconds=60, message="慢一点")
    passed: list[int] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        with contextlib.suppress(RateLimited):
            passed.append(ratelimit.hit(limit))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(passed) == [1, 2, 3, 4, 5]


def test_take_once_is_won_by_exactly_one_of_many_concurrent_callers():
    winners: list[bool] = []
    barrier = threading.Barrier(12)

    def worker() -> None:
        barrier.wait()
        winners.append(ratelimit.take_once("t:once", 60))

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners.count(True) == 1
