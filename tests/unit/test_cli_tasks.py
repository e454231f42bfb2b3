"""`rqledger enqueue / tasks / show / purge` on the memory adapters, through click's test runner."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from dependency_injector import providers

from rqledger.adapters.memory import FixedClock, InMemoryWorker
from rqledger.entrypoints.cli import main
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings


@pytest.fixture
def container():
    return build_container(load_settings({"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory",
                                          "RQLEDGER_TASK_MODULES": "rqledger.demo"}))


@pytest.fixture
def cli(container):
    runner = CliRunner(env={"COLUMNS": "200"})  # rich's width: whole rows in the output

    def invoke(*args):
        return runner.invoke(main, list(args), obj=container, catch_exceptions=False)

    return invoke


def work(container):
    InMemoryWorker(container.queue(), container.run_task()).work()


@pytest.fixture
def worker_thread(container):
    """A worker that keeps draining the memory queue while a command waits."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            work(container)
            stop.wait(0.02)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def test_enqueue_parses_each_arg_as_json_when_it_parses(cli, container):
    result = cli("enqueue", "count_words", "--kwargs", '{"text": "a b a"}')
    assert result.exit_code == 0, result.output
    assert "Task 1 queued" in result.output
    cli("enqueue", "send_mail", "Hello", '["ada@example.test"]', "welcome", '{"name": "Ada"}')
    task = container.get_task()(2)
    assert task.args == ["Hello", ["ada@example.test"], "welcome", {"name": "Ada"}]


def test_enqueue_wait_shows_the_result_and_exits_0_when_finished(cli, worker_thread):
    result = cli("enqueue", "count_words", "--kwargs", '{"text": "to be or not to be"}', "--wait")
    assert result.exit_code == 0, result.output
    assert "100%" in result.output and "finished" in result.output
    assert '"words": 6' in result.output


def test_enqueue_wait_shows_the_log_and_exits_1_when_failed(cli, worker_thread):
    result = cli("enqueue", "count_words", "--wait")
    assert result.exit_code == 1
    assert "failed. Log:" in result.output
    assert "ValueError: give exactly one of 'text' or 'url'" in result.output


@pytest.mark.parametrize("args,message", [
    (["nope"], "Error: no task type is registered under the name 'nope'"),
    (["example", "soon"], "Error: argument 'seconds' of example must be an integer, got string 'soon'"),
    (["example", "--kwargs", "{oops"], "Error: --kwargs is not valid JSON"),
    (["example", "--kwargs", "[1]"], "Error: --kwargs must be a JSON object"),
])
def test_enqueue_errors_are_one_line(cli, args, message):
    result = cli("enqueue", *args)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unreachable_queue_is_one_line_and_leaves_a_failed_row(cli, container):
    container.queue().available = False
    result = cli("enqueue", "example", "1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: task 1 could not be queued")
    assert container.get_task()(1).status.value == "failed"


def test_tasks_lists_newest_first_and_filters_by_status(cli, container):
    cli("enqueue", "count_words", "--kwargs", '{"text": "x"}')
    cli("enqueue", "count_words")
    work(container)
    cli("enqueue", "example", "5")

    table = cli("tasks").output
    assert table.index("example(5)") < table.index('count_words(text="x")')
    failed = cli("tasks", "--status", "failed").output
    assert "count_words()" in failed and "example" not in failed and "finished" not in failed
    listed = json.loads(cli("tasks", "--status", "queued,finished", "--json").output)
    assert [(t["id"], t["status"]) for t in listed["items"]] == [(3, "queued"), (1, "finished")]


def test_tasks_refuses_an_unknown_status(cli):
    result = cli("tasks", "--status", "done")
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown status done")


def test_show_prints_the_whole_task(cli, container):
    cli("enqueue", "count_words", "--kwargs", '{"text": "hi"}')
    work(container)
    output = cli("show", "1").output
    for expected in ("count_words", "finished", '"words": 1', "attempts", '"text": "hi"'):
        assert expected in output
    assert json.loads(cli("show", "1", "--json").output)["history"][0]["outcome"] == "finished"


def test_show_of_a_missing_task_is_one_line(cli):
    result = cli("show", "42")
    assert (result.exit_code, result.output) == (1, "Error: task 42 does not exist\n")


def test_purge_deletes_what_ended_before_the_age_and_says_how_many(cli, container):
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    container.clock.override(providers.Object(clock))
    for _ in range(3):
        cli("enqueue", "count_words", "--kwargs", '{"text": "x"}')
    work(container)
    clock.advance(timedelta(days=8).total_seconds())
    cli("enqueue", "count_words", "--kwargs", '{"text": "y"}')
    work(container)

    result = cli("purge", "--older-than", "7")

    assert result.exit_code == 0, result.output
    assert "Deleted 3 tasks and 0 runs that ended more than 7 days ago." in result.output
    assert [t["id"] for t in json.loads(cli("tasks", "--json").output)["items"]] == [4]


def test_purge_refuses_active_statuses_and_needs_an_age(cli):
    result = cli("purge", "--older-than", "1", "--status", "running")
    assert result.exit_code == 1 and result.output.startswith("Error: only ended tasks and runs are purged")
    assert cli("purge").exit_code == 2  # click: missing --older-than


@pytest.mark.parametrize("command", ["enqueue", "tasks", "show", "purge", "cancel", "retry", "delete", "schedules",
                                     "queues", "workers", "failures"])
def test_every_command_says_what_it_does(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert len(result.output.split("\n\n")[1].strip()) > 10


def test_tasks_fits_80_columns_with_long_calls_cut_and_wide_shows_them_whole(container):
    runner = CliRunner(env={"COLUMNS": "80"})

    def invoke(*args):
        return runner.invoke(main, list(args), obj=container, catch_exceptions=False)

    invoke("enqueue", "send_mail", "A subject long enough to be cut", '["ada@example.test", "bob@example.test"]',
           "welcome", '{"name": "Ada Lovelace"}')
    invoke("enqueue", "count_words", "--kwargs", '{"text": "short"}')
    work(container)

    narrow = invoke("tasks").output.splitlines()
    assert len(narrow) == 4  # header, rule, one line per task
    assert max(len(line.rstrip()) for line in narrow) <= 80
    assert 'send_mail("A subject' in narrow[3] and narrow[3].split("…")[1].split()[0] == "failed"
    assert 'count_words(text="short")' in narrow[2]
    wide = invoke("tasks", "--wide").output.splitlines()
    assert len(wide) == 4
    assert ('send_mail("A subject long enough to be cut", ["ada@example.test", "bob@example.test"], "welcome", '
            '{"name": "Ada Lovelace"})') in wide[3]


def test_tasks_pages_with_a_cursor_and_its_json_is_the_api_page(cli, container):
    for text in "abc":
        cli("enqueue", "count_words", "--kwargs", json.dumps({"text": text}))
    first = json.loads(cli("tasks", "--json", "--limit", "2").output)
    assert ([t["id"] for t in first["items"]], first["next_cursor"]) == ([3, 2], "2")
    assert "history" not in first["items"][0]  # a listing, as GET /api/tasks
    second = json.loads(cli("tasks", "--json", "--limit", "2", "--cursor", "2").output)
    assert ([t["id"] for t in second["items"]], second["next_cursor"]) == ([1], None)
    assert "(more: --cursor 2)" in cli("tasks", "--limit", "2").output
    result = cli("tasks", "--cursor", "abc")
    assert result.exit_code == 1 and result.output.startswith("Error: --cursor takes the next_cursor")
