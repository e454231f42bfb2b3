"""Every use case wired on the memory adapters and a clock that only moves when told."""

from dataclasses import dataclass
from typing import Callable

import pytest

from rqledger.adapters.cron import CroniterCalendar
from rqledger.adapters.memory import (FixedClock, InMemoryEvents, InMemoryScheduler, InMemoryStore, InMemoryTaskQueue,
                             InMemoryUnitOfWork, InMemoryWorker)
from rqledger.application.execution import RunTask, TaskExecution
from rqledger.application.registry import TaskRegistry
from rqledger.application.runs import RunSchedule, ScheduledRuns
from rqledger.application.schedules import CancelSchedule, DeleteSchedule, GetSchedule, ListRuns, ListSchedules, RegisterSchedule
from rqledger.application.tasks import CancelTask, DeleteTask, EnqueueTask, GetTask, ListTasks, RetryTask


@dataclass
class Service:
    clock: FixedClock
    registry: TaskRegistry
    store: InMemoryStore
    uow: InMemoryUnitOfWork
    queue: InMemoryTaskQueue
    scheduler: InMemoryScheduler
    events: InMemoryEvents
    enqueue: EnqueueTask
    cancel: CancelTask
    retry: RetryTask
    delete: DeleteTask
    get: GetTask
    list: ListTasks
    execution: TaskExecution
    run_task: RunTask
    worker: InMemoryWorker
    register_schedule: RegisterSchedule
    cancel_schedule: CancelSchedule
    delete_schedule: DeleteSchedule
    get_schedule: GetSchedule
    list_schedules: ListSchedules
    list_runs: ListRuns
    runs: ScheduledRuns
    run_schedule: RunSchedule

    new_uow: Callable[[], object] = None  # another unit of work on the same storage (for races)

    def fire_due(self) -> int:
        return self.scheduler.fire_due(self.run_schedule, missed=self.runs.record_missed)


@pytest.fixture
def registry():
    return TaskRegistry()


def build_service(new_uow: Callable[[], object], registry: TaskRegistry, store: InMemoryStore | None = None) -> Service:
    """Every use case on units of work made by `new_uow`, with memory queue, scheduler and a fixed clock."""
    clock = FixedClock()
    calendar = CroniterCalendar()
    uow = new_uow()
    queue = InMemoryTaskQueue(clock)
    scheduler = InMemoryScheduler(clock, calendar)
    events = InMemoryEvents()
    execution = TaskExecution(uow, clock, events)
    run_task = RunTask(execution, registry, queue, clock)
    runs = ScheduledRuns(uow, clock, calendar, events)
    return Service(
        clock=clock, registry=registry, store=store, uow=uow, queue=queue, scheduler=scheduler, events=events,
        enqueue=EnqueueTask(uow, queue, registry, clock, events),
        cancel=CancelTask(uow, queue, clock, events),
        retry=RetryTask(uow, queue, clock, events),
        delete=DeleteTask(uow),
        get=GetTask(uow, queue),
        list=ListTasks(uow, queue),
        execution=execution,
        run_task=run_task,
        worker=InMemoryWorker(queue, run_task),
        register_schedule=RegisterSchedule(uow, scheduler, registry, calendar, clock),
        cancel_schedule=CancelSchedule(uow, scheduler),
        delete_schedule=DeleteSchedule(uow, scheduler),
        get_schedule=GetSchedule(uow),
        list_schedules=ListSchedules(uow),
        list_runs=ListRuns(uow),
        runs=runs,
        run_schedule=RunSchedule(runs, registry, clock),
        new_uow=new_uow,
    )


@pytest.fixture
def service(registry) -> Service:
    store = InMemoryStore()
    return build_service(lambda: InMemoryUnitOfWork(store), registry, store)
