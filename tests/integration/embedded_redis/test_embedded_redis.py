"""The embedded Redis of `rqledger dev`: a real server that an RQ worker in another process works with."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from rqledger.adapters.embedded_redis import EmbeddedRedis, EmbeddedRedisFailed


@pytest.fixture
def embedded():
    server = EmbeddedRedis()
    server.start()
    yield server
    server.stop()


def wait_for(predicate, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_it_answers_on_its_url_and_keeps_nothing_on_disk(embedded):
    client = redis.Redis.from_url(embedded.url)
    assert client.ping()
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    client.close()


def test_an_rq_worker_in_another_process_runs_jobs_and_scheduled_jobs(embedded):
    connection = redis.Redis.from_url(embedded.url)
    queue = Queue("default", connection=connection, serializer=JSONSerializer)
    now = queue.enqueue("math.factorial", 5)
    later = queue.enqueue_in(timedelta(seconds=1), "operator.add", 2, 3)
    worker = subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "--url", embedded.url, "--serializer", "json",
                               "--with-scheduler", "default"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def finished():
            return all(Job.fetch(j.id, connection=connection, serializer=JSONSerializer).is_finished
                       for j in (now, later))

        assert wait_for(finished, timeout=20)
        assert Job.fetch(now.id, connection=connection, serializer=JSONSerializer).return_value() == 120
        assert Job.fetch(later.id, connection=connection, serializer=JSONSerializer).return_value() == 5
    finally:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait()
        connection.close()


def test_stop_ends_the_server(embedded):
    pid = embedded.pid
    embedded.stop()
    assert embedded.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_two_servers_get_ports_of_their_own():
    with EmbeddedRedis() as first, EmbeddedRedis() as second:
        assert first.port != second.port
        assert redis.Redis.from_url(second.url).ping()


def test_a_server_that_cannot_start_says_why():
    with pytest.raises(EmbeddedRedisFailed, match="did not start"):
        EmbeddedRedis(executable="/bin/false").start(timeout=2)
