"""RqTaskQueue against a real Redis: jobs are ordinary RQ jobs, batches go in one pipeline, errors are ours."""

from __future__ import annotations

import json
import time
import zlib

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.adapters.rq import RqTaskQueue, describe_call, redis_connection
from rqledger.application.errors import QueueUnavailable, TaskNotQueued
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import Task, TaskStatus
from tests.services import free_port


def fetch(container, task_id) -> Job:
    return Job.fetch(str(task_id), connection=container.rq_connection(), serializer=JSONSerializer)


def test_a_task_becomes_an_ordinary_rq_job_named_by_its_row_id(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("greet", kwargs={"name": "세계"}, timeout=30))

    job = fetch(memory_container, task.id)
    assert job.func_name == "rqledger.entrypoints.task_entry.run_task"
    assert job.args == [task.id, "greet"]
    assert job.origin == "default" and job.timeout == 30
    assert job.description == "greet(name='세계')"
    assert job.get_status() == JobStatus.QUEUED
    raw = zlib.decompress(memory_container.rq_connection().hget(job.key, "data"))
    assert json.loads(raw) == ["rqledger.entrypoints.task_entry.run_task", None, [task.id, "greet"], {}]  # JSON, never pickle


def test_a_batch_goes_to_each_queue_in_one_pipeline(memory_container):
    queue = memory_container.queue()
    requests = [TaskRequest("answer", queue="other" if i % 3 == 0 else None) for i in range(30)]
    connection = memory_container.rq_connection()
    before = connection.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)

    tasks = memory_container.enqueue_task().many(requests)

    after = connection.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)
    assert after - before == 1  # one MULTI/EXEC for the whole batch
    assert len(queue.queue("default")) == 20 and len(queue.queue("other")) == 10
    assert {int(i) for i in queue.queue("other").job_ids} == {t.id for t in tasks if t.queue == "other"}


def test_a_scheduled_enqueue_waits_in_rqs_scheduled_registry(memory_container):
    queue = memory_container.queue()
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    queue.queue("default").empty()

    queue.enqueue(task, delay=30)

    assert str(task.id) in queue.queue("default").scheduled_job_registry.get_job_ids()
    assert fetch(memory_container, task.id).get_status() == JobStatus.SCHEDULED


def test_canceling_a_queued_task_withdraws_its_job(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("answer"))

    memory_container.cancel_task()(task.id)

    assert fetch(memory_container, task.id).get_status() == JobStatus.CANCELED
    assert len(memory_container.queue().queue("default")) == 0


def test_canceling_a_task_whose_job_is_gone_is_not_an_error(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    fetch(memory_container, task.id).delete()

    assert memory_container.cancel_task()(task.id).status is TaskStatus.CANCELED


def test_a_user_retry_enqueues_a_clean_job_again(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    memory_container.cancel_task()(task.id)
    job = fetch(memory_container, task.id)
    job.meta["progress"] = 77
    job.save_meta()

    memory_container.retry_task()(task.id)

    job = fetch(memory_container, task.id)
    assert job.get_status() == JobStatus.QUEUED
    assert "progress" not in job.meta
    assert str(task.id) not in memory_container.queue().queue("default").canceled_job_registry.get_job_ids()


def test_live_progress_is_read_from_job_meta_in_one_go(memory_container):
    first, second, third = memory_container.enqueue_task().many([TaskRequest("answer")] * 3)
    for task, percent in ((first, 40), (second, 75)):
        job = fetch(memory_container, task.id)
        job.meta["progress"] = percent
        job.save_meta()

    live = memory_container.queue().live_progress([first.id, second.id, third.id, 999999])

    assert live == {first.id: 40, second.id: 75}


def test_an_enqueue_to_a_closed_port_fails_the_row_within_two_seconds(memory_container):
    closed = redis_connection(f"redis://127.0.0.1:{free_port()}/0")
    enqueue = memory_container.enqueue_task()
    enqueue.queue = RqTaskQueue(closed)
    started = time.monotonic()

    with pytest.raises(TaskNotQueued, match="could not be queued") as raised:
        enqueue(TaskRequest("answer"))

    assert time.monotonic() - started < 2
    row = memory_container.get_task()(raised.value.task.id)
    assert row.status is TaskStatus.FAILED
    assert "the queue could not take it" in row.log and "Redis could not enqueue" in row.log


def test_redis_errors_never_cross_the_port():
    queue = RqTaskQueue(redis_connection(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5))
    task = Task(name="answer", id=1)

    for call in (lambda: queue.enqueue(task), lambda: queue.enqueue(task, delay=5), lambda: queue.cancel(task),
                 lambda: queue.live_progress([1]), lambda: queue.enqueue_many([task])):
        with pytest.raises(QueueUnavailable, match="Redis could not"):
            call()


def test_a_description_shortens_long_arguments():
    task = Task(name="count_words", args=["x" * 500], kwargs={"top": 3})

    assert describe_call(task) == f"count_words('{'x' * 56}..., top=3)"


def test_a_delayed_enqueue_is_never_due_early(memory_container):
    queue = memory_container.queue()
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    before = time.time()

    queue.enqueue(task, delay=1.2)

    score = memory_container.rq_connection().zscore(queue.queue("default").scheduled_job_registry.key, str(task.id))
    assert before + 1.2 <= score < before + 3.2


@pytest.mark.parametrize("now,delay,interval", [(100.0, 1, 1), (100.3, 1, 2), (100.9, 0.5, 2), (100.5, 0, 0)])
def test_a_retry_interval_given_to_rq_never_runs_early(now, delay, interval):
    from rqledger.adapters.rq.delivery import retry_interval

    assert retry_interval(delay, now) == interval
    assert interval == 0 or int(now + interval) >= now + delay  # RQ drops the fraction of now + interval


def test_canceling_a_task_waiting_for_its_retry_withdraws_the_scheduled_job(memory_container):
    queue = memory_container.queue()
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    queue.enqueue(task, delay=30)  # as a retry by policy would be

    memory_container.cancel_task()(task.id)

    assert str(task.id) not in queue.queue("default").scheduled_job_registry.get_job_ids()
    assert fetch(memory_container, task.id).get_status() == JobStatus.CANCELED


def _subscribed(container):
    from rqledger.adapters.redis_events import channel_for

    pubsub = container.rq_connection().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_for(container.config.redis_url()))
    return pubsub


def _received(pubsub, count: int, timeout: float = 3.0) -> list[dict]:
    events, deadline = [], time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            events.append(json.loads(message["data"]))
    return events


def test_the_enqueue_event_travels_in_the_jobs_pipeline_not_on_a_round_trip_of_its_own(memory_container):
    pubsub = _subscribed(memory_container)
    task = memory_container.enqueue_task()(TaskRequest("answer"))
    assert _received(pubsub, 1) == [{"kind": "task", "id": task.id, "name": "answer", "status": "queued",
                                     "progress": 0, "owner": None}]
    assert memory_container.events()._client is None  # the publisher never needed a connection of its own
    pubsub.close()


def test_the_enqueue_event_carries_the_task_s_owner(memory_container):
    pubsub = _subscribed(memory_container)
    memory_container.enqueue_task().many([TaskRequest("answer", owner=7), TaskRequest("answer", owner="ann")])
    assert [e["owner"] for e in _received(pubsub, 2)] == ["7", "ann"]
    pubsub.close()


def test_a_batch_announces_every_task_in_order_in_its_one_pipeline(memory_container):
    pubsub = _subscribed(memory_container)
    tasks = memory_container.enqueue_task().many([TaskRequest("answer") for _ in range(25)])
    assert [e["id"] for e in _received(pubsub, 25)] == [t.id for t in tasks]
    assert memory_container.events()._client is None
    pubsub.close()


def test_without_a_publisher_the_queue_leaves_the_events_to_the_caller(redis_url):
    connection = redis_connection(redis_url)
    queue = RqTaskQueue(connection)
    events = [{"kind": "task", "id": 7}]
    assert queue.enqueue_many([Task(id=7, name="answer")], events=events) == events
    connection.close()
