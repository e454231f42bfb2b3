"""Failures grouped by fingerprint (application/failures.py): task type + exception type + the message with its
varying parts (numbers, hex ids, quoted text) set aside."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rqledger.application.failures import Fingerprint, error_of, fingerprint, group_failures, normalise
from rqledger.domain.task import Task

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def failed(task_id: int, error: str, name: str = "export", owner: str | None = None, minutes: int = 0) -> Task:
    task = Task(name=name, id=task_id, owner=owner)
    task.start("w1", T0 + timedelta(minutes=minutes))
    task.fail(error, T0 + timedelta(minutes=minutes, seconds=1))
    return task


def traceback_of(line: str) -> str:
    return f"{line}\nTraceback (most recent call last):\n  File \"x.py\", line 3, in f\n    raise it\n{line}"


def test_numbers_hex_ids_uuids_and_quoted_text_become_placeholders():
    assert normalise("user 42 not found at 0xDEADbeef") == "user <n> not found at <hex>"
    assert normalise("row 3f2a9c1d7e of 550e8400-e29b-41d4-a716-446655440000") == "row <hex> of <uuid>"
    assert normalise("""no file 'a b.txt' nor "c.txt" after 1.5 s (42ms)""") == "no file <str> nor <str> after <n> s (<n>ms)"


def test_words_that_hold_digits_or_apostrophes_are_kept():
    assert normalise("can't decode utf8 with sha256 in v1.2.3") == "can't decode utf8 with sha256 in v1.2.3"
    assert normalise("  spread\n over   lines ") == "spread over lines"


def test_the_exception_type_is_read_from_the_first_line_and_the_traceback_is_left_out():
    task = failed(1, traceback_of("ValueError: user 42 not found"))
    assert fingerprint(task) == Fingerprint("export", "ValueError", "user <n> not found")


def test_a_dotted_exception_type_is_one_type():
    task = failed(1, "app.errors.QuotaExceeded: 12 of 10 used")
    assert fingerprint(task) == Fingerprint("export", "app.errors.QuotaExceeded", "<n> of <n> used")


def test_an_error_that_names_no_exception_type_has_an_empty_type():
    assert fingerprint(failed(1, "timed out after 30 s")) == Fingerprint("export", "", "timed out after <n> s")
    assert fingerprint(failed(2, "the reconciler ended the attempt: worker w1 is gone")).error_type == ""
    assert fingerprint(failed(3, "http://host:80/ said no")).error_type == ""


def test_without_an_attempts_error_the_logs_last_line_is_the_error():
    task = Task(name="export", id=5, log="[2026-01-01T00:00:00+00:00] queued\n[2026-01-01T00:00:01+00:00] "
                                         "refused: KeyError: 'missing'\n\n")
    assert error_of(task) == "refused: KeyError: 'missing'"
    assert fingerprint(Task(name="export", id=6, log="")).message == ""


def test_the_same_failure_with_other_values_is_one_group_with_its_count_times_and_owners():
    tasks = [failed(3, "ValueError: user 3 not found", owner="ana", minutes=9),
             failed(2, "ValueError: user 2 not found", owner="bo", minutes=5),
             failed(1, "ValueError: user 1 not found", owner="ana", minutes=1)]
    [group] = group_failures(tasks)
    assert group.count == 3 and group.ids == [3, 2, 1] and group.sample.id == 3
    assert group.owners == 2
    assert group.first_seen == T0 + timedelta(minutes=1, seconds=1)
    assert group.last_seen == T0 + timedelta(minutes=9, seconds=1)


def test_another_task_type_or_exception_type_or_message_is_another_group():
    tasks = [failed(1, "ValueError: user 1 not found"), failed(2, "ValueError: user 1 not found", name="mail"),
             failed(3, "KeyError: user 1 not found"), failed(4, "ValueError: disk full")]
    assert len(group_failures(tasks)) == 4


def test_the_biggest_group_comes_first_then_the_most_recent():
    tasks = [failed(5, "OSError: disk full", minutes=50),
             failed(4, "ValueError: bad 1", minutes=40), failed(3, "ValueError: bad 2", minutes=30),
             failed(2, "KeyError: 'a'", minutes=20), failed(1, "TypeError: no", minutes=10)]
    assert [(g.fingerprint.error_type, g.count) for g in group_failures(tasks)] == [
        ("ValueError", 2), ("OSError", 1), ("KeyError", 1), ("TypeError", 1)]


def test_owners_are_counted_once_and_no_owner_is_nobody():
    tasks = [failed(1, "E: x", owner=None), failed(2, "E: x", owner="7"), failed(3, "E: x", owner="7")]
    assert group_failures(tasks)[0].owners == 1


def test_nothing_failed_is_no_group():
    assert group_failures([]) == []
