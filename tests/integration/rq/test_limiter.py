"""The Redis Limiter (its Lua scripts) against a real Redis: slots under contention, leases that run out, rates."""

from __future__ import annotations

import threading
import time

import pytest

from rqledger.adapters.rq import redis_connection
from rqledger.adapters.rq.limits import PREFIX, RedisLimiter
from rqledger.application.errors import QueueUnavailable
from tests.services import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def connect(redis_url):
    made = []

    def connect():
        connection = redis_connection(redis_url)
        made.append(connection)
        return connection

    yield connect
    for connection in made:
        connection.close()


@pytest.fixture
def limiter(connect):
    return RedisLimiter(connect())


def test_concurrent_acquirers_never_hold_more_slots_than_the_limit(connect):
    limit, threads, rounds = 3, 12, 15
    running, most, lock = [0], [0], threading.Lock()
    taken = [0]
    start = threading.Barrier(threads)

    def contender(n: int):
        limiter = RedisLimiter(connect())  # a connection each, as separate workers have
        start.wait()
        for r in range(rounds):
            holder = f"{n}:{r}"
            if limiter.acquire([("pool", limit)], holder, 30) is not None:
                continue
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
                taken[0] += 1
            time.sleep(0.002)
            with lock:
                running[0] -= 1
            limiter.release(["pool"], holder)

    workers = [threading.Thread(target=contender, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    assert most[0] == limit  # reached, never passed
    assert taken[0] >= rounds


def test_all_at_once_exactly_the_limit_get_a_slot(connect):
    threads, results = 20, []
    start = threading.Barrier(threads)

    def contender(n: int):
        limiter = RedisLimiter(connect())
        start.wait()
        results.append(limiter.acquire([("pool", 2)], f"{n}:1", 30))

    workers = [threading.Thread(target=contender, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert results.count(None) == 2
    assert all(r == ("pool", 2) for r in results if r is not None)


def test_a_lease_that_runs_out_frees_its_slot(limiter):
    assert limiter.acquire([("pool", 1)], "dead:1", 0.3) is None
    assert limiter.acquire([("pool", 1)], "next:1", 0.3) == ("pool", 1)

    time.sleep(0.4)

    assert limiter.acquire([("pool", 1)], "next:1", 30) is None
    assert limiter.in_use(["pool"]) == [1]


def test_a_renewed_lease_outlives_its_first_expiry_and_is_taken_again_after_a_redis_restart(limiter, connect):
    limiter.acquire([("pool", 1)], "1:1", 0.5)
    time.sleep(0.3)
    limiter.renew(["pool"], "1:1", 0.5)
    time.sleep(0.3)
    assert limiter.acquire([("pool", 1)], "2:1", 0.5) == ("pool", 1)

    connect().flushdb()  # what a Redis restart without persistence leaves
    limiter.renew(["pool"], "1:1", 30)
    assert limiter.acquire([("pool", 1)], "2:1", 30) == ("pool", 1)


def test_slots_are_taken_in_every_pool_or_in_none(limiter):
    limiter.acquire([("owner", 1)], "1:1", 30)
    assert limiter.acquire([("all", None), ("owner", 1)], "2:1", 30) == ("owner", 1)
    assert limiter.in_use(["all", "owner"]) == [0, 1]
    limiter.release(["all", "owner"], "1:1")
    assert limiter.acquire([("all", None), ("owner", 1)], "2:1", 30) is None


def test_a_rate_window_admits_its_count_then_says_how_long_to_wait(limiter):
    assert [limiter.take("rate", 3, 1.0) for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("rate", 3, 1.0)
    assert 0.5 < wait <= 1.0
    time.sleep(wait + 0.05)
    assert limiter.take("rate", 3, 1.0) == 0


def test_concurrent_takers_never_pass_the_rate(connect):
    taken, start = [], threading.Barrier(10)

    def taker():
        limiter = RedisLimiter(connect())
        start.wait()
        for _ in range(5):
            if limiter.take("rate", 4, 30) == 0:
                taken.append(1)

    workers = [threading.Thread(target=taker) for _ in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(taken) == 4


def test_its_keys_expire_on_their_own(limiter, connect):
    limiter.acquire([("pool", 1)], "1:1", 5)
    limiter.take("rate", 1, 5)
    redis = connect()
    assert 0 < redis.pttl(PREFIX + "pool") <= 10_000
    assert 0 < redis.pttl(PREFIX + "rate") <= 6_000


def test_an_unreachable_redis_is_queue_unavailable():
    limiter = RedisLimiter(redis_connection(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5))
    with pytest.raises(QueueUnavailable, match="take a concurrency slot"):
        limiter.acquire([("pool", 1)], "1:1", 30)
