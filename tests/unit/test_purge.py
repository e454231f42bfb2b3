"""Retention: ended tasks and runs past an age are deleted in batches; nothing queued or running ever is."""

from datetime import timedelta

import pytest

from rqledger.application.ports import ScheduleQuery, TaskQuery
from rqledger.application.purge import PurgeRuns, PurgeTasks
from rqledger.application.registry import task
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.errors import InvalidArguments
from rqledger.domain.schedule import RunStatus
from rqledger.domain.task import TaskStatus


@pytest.fixture
def tasks(registry):
    @task(registry=registry)
    def ok() -> int:
        return 1

    @task(registry=registry)
    def broken():
        raise RuntimeError("no")


def statuses(service):
    return sorted((t.id, t.status.value) for t in service.list(TaskQuery(limit=500)).items)


def test_deletes_ended_tasks_older_than_the_age_and_keeps_the_rest(service, tasks):
    for name in ("ok", "broken", "ok"):
        service.enqueue(TaskRequest(name))
    service.worker.work()
    canceled = service.enqueue(TaskRequest("ok"))
    service.cancel(canceled.id)
    old_but_queued = service.enqueue(TaskRequest("ok"))
    service.clock.advance(10 * 86400)
    recent = service.enqueue(TaskRequest("ok"))
    service.run_task(recent.id)
    service.clock.advance(86400)

    deleted = PurgeTasks(service.uow, service.clock, batch_size=2)(timedelta(days=5))

    assert deleted == 4
    assert statuses(service) == [(old_but_queued.id, "queued"), (recent.id, "finished")]


def test_only_the_given_statuses_are_purged(service, tasks):
    service.enqueue(TaskRequest("ok"))
    service.enqueue(TaskRequest("broken"))
    service.worker.work()
    service.clock.advance(2 * 86400)
    assert PurgeTasks(service.uow, service.clock)(timedelta(days=1), ["failed"]) == 1
    assert statuses(service) == [(1, "finished")]


def test_reports_each_batch_as_it_goes(service, tasks):
    for _ in range(5):
        service.enqueue(TaskRequest("ok"))
    service.worker.work()
    service.clock.advance(1)
    seen = []
    assert PurgeTasks(service.uow, service.clock, batch_size=2)(timedelta(0), on_batch=seen.append) == 5
    assert seen == [2, 4, 5]


@pytest.mark.parametrize("names,error", [(["queued"], "not queued"), (["running", "finished"], "not running")])
def test_refuses_to_purge_active_statuses(service, names, error):
    with pytest.raises(InvalidArguments, match=f"only ended tasks and runs are purged.*{error}"):
        PurgeTasks(service.uow, service.clock)(timedelta(days=1), names)


def test_refuses_a_negative_age(service):
    with pytest.raises(InvalidArguments, match="must not be negative"):
        PurgeTasks(service.uow, service.clock)(timedelta(days=-1))


def test_deletes_old_runs_and_keeps_the_parent(service, tasks):
    schedule, _ = service.register_schedule(
        ScheduleRequest("ok", at=service.clock.now() + timedelta(seconds=1), interval=3600, repeat=5))
    for _ in range(3):
        service.clock.advance(3600)
        service.fire_due()
    service.clock.advance(30 * 86400)

    assert PurgeRuns(service.uow, service.clock, batch_size=2)(timedelta(days=7)) == 3

    parent, runs = service.get_schedule(schedule.id)
    assert runs == []
    assert parent.last_run.status is RunStatus.FINISHED
    assert [s.id for s in service.list_schedules(ScheduleQuery()).items] == [schedule.id]


def test_recent_runs_stay(service, tasks):
    service.register_schedule(ScheduleRequest("ok", at=service.clock.now() + timedelta(seconds=1), interval=60))
    for _ in range(2):
        service.clock.advance(60)
        service.fire_due()
    assert PurgeRuns(service.uow, service.clock)(timedelta(days=1)) == 0
    assert PurgeTasks(service.uow, service.clock)(timedelta(days=1)) == 0
