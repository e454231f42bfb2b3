"""A worker leaves its pubsub channel at once: burst, SIGTERM and `docker compose stop` do not wait a minute."""

from __future__ import annotations

import time

import pytest

from rqledger.adapters.rq import LedgerSimpleWorker, LedgerWorker
from rqledger.entrypoints.worker import build_worker

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("worker_class", [LedgerWorker, LedgerSimpleWorker])
def test_the_pubsub_thread_is_told_to_stop_before_the_unsubscribe_reply_can_wake_it(memory_container, worker_class):
    worker = build_worker(memory_container, ["default"], worker_class=worker_class)
    worker.subscribe()
    thread = worker.pubsub_thread
    sent = worker.pubsub.unsubscribe
    running_when_sent = []

    def unsubscribe(*channels):
        # RQ sent UNSUBSCRIBE with the thread still running: when the thread read the reply first it
        # went back to a 60 s wait, and redis-py 8.2's stop() then waited for it without a limit
        running_when_sent.append(thread._running.is_set())
        return sent(*channels)

    worker.pubsub.unsubscribe = unsubscribe
    began = time.monotonic()
    worker.unsubscribe()
    assert running_when_sent == [False]
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - began < 5


def test_a_worker_subscribed_and_unsubscribed_twenty_times_never_waits(memory_container):
    for _ in range(20):
        worker = build_worker(memory_container, ["default"], worker_class=LedgerSimpleWorker)
        worker.subscribe()
        began = time.monotonic()
        worker.unsubscribe()
        assert time.monotonic() - began < 2
