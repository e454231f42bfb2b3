"""GET /metrics: Prometheus text built from the ledger and the queue (memory adapters, Flask test client)."""

from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from rqledger.adapters.memory import InMemoryWorker
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from rqledger.entrypoints.web import create_app


@pytest.fixture
def container():
    return build_container(load_settings({"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory",
                                          "RQLEDGER_QUEUES": "default,mail", "RQLEDGER_TASK_MODULES": "rqledger.demo"}))


def scrape(container) -> dict:
    response = create_app(container).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}


def samples(family, name=None) -> dict:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if name is None or s.name == name}


def test_counts_tasks_by_name_and_status_and_the_waiting_jobs(container):
    enqueue = container.enqueue_task()
    enqueue(TaskRequest("count_words", kwargs={"text": "a b"}))
    enqueue(TaskRequest("count_words"))  # neither text nor url: fails
    InMemoryWorker(container.queue(), container.run_task()).work()
    enqueue(TaskRequest("example", [1]))

    metrics = scrape(container)

    assert samples(metrics["rqledger_tasks"]) == {
        (("name", "count_words"), ("status", "finished")): 1,
        (("name", "count_words"), ("status", "failed")): 1,
        (("name", "example"), ("status", "queued")): 1,
    }
    assert samples(metrics["rqledger_queue_depth"]) == {(("queue", "default"),): 1, (("queue", "mail"),): 0}
    assert samples(metrics["rqledger_queue_up"]) == {(): 1}


def test_attempt_durations_are_a_histogram_by_name_and_outcome(container):
    enqueue = container.enqueue_task()
    enqueue(TaskRequest("count_words", kwargs={"text": "a"}))
    enqueue(TaskRequest("count_words", kwargs={"text": "b"}))
    InMemoryWorker(container.queue(), container.run_task()).work()

    family = scrape(container)["rqledger_task_duration_seconds"]

    assert family.type == "histogram"
    counts = samples(family, "rqledger_task_duration_seconds_count")
    assert counts == {(("name", "count_words"), ("outcome", "finished")): 2}
    buckets = samples(family, "rqledger_task_duration_seconds_bucket")
    assert buckets[(("le", "+Inf"), ("name", "count_words"), ("outcome", "finished"))] == 2
    assert buckets[(("le", "10.0"), ("name", "count_words"), ("outcome", "finished"))] == 2


def test_counts_runs_by_schedule_and_status(container):
    at = datetime.now(timezone.utc) - timedelta(seconds=5)
    schedule, _ = container.register_schedule()(ScheduleRequest("count_words", kwargs={"text": "x"}, at=at))
    container.scheduler().fire_due(container.run_schedule())

    metrics = scrape(container)

    assert samples(metrics["rqledger_schedule_runs"]) == {
        (("name", "count_words"), ("schedule_id", str(schedule.id)), ("status", "finished")): 1}
    assert samples(metrics["rqledger_schedules"]) == {(("name", "count_words"), ("status", "death")): 1}


def test_an_empty_ledger_still_answers(container):
    metrics = scrape(container)
    assert samples(metrics["rqledger_tasks"]) == {}
    assert samples(metrics["rqledger_queue_depth"]) == {(("queue", "default"),): 0, (("queue", "mail"),): 0}


def test_needs_the_token_when_one_is_set():
    container = build_container(load_settings({"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory",
                                               "RQLEDGER_API_TOKEN": "s3cret"}))
    client = create_app(container).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_a_paused_queue_is_1_in_rqledger_queue_paused(container):
    container.pause_queue()("mail", reason="the relay is down")

    paused = samples(scrape(container)["rqledger_queue_paused"])

    assert paused == {(("queue", "default"),): 0, (("queue", "mail"),): 1}
    container.resume_queue()("mail")
    assert samples(scrape(container)["rqledger_queue_paused"])[(("queue", "mail"),)] == 0
