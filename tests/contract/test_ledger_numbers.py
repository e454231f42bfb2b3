"""The numbers GET /metrics reads: counts by name and status, and attempt durations in buckets, on every ledger."""

from datetime import timedelta

import pytest

from rqledger.domain.schedule import RunStatus, ScheduledTaskInstance, ScheduleStatus
from rqledger.domain.task import AttemptOutcome, TaskStatus
from tests.contract.builders import NOW, a_task, add_schedule, later

BOUNDS = (0.1, 1, 3600)  # 3600 s: more microseconds than a 32-bit integer holds


def task_that_ran(new_uow, name: str, *attempts: tuple[float, float], end: str = "finish"):
    """A task whose attempts ran from..to (seconds after NOW); all but the last failed and were retried."""
    uow = new_uow()
    with uow:
        task = uow.tasks.add(a_task(name, retry_policy=None))
        for number, (start, stop) in enumerate(attempts, start=1):
            task.start("w", later(start))
            if number < len(attempts):
                task.fail("boom", later(stop))
                task.retry(later(stop))
            elif end == "finish":
                task.finish(None, later(stop))
            elif end == "fail":
                task.fail("boom", later(stop))
            elif end == "cancel":
                task.cancel(later(stop))
        uow.tasks.save(task)
        uow.commit()
    return task


def test_an_empty_ledger_has_no_numbers(uow):
    with uow:
        assert uow.tasks.count_by_name_and_status() == {}
        assert uow.tasks.attempt_durations(BOUNDS) == {}
        assert uow.schedules.count_by_name_and_status() == {}
        assert uow.schedules.count_runs_by_schedule_and_status() == {}


def test_tasks_are_counted_by_name_and_status(new_uow):
    for _ in range(3):
        task_that_ran(new_uow, "export", (0, 1))
    task_that_ran(new_uow, "export", (0, 1), end="fail")
    task_that_ran(new_uow, "mail", (0, 1), end="cancel")
    uow = new_uow()
    with uow:
        uow.tasks.add(a_task("mail"))
        running = uow.tasks.add(a_task("mail"))
        running.start("w", NOW)
        uow.tasks.save(running)
        uow.commit()
    with uow:
        counts = uow.tasks.count_by_name_and_status()
    assert counts == {("export", TaskStatus.FINISHED): 3, ("export", TaskStatus.FAILED): 1,
                      ("mail", TaskStatus.CANCELED): 1, ("mail", TaskStatus.QUEUED): 1,
                      ("mail", TaskStatus.RUNNING): 1}


def test_attempt_durations_fall_in_the_bucket_of_their_upper_bound(new_uow):
    task_that_ran(new_uow, "export", (0, 0.1))  # exactly on a bound: that bucket
    task_that_ran(new_uow, "export", (0, 0.100001))  # a microsecond above it: the next one
    task_that_ran(new_uow, "export", (0.1086, 0.2086))  # 0.1 s from .999611 to .099611 of the next second
    task_that_ran(new_uow, "export", (0, 0))
    task_that_ran(new_uow, "export", (5, 4))  # the clock stepped back: counts as zero
    task_that_ran(new_uow, "export", (0, 86400 + 0.5))  # above every bound: +Inf
    uow = new_uow()
    with uow:
        histograms = uow.tasks.attempt_durations(BOUNDS)
    histogram = histograms[("export", AttemptOutcome.FINISHED)]
    assert set(histograms) == {("export", AttemptOutcome.FINISHED)}
    assert (histogram.bounds, histogram.counts, histogram.count) == (BOUNDS, [4, 1, 0, 1], 6)
    assert histogram.sum == pytest.approx(0.1 + 0.100001 + 0.1 + 86400.5)


def test_attempt_durations_are_kept_apart_by_name_and_outcome_and_skip_unended_attempts(new_uow):
    task_that_ran(new_uow, "export", (0, 2), (10, 10.5))  # a failed attempt, then a finished one
    task_that_ran(new_uow, "export", (0, 30), end="fail")
    task_that_ran(new_uow, "mail", (0, 0.05), end="cancel")
    uow = new_uow()
    with uow:
        running = uow.tasks.add(a_task("mail"))
        running.start("w", NOW)
        uow.tasks.save(running)
        uow.commit()
    with uow:
        histograms = uow.tasks.attempt_durations(BOUNDS)
    assert {key: (h.counts, h.count) for key, h in histograms.items()} == {
        ("export", AttemptOutcome.FINISHED): ([0, 1, 0, 0], 1),
        ("export", AttemptOutcome.FAILED): ([0, 0, 2, 0], 2),
        ("mail", AttemptOutcome.CANCELED): ([1, 0, 0, 0], 1),
    }
    assert histograms[("export", AttemptOutcome.FAILED)].sum == pytest.approx(32)


def test_schedules_are_counted_by_name_and_status_and_their_runs_by_schedule(new_uow):
    first = add_schedule(new_uow, args=[1]).id
    second = add_schedule(new_uow, args=[2]).id
    add_schedule(new_uow, name="digest")  # no runs: not among the runs' counts
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(second)
        schedule.cancel()
        uow.schedules.save(schedule)
        for n, end in enumerate(["finish", "finish", "fail", None]):
            run = uow.schedules.add_run(ScheduledTaskInstance(first, later(60 * n), later(60 * n)))
            if end == "finish":
                run.finish(None, later(60 * n + 1))
            elif end == "fail":
                run.fail("boom", later(60 * n + 1))
            uow.schedules.save_run(run)
        run = uow.schedules.add_run(ScheduledTaskInstance(second, NOW, NOW))
        run.cancel(later(1))
        uow.schedules.save_run(run)
        uow.commit()
    with uow:
        schedules = uow.schedules.count_by_name_and_status()
        runs = uow.schedules.count_runs_by_schedule_and_status()
    assert schedules == {("report", ScheduleStatus.RUNNING): 1, ("report", ScheduleStatus.DEATH): 1,
                         ("digest", ScheduleStatus.RUNNING): 1}
    assert runs == {(first, "report", RunStatus.FINISHED): 2, (first, "report", RunStatus.FAILED): 1,
                    (first, "report", RunStatus.RUNNING): 1, (second, "report", RunStatus.CANCELED): 1}


def test_deleted_runs_and_tasks_are_no_longer_counted(new_uow):
    schedule_id = add_schedule(new_uow).id
    task = task_that_ran(new_uow, "export", (0, 1))
    uow = new_uow()
    with uow:
        run = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW + timedelta(seconds=1)))
        uow.commit()
    with uow:
        uow.schedules.delete_run(run.id)
        uow.tasks.delete(task.id)
        uow.commit()
    with uow:
        assert uow.schedules.count_runs_by_schedule_and_status() == {}
        assert uow.tasks.count_by_name_and_status() == {}
        assert uow.tasks.attempt_durations(BOUNDS) == {}
