"""`rqledger schedules list / show / add / cancel / delete` on the memory adapters."""

from __future__ import annotations

import json

import pytest

from rqledger.application.ports import ScheduleQuery
from tests.unit.cli_harness import cli, clock, container, invoker, work  # noqa: F401


def fire_due(container) -> int:
    return container.scheduler().fire_due(container.run_schedule())


def test_add_with_cron_parses_args_like_enqueue_and_says_when_it_runs(cli, container):
    result = cli("schedules", "add", "send_mail", "--arg", "Hello", "--arg", '["ada@example.test"]', "--arg", "welcome",
                 "--kwargs", '{"context": {"name": "Ada"}}', "--cron", "*/5 * * * *", "--owner", "ann",
                 "--description", "weekly hello", "--catch-up", "skip")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('Schedule 1 created: send_mail("Hello", ["ada@example.test"], "welcome", '
                                    'context={"name": "Ada"}), cron */5 * * * *; next run 2026-01-05 09:05:00 UTC.')
    schedule, _ = container.get_schedule()(1)
    assert (schedule.args, schedule.kwargs) == (["Hello", ["ada@example.test"], "welcome"], {"context": {"name": "Ada"}})
    assert (schedule.owner, schedule.description, schedule.timing.cron) == ("ann", "weekly hello", "*/5 * * * *")
    assert schedule.catch_up.value == "skip"


def test_add_at_a_time_without_offset_takes_it_as_utc_and_repeats_by_interval(cli, container):
    result = cli("schedules", "add", "example", "--arg", "1", "--at", "2026-01-05T10:00:00", "--interval", "60",
                 "--repeat", "3")
    assert result.exit_code == 0, result.output
    assert "every 60s from 2026-01-05 10:00:00 UTC, 3 runs; next run 2026-01-05 10:00:00 UTC" in result.stdout
    timing = container.get_schedule()(1)[0].timing
    assert (timing.at.isoformat(), timing.interval, timing.repeat) == ("2026-01-05T10:00:00+00:00", 60, 3)


def test_adding_the_same_call_again_updates_that_schedule(cli):
    cli("schedules", "add", "example", "--arg", "1", "--cron", "0 * * * *")
    result = cli("schedules", "add", "example", "--arg", "1", "--cron", "30 * * * *")
    assert result.stdout.startswith("Schedule 1 updated: example(1), cron 30 * * * *")


@pytest.mark.parametrize("args,message", [
    ([], "give either --cron EXPR or --at ISO"),
    (["--cron", "* * * * *", "--at", "2026-01-05T10:00:00"], "give either --cron EXPR or --at ISO"),
    (["--cron", "* * * * *", "--interval", "60"], "--interval and --repeat go with --at"),
])
def test_add_needs_one_timing_exit_2(cli, args, message):
    result = cli("schedules", "add", "example", "--arg", "1", *args)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("args,message", [
    (["--arg", "soon", "--cron", "* * * * *"], "Error: argument 'seconds' of example must be an integer"),
    (["--arg", "1", "--cron", "61 * * * *"], "Error: "),
    (["--arg", "1", "--at", "tomorrow"], "Error: --at must be an ISO-8601 time"),
    (["--arg", "1", "--at", "2026-01-05T10:00:00", "--repeat", "3"], "Error: "),
    (["--kwargs", "[1]", "--cron", "* * * * *"], "Error: --kwargs must be a JSON object"),
])
def test_add_errors_are_one_line_exit_1(cli, container, args, message):
    result = cli("schedules", "add", "example", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert container.list_schedules()(ScheduleQuery()).items == []


@pytest.fixture
def three(cli):
    """Schedule 1 (ann's, cron), 2 (bob's, once), 3 (ann's, canceled)."""
    cli("schedules", "add", "example", "--arg", "1", "--cron", "0 * * * *", "--owner", "ann")
    cli("schedules", "add", "count_words", "--kwargs", '{"text": "hi"}', "--at", "2026-01-05T09:30:00", "--owner", "bob")
    cli("schedules", "add", "example", "--arg", "2", "--cron", "0 0 * * *", "--owner", "ann")
    cli("schedules", "cancel", "3")


def test_list_shows_newest_first_with_timing_and_next_run(cli, three):
    lines = cli("schedules", "list").stdout.splitlines()
    assert lines[0].split() == ["ID", "Call", "Status", "Timing", "Runs", "Next", "(UTC)", "Last"]
    assert lines[2].split()[:3] == ["3", "example(2)", "death"]
    assert lines[3].split()[:5] == ["2", 'count_words(text="hi")', "running", "once", "0"]
    assert "01-05 10:00:00" in lines[4]


def test_list_filters_by_status_name_and_owner_as_the_api_does(cli, three):
    def ids(*args):
        return [s["id"] for s in json.loads(cli("schedules", "list", "--json", *args).stdout)["items"]]

    assert ids() == [3, 2, 1]
    assert ids("--status", "running") == [2, 1]
    assert ids("--owner", "ann") == [3, 1]
    assert ids("--name", "count_words") == [2]
    assert ids("--status", "death", "--owner", "bob") == []


def test_list_pages_with_limit_and_cursor(cli, three):
    first = json.loads(cli("schedules", "list", "--json", "--limit", "2").stdout)
    assert ([s["id"] for s in first["items"]], first["next_cursor"]) == ([3, 2], "2")
    second = json.loads(cli("schedules", "list", "--json", "--limit", "2", "--cursor", first["next_cursor"]).stdout)
    assert ([s["id"] for s in second["items"]], second["next_cursor"]) == ([1], None)
    assert "(more: --cursor 2)" in cli("schedules", "list", "--limit", "2").stdout


def test_list_refuses_an_unknown_status(cli):
    result = cli("schedules", "list", "--status", "dead")
    assert (result.exit_code, result.stderr) == (1, "Error: unknown status dead; use one of running, failed, death\n")


def test_list_of_nothing_says_so(cli):
    assert cli("schedules", "list").stdout == "No schedules.\n"


def test_show_has_the_schedule_and_its_recent_runs(cli, container, clock, three):
    clock.advance(45 * 60)  # 09:45: the once at 09:30 fires
    assert fire_due(container) == 1
    work(container)
    output = cli("schedules", "show", "2").stdout
    for expected in ('count_words(text="hi")', "owner           bob", "at 2026-01-05 09:30:00 UTC",
                     "finished, for 2026-01-05 09:30:00", "Run  For (UTC)"):
        assert expected in output, output
    detail = json.loads(cli("schedules", "show", "2", "--json").stdout)
    assert [(r["schedule_id"], r["status"]) for r in detail["runs"]] == [(2, "finished")]
    assert detail["last_run"]["status"] == "finished"


def test_show_of_a_missing_schedule_is_one_line(cli):
    result = cli("schedules", "show", "9")
    assert (result.exit_code, result.stderr) == (1, "Error: schedule 9 does not exist\n")


def test_cancel_and_delete_take_several_ids_and_go_on_after_a_missing_one(cli, container, three):
    result = cli("schedules", "cancel", "1", "9", "2")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["Schedule 1 canceled.", "Schedule 2 canceled."]
    assert result.stderr == "Error: schedule 9 does not exist\n"
    result = cli("schedules", "delete", "3", "8", "1")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["Schedule 3 deleted.", "Schedule 1 deleted."]
    assert result.stderr == "Error: schedule 8 does not exist\n"
    assert [s["id"] for s in json.loads(cli("schedules", "list", "--json").stdout)["items"]] == [2]


def test_list_fits_80_columns_and_wide_shows_the_call_whole(container, three):
    invoke = invoker(container, columns=80)
    invoke("schedules", "add", "send_mail", "--arg", "A subject long enough to be cut", "--arg", '["ada@example.test"]',
           "--arg", "welcome", "--cron", "0 9 * * 1")
    narrow = invoke("schedules", "list").stdout
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 80
    assert 'send_mail("A subject' in narrow and "…" in narrow and "welcome" not in narrow
    wide = invoke("schedules", "list", "--wide").stdout
    assert 'send_mail("A subject long enough to be cut", ["ada@example.test"], "welcome")' in wide


@pytest.mark.parametrize("command", ["list", "show", "add", "cancel", "delete"])
def test_every_schedules_command_says_what_it_does(cli, command):
    result = cli("schedules", command, "--help")
    assert result.exit_code == 0
    assert len(result.output.split("\n\n")[1].strip()) > 10
