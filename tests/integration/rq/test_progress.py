"""LiveProgress: the latest value in RQ job meta, throttled, never lost at the end of a burst, never raising."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from rqledger.adapters.rq import LiveProgress, read_live_progress, redis_connection
from tests.integration.rq.processes import wait_for
from tests.services import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def job(redis_url):
    connection = redis.Redis.from_url(redis_url)
    yield Queue("default", connection=connection, serializer=JSONSerializer).enqueue(
        "rqledger.entrypoints.task_entry.run_task", 1, "answer", job_id="1")
    connection.close()


def stored(job) -> int | None:
    return read_live_progress(job.connection, [job.id]).get(job.id)


def test_a_burst_of_reports_costs_a_write_or_two_and_the_last_value_lands(job):
    published = []
    live = LiveProgress(job, interval=0.2, on_write=published.append)

    for percent in range(1000):
        live(percent // 10)

    assert live.writes <= 2
    wait_for(lambda: stored(job) == 99, 1, what="the held-back last value being written")
    assert published[-1] == 99 and len(published) == live.writes
    live.close()


def test_nothing_is_written_after_close(job):
    live = LiveProgress(job, interval=0.2)
    live(10)
    live(20)  # held back by the throttle
    live.close()
    live(30)

    time.sleep(0.3)
    assert stored(job) == 10


def test_reports_are_written_as_they_come_when_they_are_spaced_out(job):
    live = LiveProgress(job, interval=0.05)
    for percent in (10, 20, 30):
        live(percent)
        time.sleep(0.06)
        assert stored(job) == percent
    live.close()


def test_a_dead_redis_costs_the_task_nothing_but_a_warning(job, caplog):
    offline = Job(job.id, connection=redis_connection(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.2),
                  serializer=JSONSerializer)
    live = LiveProgress(offline, interval=0.2)

    live(50)

    assert live.writes == 0 and "live progress of job 1 not saved" in caplog.text
    live.close()
