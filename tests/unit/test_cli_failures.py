"""`rqledger failures`: the newest failed tasks grouped by task type and error line, with counts."""

from __future__ import annotations

import json

from rqledger.domain.task import Task
from rqledger.entrypoints.commands.failures import error_line
from tests.unit.cli_harness import cli, clock, container, invoker, work  # noqa: F401


def fail_count_words(cli, container, clock, times: int) -> None:
    for _ in range(times):
        cli("enqueue", "count_words")  # neither text nor url: ValueError
        work(container)
        clock.advance(60)


def test_failures_are_grouped_by_name_and_first_error_line_most_frequent_first(cli, container, clock):
    fail_count_words(cli, container, clock, 3)
    cli("enqueue", "send_mail", "Hi", '["ada@example.test"]', "welcome")  # no mail server configured
    work(container)
    cli("enqueue", "count_words", "--kwargs", '{"text": "fine"}')
    work(container)

    report = json.loads(cli("failures", "--json").stdout)

    assert report["examined"] == 4
    first, second = report["items"]
    assert (first["name"], first["error"], first["count"], first["sample_id"]) == (
        "count_words", "ValueError: give exactly one of 'text' or 'url'", 3, 3)
    assert (first["first_seen"], first["last_seen"]) == ("2026-01-05T09:00:00+00:00", "2026-01-05T09:02:00+00:00")
    assert (second["name"], second["count"], second["sample_id"]) == ("send_mail", 1, 4)
    assert second["error"].startswith("MailNotConfigured: ")


def test_the_table_fits_80_columns_and_names_a_sample(container, clock):
    invoke = invoker(container, columns=80)
    fail_count_words(invoke, container, clock, 2)
    output = invoke("failures").stdout
    lines = output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert lines[2].split()[:3] == ["2", "count_words", "ValueError:"] and lines[2].split()[-1] == "2"
    assert "(the newest 2 failed tasks; --limit looks further back)" in output
    assert "ValueError: give exactly one of 'text' or 'url'" in invoke("failures", "--wide").stdout


def test_limit_bounds_how_far_back_it_looks_and_name_filters(cli, container, clock):
    fail_count_words(cli, container, clock, 3)
    report = json.loads(cli("failures", "--json", "--limit", "2").stdout)
    assert (report["examined"], report["items"][0]["count"], report["items"][0]["first_seen"]) == (
        2, 2, "2026-01-05T09:01:00+00:00")
    assert json.loads(cli("failures", "--json", "--name", "send_mail").stdout) == {"items": [], "examined": 0}


def test_no_failures_says_so(cli):
    assert cli("failures").stdout == "No failed tasks.\n"


def test_a_task_that_never_ran_is_grouped_by_its_log_line(cli, container):
    container.queue().available = False
    cli("enqueue", "example", "1")
    task = container.get_task()(1)
    assert error_line(task).startswith("the queue could not take it")


def test_error_line_of_a_task_without_any_error():
    assert error_line(Task(name="x")) == "(no error recorded)"


def test_failures_says_what_it_does(cli):
    result = cli("failures", "--help")
    assert result.exit_code == 0 and "--limit" in result.output
