"""`rqledger queues` on the memory queue (tests/integration/cli/ has it on Redis), and `workers` without RQ."""

from __future__ import annotations

import json

from tests.unit.cli_harness import cli, clock, container, work  # noqa: F401


def test_queues_counts_waiting_jobs_and_the_ledgers_queued_tasks(cli, container):
    cli("enqueue", "count_words", "--kwargs", '{"text": "a"}')
    work(container)
    cli("enqueue", "count_words", "--kwargs", '{"text": "b"}')
    cli("enqueue", "count_words", "--kwargs", '{"text": "c"}')

    cli("enqueue", "count_words", "--kwargs", '{"text": "d"}', "--priority", "high")

    report = json.loads(cli("queues", "--json").stdout)

    assert report == {"items": [{"name": "default", "paused": False, "paused_at": None, "paused_by": None,
                                 "reason": None, "waiting": {"high": 1, "normal": 2, "low": 0}, "queued": 3,
                                 "running": 0}]}
    lines = cli("queues").stdout.splitlines()
    assert lines[0].split() == ["Queue", "State", "Waiting", "High", "Normal", "Low", "Queued", "Running"]
    assert lines[2].split() == ["default", "running", "3", "1", "2", "0", "3", "0"]


def test_queues_pause_and_resume_hold_the_tasks_and_let_them_go(cli, container):
    paused = cli("queues", "pause", "default", "--reason", "maintenance", "--by", "ops")
    assert paused.exit_code == 0 and "queue 'default' is paused" in paused.stdout
    task_id = int(cli("enqueue", "count_words", "--kwargs", '{"text": "a"}').stdout.split()[1])
    assert work(container) == 0
    shown = json.loads(cli("show", str(task_id), "--json").stdout)
    assert shown["status"] == "queued" and shown["waiting"].endswith("by ops: maintenance)")
    report = json.loads(cli("queues", "--json").stdout)["items"][0]
    assert (report["paused"], report["paused_by"], report["reason"]) == (True, "ops", "maintenance")
    assert "paused" in cli("queues").stdout.splitlines()[2]

    resumed = cli("queues", "resume", "default")
    assert (resumed.exit_code, resumed.stdout) == (0, "Queue 'default' resumed.\n")
    assert work(container) == 1
    assert cli("queues", "resume", "default").stdout == "Queue 'default' was not paused.\n"


def test_pausing_a_queue_that_is_not_served_is_one_line(cli):
    result = cli("queues", "pause", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: queue 'nope' is not served here") and result.stderr.count("\n") == 1


def test_workers_needs_the_rq_backend(cli):
    result = cli("workers")
    assert (result.exit_code, result.stderr) == (
        1, "Error: `rqledger workers` needs the rq queue backend (RQLEDGER_QUEUE_BACKEND=rq)\n")


def test_queues_and_workers_say_what_they_do(cli):
    for command in ("queues", "workers"):
        result = cli(command, "--help")
        assert result.exit_code == 0 and "--json" in result.output
