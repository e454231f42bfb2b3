"""`rqledger cancel / retry / delete ID...`: each id its own line, the others go on after one fails, exit 1 then."""

from __future__ import annotations

import json

import pytest
from dependency_injector import providers

from rqledger.application.errors import StorageUnavailable

from tests.unit.cli_harness import cli, clock, container, work  # noqa: F401


@pytest.fixture
def three(cli, container):
    """Task 1 finished, task 2 failed, task 3 queued."""
    cli("enqueue", "count_words", "--kwargs", '{"text": "a b"}')
    cli("enqueue", "count_words")
    work(container)
    cli("enqueue", "count_words", "--kwargs", '{"text": "c"}')


def status(container, task_id: int) -> str:
    return container.get_task()(task_id).status.value


def test_cancel_cancels_every_id_given(cli, container, three):
    cli("enqueue", "count_words", "--kwargs", '{"text": "d"}')
    result = cli("cancel", "3", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ['Task 3 canceled: count_words(text="c")',
                                          'Task 4 canceled: count_words(text="d")']
    assert status(container, 3) == status(container, 4) == "canceled"


def test_cancel_goes_on_after_a_missing_or_ended_task_and_exits_1(cli, container, three):
    result = cli("cancel", "42", "1", "3")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: task 42 does not exist",
                                          "Error: task 1 cannot go from finished to canceled"]
    assert result.stdout.splitlines() == ['Task 3 canceled: count_words(text="c")']
    assert status(container, 3) == "canceled"


def test_retry_queues_failed_tasks_again_and_refuses_a_finished_one(cli, container, three):
    result = cli("retry", "2", "1")
    assert result.exit_code == 1
    assert result.stdout == "Task 2 queued again: count_words()\n"
    assert result.stderr == "Error: task 1 cannot go from finished to queued\n"
    assert status(container, 2) == "queued"


def test_delete_deletes_ended_tasks_and_refuses_an_active_one(cli, container, three):
    result = cli("delete", "1", "3", "2")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["Task 1 deleted.", "Task 2 deleted."]
    assert result.stderr == "Error: task 3 is queued; only ended tasks can be deleted (cancel it first)\n"
    assert [t["id"] for t in json.loads(cli("tasks", "--json").stdout)["items"]] == [3]


def test_an_id_given_twice_is_done_once(cli, container, three):
    result = cli("cancel", "3", "3")
    assert (result.exit_code, result.stdout.count("Task 3 canceled")) == (0, 1)


@pytest.mark.parametrize("command", ["cancel", "retry", "delete"])
def test_ids_are_required_and_must_be_numbers(cli, command):
    assert cli(command).exit_code == 2  # click: usage
    result = cli(command, "abc")
    assert result.exit_code == 2 and "'abc' is not a valid integer" in result.output


def test_a_storage_error_names_the_id_it_stopped_at(cli, container, three):
    def broken(task_id, reason="canceled by user"):
        raise StorageUnavailable("the database is down")

    container.cancel_task.override(providers.Object(broken))
    result = cli("cancel", "3", "1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: task 3: the database is down", "Error: task 1: the database is down"]


@pytest.mark.parametrize("command", ["cancel", "retry", "delete"])
def test_every_command_says_what_it_does(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0 and "ID..." in result.output
    assert len(result.output.split("\n\n")[1].strip()) > 10
