"""The unit tests' `service` (every use case wired together), but on a SQL unit of work."""

from adapters.cron import CroniterCalendar
from adapters.memory import FixedClock, InMemoryEvents, InMemoryScheduler, InMemoryTaskQueue, InMemoryWorker
from adapters.sqlalchemy import SqlAlchemyUnitOfWork
from application.execution import RunTask, TaskExecution
from application.runs import RunSchedule, ScheduledRuns
from application.schedules import CancelSchedule, DeleteSchedule, GetSchedule, ListRuns, ListSchedules, RegisterSchedule
from application.tasks import CancelTask, DeleteTask, EnqueueTask, GetTask, ListTasks, RetryTask
from tests.unit.conftest import Service


def sql_service(engine, registry) -> Service:
    clock = FixedClock()
    calendar = CroniterCalendar()
    uow = SqlAlchemyUnitOfWork(engine)
    queue = InMemoryTaskQueue(clock)
    scheduler = InMemoryScheduler(clock, calendar)
    events = InMemoryEvents()
    execution = TaskExecution(uow, clock, events)
    run_task = RunTask(execution, registry, queue, clock)
    runs = ScheduledRuns(uow, clock, calendar, events)
    return Service(
        clock=clock, registry=registry, store=None, uow=uow, queue=queue, scheduler=scheduler, events=events,
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
        new_uow=lambda: SqlAlchemyUnitOfWork(engine),
    )
