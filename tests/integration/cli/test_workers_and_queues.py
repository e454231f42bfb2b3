"""`rqledger workers` and `rqledger queues` against a real Redis, each test on a Redis database of its own."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from rq import Queue, Worker

from rqledger.entrypoints.cli import main
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def container(redis_url):
    """A memory ledger with the rq queue backend on this test's Redis database."""
    built = build_container(load_settings({
        "RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "rq", "REDIS_URL": redis_url,
        "RQLEDGER_TASK_MODULES": "rqledger.demo", "RQLEDGER_QUEUES": "default,other"}))
    yield built
    built.rq_connection().close()


@pytest.fixture
def cli(container):
    runner = CliRunner(env={"COLUMNS": "80"})

    def invoke(*args):
        return runner.invoke(main, list(args), obj=container, catch_exceptions=False)

    return invoke


def registered_worker(connection, name: str, queues=("default",)) -> Worker:
    """A worker as RQ registers it when it starts (birth, state, heartbeat), without running it."""
    worker = Worker(list(queues), connection=connection, name=name)
    worker.register_birth()
    worker.heartbeat()
    return worker


def test_workers_lists_each_registered_worker_with_its_current_task(cli, container):
    connection = container.rq_connection()
    cli("enqueue", "example", "1")  # job id "1"
    busy = registered_worker(connection, "busy-one")
    busy.set_state("busy")
    busy.prepare_execution(Queue("default", connection=connection).fetch_job("1"))
    idle = registered_worker(connection, "idle-one", queues=("default", "other"))
    idle.set_state("idle")

    report = json.loads(cli("workers", "--json").output)

    by_name = {w["name"]: w for w in report["items"]}
    assert sorted(by_name) == ["busy-one", "idle-one"]
    assert (by_name["busy-one"]["state"], by_name["busy-one"]["current_task_id"],
            by_name["busy-one"]["current_job_id"]) == ("busy", 1, "1")
    assert (by_name["idle-one"]["state"], by_name["idle-one"]["current_task_id"]) == ("idle", None)
    assert by_name["idle-one"]["queues"] == ["default", "other"]
    assert 0 <= by_name["busy-one"]["heartbeat_age"] < 10
    assert (by_name["busy-one"]["successful_jobs"], by_name["busy-one"]["failed_jobs"]) == (0, 0)

    from rqledger.entrypoints.web import create_app

    client = create_app(container).test_client()
    api = client.get("/api/workers").get_json()
    assert [(w["name"], w["state"], w["current_task_id"]) for w in api["items"]] == [
        ("busy-one", "busy", 1), ("idle-one", "idle", None)]
    page = client.get("/queues").get_data(as_text=True)
    assert 'data-worker-row="busy-one"' in page and 'href="/tasks/1"' in page

    lines = cli("workers").output.splitlines()
    assert lines[0].split() == ["Name", "State", "Task", "Heartbeat", "Done", "Failed", "Queues"]
    assert lines[2].split()[:3] == ["busy-one", "busy", "1"] and "s ago" in lines[2]
    assert lines[3].split()[:3] == ["idle-one", "idle", "-"] and lines[3].split()[-1] == "default,other"
    assert max(len(line.rstrip()) for line in lines) <= 80


def test_workers_says_when_none_is_registered(cli):
    result = cli("workers")
    assert (result.exit_code, result.output) == (0, "No workers registered.\n")
    assert json.loads(cli("workers", "--json").output) == {"items": []}


def test_queues_counts_the_jobs_waiting_in_redis_beside_the_ledgers_rows(cli, container):
    cli("enqueue", "example", "1")
    cli("enqueue", "example", "2")
    cli("enqueue", "example", "3", "--queue", "other")
    cli("enqueue", "example", "4", "--queue", "other", "--priority", "low")
    Queue("default", connection=container.rq_connection()).remove("2")  # a job lost from Redis: the row stays

    report = json.loads(cli("queues", "--json").output)

    idle = {"paused": False, "paused_at": None, "paused_by": None, "reason": None, "running": 0}
    assert report == {"items": [{"name": "default", "waiting": {"high": 0, "normal": 1, "low": 0}, "queued": 2, **idle},
                                {"name": "other", "waiting": {"high": 0, "normal": 1, "low": 1}, "queued": 2, **idle}]}
    lines = cli("queues").output.splitlines()
    assert [line.split() for line in lines[2:4]] == [["default", "running", "1", "0", "1", "0", "2", "0"],
                                                     ["other", "running", "2", "0", "1", "1", "2", "0"]]


def test_an_unreachable_redis_is_one_line():
    broken = build_container(load_settings({
        "RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "rq", "REDIS_URL": "redis://127.0.0.1:1/0"}))
    runner = CliRunner()
    for command in ("workers", "queues"):
        result = runner.invoke(main, [command], obj=broken, catch_exceptions=False)
        assert result.exit_code == 1
        assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
