"""`--json` of every read command has the HTTP API's fields: each record is compared to the API's own schema."""

from __future__ import annotations

import json

import pytest

from rqledger.application.ports import TaskQuery
from rqledger.entrypoints.web.api.schedules import _Detail
from rqledger.entrypoints.web.records import RunOut, ScheduleDetailOut, ScheduleOut, TaskDetailOut, task_json
from tests.unit.cli_harness import cli, clock, container, work  # noqa: F401


@pytest.fixture
def ledger(cli, container, clock):
    """A finished, a failed (with retry policy from its type, if any) and a queued task; a schedule that ran once."""
    cli("enqueue", "count_words", "--kwargs", '{"text": "a b"}', "--owner", "ann")
    cli("enqueue", "count_words")
    work(container)
    cli("enqueue", "example", "1")
    cli("schedules", "add", "count_words", "--kwargs", '{"text": "x"}', "--at", "2026-01-05T09:00:00",
        "--interval", "60", "--owner", "ann")
    clock.advance(1)
    container.scheduler().fire_due(container.run_schedule())
    work(container)


def test_tasks_json_is_the_api_listing(cli, container, ledger):
    page = json.loads(cli("tasks", "--json", "--limit", "2").stdout)
    expected = container.list_tasks()(TaskQuery(limit=2))
    assert page == {"items": [task_json(t) for t in expected.items], "next_cursor": str(expected.next_cursor)}


def test_show_json_is_the_api_task_detail(cli, container, ledger):
    for task_id in (1, 2, 3):
        assert json.loads(cli("show", task_id, "--json").stdout) == TaskDetailOut().dump(container.get_task()(task_id))


def test_schedules_json_is_the_api_listing_and_detail(cli, container, ledger):
    schedule, runs = container.get_schedule()(1)
    assert runs, "the schedule ran once"
    assert json.loads(cli("schedules", "list", "--json").stdout) == {"items": [ScheduleOut().dump(schedule)],
                                                                     "next_cursor": None}
    detail = json.loads(cli("schedules", "show", "1", "--json").stdout)
    assert detail == ScheduleDetailOut().dump(_Detail(schedule, runs))
    assert detail["runs"] == [RunOut().dump(run) for run in runs]
