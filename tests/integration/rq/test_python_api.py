"""The Python API against real services: a `Ledger` in this process, a real `rqledger worker` beside it."""

from __future__ import annotations

import pytest
from rq import Queue

from rqledger import DuplicateUniqueTask, Ledger, TaskNotFound, set_default_ledger
from tests.integration.rq.conftest import TASK_MODULE
from tests.integration.rq.tasks import export_user_posts

pytestmark = pytest.mark.integration


@pytest.fixture
def app_ledger(ledger_env):
    """What an app builds: a Ledger on the service's database and Redis, made the default for task.enqueue()."""
    ledger = Ledger(database_url=ledger_env["DATABASE_URL"], redis_url=ledger_env["REDIS_URL"],
                    task_modules=[TASK_MODULE])
    set_default_ledger(ledger)
    yield ledger
    set_default_ledger(None)
    ledger.container.rq_connection().close()
    ledger.close()


def test_a_task_enqueued_from_python_runs_on_a_worker_and_its_result_comes_back(app_ledger, start_worker):
    task = export_user_posts.using(owner=7).enqueue(42)
    assert (task.status, task.owner) == ("queued", "7")
    start_worker("--burst")
    done = app_ledger.wait(task.id, timeout=60)
    assert (done.status, done.result, done.owner, done.attempts) == ("finished", {"user": 42, "posts": 3}, "7", 1)
    assert [a.outcome for a in done.history] == ["finished"]


def test_a_unique_task_is_refused_for_the_same_owner_while_one_is_queued(app_ledger):
    first = app_ledger.enqueue("export_user_posts", args=[1], owner=7)
    with pytest.raises(DuplicateUniqueTask, match=f"task {first.id} is already queued or running for owner '7'"):
        export_user_posts.using(owner="7").enqueue(2)
    assert export_user_posts.using(owner=8).enqueue(2).owner == "8"


def test_reads_cancel_retry_and_delete_go_through_the_ledger(app_ledger):
    task = app_ledger.enqueue("greet", args=["Ada"], description="hello")
    assert app_ledger.get(task.id).description == "hello"
    assert app_ledger.cancel(task.id).status == "canceled"
    assert app_ledger.retry(task.id).status == "queued"
    assert Queue("default", connection=app_ledger.container.rq_connection()).count == 1
    app_ledger.cancel(task.id)
    app_ledger.delete(task.id)
    with pytest.raises(TaskNotFound):
        app_ledger.get(task.id)


def test_waiting_too_long_says_how_the_task_stands(app_ledger):
    task = app_ledger.enqueue("answer")
    with pytest.raises(TimeoutError, match=f"task {task.id} \\(answer\\) is still queued after 0.2 s"):
        app_ledger.wait(task.id, timeout=0.2)


def test_a_task_running_on_a_worker_may_enqueue_another(app_ledger, start_worker):
    parent = app_ledger.enqueue("fan_out", args=[5])
    start_worker("--burst")
    done = app_ledger.wait(parent.id, timeout=60)
    child = app_ledger.wait(done.result["child"], timeout=60)
    assert (done.status, child.status, child.owner, child.result) == ("finished", "finished", "5",
                                                                      {"user": 5, "posts": 3})
