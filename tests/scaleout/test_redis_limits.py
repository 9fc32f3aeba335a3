"""Rate limits counted in a real Redis: every worker counts together, the script is atomic under
concurrent hits, and a Redis that does not answer lets work through with a warning."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from clawnet.errors import RateLimited
from clawnet.security.limiter import RedisWindows
from clawnet.security.rate_limit import LimitAction, RateLimiter, rate_limiter, use_redis
from tests.support.server import free_port


def test_two_workers_share_one_window(redis_url, migrated):
    first, second = RedisWindows(redis_url), RedisWindows(redis_url)
    try:
        assert [w.hit("chat:user:1", 3, 60) for w in (first, second, first)] == [0.0, 0.0, 0.0]
        wait = second.hit("chat:user:1", 3, 60)
        assert 59 <= wait <= 60
        assert first.hit("chat:user:2", 3, 60) == 0.0  # another person has their own window
    finally:
        first.close()
        second.close()


def test_concurrent_hits_never_pass_the_limit(redis_url):
    windows = RedisWindows(redis_url, timeout_s=5)
    try:
        with ThreadPoolExecutor(8) as pool:
            waits = list(pool.map(lambda _: windows.hit("import:user:9", 10, 3600), range(40)))
    finally:
        windows.close()
    assert sum(1 for w in waits if w == 0.0) == 10


def test_limits_count_in_redis_when_scaled_out(redis_url, migrated):
    use_redis(redis_url)
    try:
        limiter = rate_limiter(migrated)
        assert isinstance(limiter.backend, RedisWindows)
        other_worker = RateLimiter(migrated.database_url, RedisWindows(redis_url))
        for _ in range(10):
            limiter.hit(LimitAction.LIFECYCLE, "user:77")
            other_worker.hit(LimitAction.LIFECYCLE, "user:77")
        with pytest.raises(RateLimited, match=r"^Too many bot starts, stops and restarts\. Try again in "):
            limiter.hit(LimitAction.LIFECYCLE, "user:77")  # 20 a minute, counted by both
    finally:
        use_redis("")


def test_a_redis_outage_lets_people_work_and_says_so(migrated, caplog):
    dead = RedisWindows(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    limiter = RateLimiter(migrated.database_url, dead)
    with caplog.at_level(logging.WARNING, logger="clawnet.security.limiter"):
        for _ in range(40):  # more than the chat limit: nothing is refused
            limiter.hit(LimitAction.CHAT, "user:1")
    warnings = [r.getMessage() for r in caplog.records if "rate limits are not enforced" in r.getMessage()]
    assert len(warnings) == 1  # once, not forty times
