"""The Redis pub/sub events adapter: cheap, never raising, one channel per database, resync after an outage."""

from __future__ import annotations

import time

import pytest

from rqledger.adapters.embedded_redis import EmbeddedRedis
from rqledger.adapters.redis_events import RedisEventFeed, RedisEventPublisher, RedisPing
from rqledger.application.errors import QueueUnavailable
from tests.api.processes import wait_for
from tests.services import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def feeds():
    started: list[RedisEventFeed] = []

    def start(url: str) -> tuple[RedisEventFeed, list]:
        feed, received = RedisEventFeed(url, poll=0.2, max_pause=0.5), []
        feed.subscribe(received.append)
        started.append(feed)
        assert feed.connected.wait(5)
        return feed, received

    yield start
    for feed in started:
        feed.close()


def test_published_events_reach_subscribers(redis_url, feeds):
    _, received = feeds(redis_url)
    publisher = RedisEventPublisher(redis_url)
    publisher.publish({"kind": "task", "id": 1, "status": "running", "progress": 40})
    assert wait_for(lambda: received, 2) == [{"kind": "task", "id": 1, "status": "running", "progress": 40}]
    publisher.close()


def test_another_database_number_is_another_channel(redis_url, feeds):
    other = redis_url.rsplit("/", 1)[0] + "/0"
    _, mine = feeds(redis_url)
    _, theirs = feeds(other)
    RedisEventPublisher(other).publish({"kind": "task", "id": 2})
    RedisEventPublisher(redis_url).publish({"kind": "task", "id": 1})
    wait_for(lambda: mine and theirs, 2)
    time.sleep(0.2)
    assert mine == [{"kind": "task", "id": 1}] and theirs == [{"kind": "task", "id": 2}]


def test_publishing_to_a_dead_redis_neither_raises_nor_waits():
    publisher = RedisEventPublisher(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    for _ in range(100):
        publisher.publish({"kind": "task", "id": 1})
    assert time.monotonic() - started < 2


def test_the_ping_raises_queue_unavailable_without_the_password():
    ping = RedisPing(f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    with pytest.raises(QueueUnavailable, match="does not answer") as caught:
        ping()
    assert "hunter2" not in str(caught.value)


def test_after_redis_comes_back_subscribers_are_told_to_resync(feeds):
    port = free_port()
    redis = EmbeddedRedis(port=port)
    redis.start()
    try:
        feed, received = feeds(redis.url)
        redis.stop()
        wait_for(lambda: not feed.connected.is_set(), 5, what="the feed noticing Redis is gone")
        redis = EmbeddedRedis(port=port)
        redis.start()
        wait_for(lambda: {"kind": "resync"} in received, 10, what="a resync event")
        RedisEventPublisher(redis.url).publish({"kind": "task", "id": 9})
        wait_for(lambda: {"kind": "task", "id": 9} in received, 2)
    finally:
        redis.stop()


def test_publish_many_sends_them_all_in_order_in_one_round_trip(redis_url, feeds):
    _, received = feeds(redis_url)
    publisher = RedisEventPublisher(redis_url)
    publisher.publish_many([{"kind": "task", "id": i} for i in range(1, 6)])
    assert wait_for(lambda: len(received) == 5, 2)
    assert [e["id"] for e in received] == [1, 2, 3, 4, 5]
    publisher.publish_many([])
    publisher.close()


def test_publish_many_to_a_dead_redis_neither_raises_nor_waits():
    publisher = RedisEventPublisher(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    for _ in range(50):
        publisher.publish_many([{"kind": "task", "id": 1}, {"kind": "task", "id": 2}])
    assert time.monotonic() - started < 2
