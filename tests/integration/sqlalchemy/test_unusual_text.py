"""Python text no database holds as it is: NUL (PostgreSQL refuses it in text) and lone surrogates (UTF-8 has no
encoding for them; a task may return or raise one, e.g. a file name decoded with surrogateescape).

JSON values (arguments, results) keep them exactly; free text (logs, errors) gets them written as Python's repr
writes them, `\\x00` and `\\ud800`, the same on SQLite, PostgreSQL and MariaDB.
"""

import pytest

from rqledger.adapters.sqlalchemy.types import dump_json, storable_text
from rqledger.domain.schedule import ScheduledTaskInstance
from tests.contract.builders import NOW, a_schedule, a_task

TEXTS = {"nul": ("a\x00b", "a\\x00b"), "surrogate": ("a\udc80b", "a\\udc80b"), "both": ("\x00\ud800", "\\x00\\ud800")}


@pytest.mark.parametrize("given, shown", TEXTS.values(), ids=TEXTS.keys())
def test_arguments_and_results_round_trip_exactly_and_the_log_shows_the_text(uow, given, shown):
    with uow:
        task = a_task()
        task.args, task.kwargs = [given], {"k": given}
        task = uow.tasks.add(task)
        task.start("w", NOW)
        task.finish({"v": given, "한글": "데이터"}, NOW)
        task.note(NOW, f"said {given}")
        uow.tasks.save(task)
        uow.commit()
    with uow:
        stored = uow.tasks.get(task.id)
    assert (stored.args, stored.kwargs) == ([given], {"k": given})
    assert stored.result == {"v": given, "한글": "데이터"}
    assert stored.log.endswith(f"said {shown}")


@pytest.mark.parametrize("given, shown", TEXTS.values(), ids=TEXTS.keys())
def test_a_failure_with_such_text_is_written_readably(uow, given, shown):
    with uow:
        task = uow.tasks.add(a_task())
        task.start("w", NOW)
        task.fail(f"ValueError: {given}", NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        stored = uow.tasks.get(task.id)
    assert stored.log.endswith(f"attempt 1 failed: ValueError: {shown}")
    assert stored.history[0].error == f"ValueError: {shown}"


def test_a_runs_log_and_result_hold_it_too(uow):
    with uow:
        schedule = uow.schedules.add(a_schedule())
        run = uow.schedules.add_run(ScheduledTaskInstance(schedule_id=schedule.id, scheduled_at=NOW, started_at=NOW))
        run.fail("ValueError: a\x00b", NOW)
        run.result = {"v": "a\x00b"}
        uow.schedules.save_run(run)
        uow.commit()
    with uow:
        stored = uow.schedules.get_run(run.id)
    assert "ValueError: a\\x00b" in stored.log and stored.result == {"v": "a\x00b"}


def test_other_text_is_left_exactly_as_it_is():
    text = "한글 😀 \\x00 tab\tnew\nline"
    assert storable_text(text) is text
    assert dump_json({"t": text}) == '{"t":"한글 😀 \\\\x00 tab\\tnew\\nline"}'  # non-ASCII stays UTF-8
