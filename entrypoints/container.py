"""The composition root: one dependency-injector container; adapters are chosen here and nowhere else."""

from __future__ import annotations

from dependency_injector import containers, providers

from rqledger.adapters.cron import CroniterCalendar
from rqledger.adapters.mail import mail_sender_from
from rqledger.adapters.queue_depth import InMemoryQueueDepth, RqQueueDepth
from rqledger.adapters.memory import (InMemoryEvents, InMemoryScheduler, InMemoryStore, InMemoryTaskQueue,
                             InMemoryUnitOfWork, SystemClock)
from rqledger.adapters.redis_events import RedisEventFeed, RedisEventPublisher, RedisPing
from rqledger.adapters.memory.inspector import InMemoryJobInspector
from rqledger.adapters.memory.limits import InMemoryLimiter
from rqledger.adapters.rq import RqJobInspector, RqTaskQueue, redis_connection
from rqledger.adapters.rq.limits import RedisLimiter
from rqledger.adapters.scheduler import RqScheduler
from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine
from rqledger.adapters.sqlalchemy.queue_pauses import SqlQueuePauses
from rqledger.adapters.memory.queue_pauses import InMemoryQueuePauses
from rqledger.application.queues import ListQueues, PauseQueue, PauseWatch, ResumeQueue
from rqledger.adapters.alerts import WebhookSender, check_targets
from rqledger.adapters.rq.workers import NoWorkers, RqWorkers
from rqledger.application.alerts import AlertSettings, DeliverAlerts, EvaluateAlerts, GetAlert, ListAlerts
from rqledger.domain.alert import Backoff
from rqledger.application.execution import RunTask, TaskExecution
from rqledger.application.limits import Limits
from rqledger.application.limits_gate import AttemptGate
from rqledger.application.metrics import ReadLedgerStatistics
from rqledger.application.purge import PurgeRuns, PurgeTasks
from rqledger.application.reconcile import Reconcile
from rqledger.application.registry import default_registry
from rqledger.application.runs import RunSchedule, ScheduledRuns
from rqledger.application.schedules import (CancelSchedule, DeleteSchedule, GetSchedule, ListRuns, ListSchedules,
                                   RegisterSchedule)
from rqledger.application.tasks import CancelTask, DeleteTask, EnqueueTask, GetTask, ListTasks, RetryTask
from rqledger.application.throughput import ChartTasks


def _limits(default_timeout=180, max_timeout=24 * 3600, max_retries=10, queues=("default",),
            max_retry_interval=None) -> Limits:
    return Limits(default_timeout=default_timeout, max_timeout=max_timeout, max_retries=max_retries,
                  queues=frozenset(queues),
                  max_retry_interval=24 * 3600 if max_retry_interval is None else float(max_retry_interval))


def _alert_settings(alerts: dict | None) -> AlertSettings:
    alerts = alerts or {}
    defaults = AlertSettings()

    def number(key: str, default: float) -> float:
        return default if alerts.get(key) is None else float(alerts[key])

    return AlertSettings(
        targets=check_targets(alerts.get("webhooks") or ()), secret=alerts.get("secret") or None,
        failed_window=number("window", defaults.failed_window), stalled_after=number("stalled_after",
                                                                                      defaults.stalled_after),
        backoff=Backoff(first=number("retry_first", defaults.backoff.first), most=defaults.backoff.most,
                        give_up_after=number("give_up", defaults.backoff.give_up_after)))


def _seconds(value, default: float) -> float:
    """A duration setting, or its default when the settings leave it out."""
    return default if value is None else float(value)


class Container(containers.DeclarativeContainer):
    """Build with `Container()`, then `container.config.from_dict(load_settings())`."""

    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    registry = providers.Object(default_registry)
    calendar = providers.Singleton(CroniterCalendar)
    # Change events for live views: in-process for memory, Redis pub/sub so every web process sees them for rq.
    memory_events = providers.Singleton(InMemoryEvents)
    events = providers.Selector(
        config.queue_backend,
        memory=memory_events,
        rq=providers.Singleton(RedisEventPublisher, url=config.redis_url),
    )
    event_feed = providers.Selector(
        config.queue_backend,
        memory=memory_events,
        rq=providers.Singleton(RedisEventFeed, url=config.redis_url),
    )
    # GET /api/health's Redis probe: a callable that raises QueueUnavailable; nothing to probe in memory.
    redis_check = providers.Selector(
        config.queue_backend,
        memory=providers.Object(lambda: None),
        rq=providers.Singleton(RedisPing, url=config.redis_url),
    )
    limits = providers.Singleton(
        _limits,
        default_timeout=config.limits.default_timeout.as_(int),
        max_timeout=config.limits.max_timeout.as_(int),
        max_retries=config.limits.max_retries.as_(int),
        queues=config.limits.queues,
        max_retry_interval=config.limits.max_retry_interval,
    )

    memory_store = providers.Singleton(InMemoryStore)
    # the ledger database: one engine (connection pool) per process, created on first use, never at import
    database_engine = providers.Singleton(create_ledger_engine, config.database_url, durability=config.durability,
                                          schema=config.db_schema)
    uow = providers.Selector(
        config.storage,
        memory=providers.Factory(InMemoryUnitOfWork, store=memory_store),
        # one object for all threads: each `with uow:` gets a session of its own thread
        sqlalchemy=providers.Singleton(SqlAlchemyUnitOfWork, engine=database_engine),
    )
    # RQ's Redis: connect and command timeouts, so an enqueue on a dead Redis fails fast (QueueUnavailable)
    rq_connection = providers.Singleton(redis_connection, url=config.redis_url)
    queue = providers.Selector(
        config.queue_backend,
        memory=providers.Singleton(InMemoryTaskQueue, clock=clock),
        # the enqueue's change events travel in the jobs' own Redis pipeline
        rq=providers.Singleton(RqTaskQueue, connection=rq_connection, job_func="rqledger.entrypoints.task_entry.run_task",
                               events=events),
    )
    scheduler = providers.Selector(
        config.queue_backend,
        memory=providers.Singleton(InMemoryScheduler, clock=clock, calendar=calendar),
        # triggers in rq-scheduler's storage; `rqledger scheduler` fires them as jobs of this one fixed function
        rq=providers.Singleton(RqScheduler, connection=rq_connection, calendar=calendar, clock=clock,
                               registry=registry, run_function="rqledger.entrypoints.firing_entry.run_schedule",
                               default_timeout=config.limits.default_timeout.as_(int)),
    )

    # send_mail's way out: SMTP (MAIL_SERVER), an outbox folder (dev), or a sender that says what to set
    mail_sender = providers.Singleton(mail_sender_from, config.mail)
    # GET /metrics: waiting jobs per queue, and the ledger's numbers
    queue_depth = providers.Selector(
        config.queue_backend,
        memory=providers.Factory(InMemoryQueueDepth, queue=queue, queues=config.queues),
        rq=providers.Factory(RqQueueDepth, connection=rq_connection, queues=config.queues),
    )
    # the workers RQ knows of (none registers with the memory backend)
    workers = providers.Selector(
        config.queue_backend,
        memory=providers.Singleton(NoWorkers),
        rq=providers.Singleton(RqWorkers, connection=rq_connection),
    )
    # paused queues, kept with the ledger; workers read them through one PauseWatch (at most once a second)
    queue_pauses = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryQueuePauses),
        sqlalchemy=providers.Singleton(SqlQueuePauses, engine=database_engine),
    )
    pause_watch = providers.Singleton(PauseWatch, pauses=queue_pauses)
    pause_queue = providers.Factory(PauseQueue, pauses=queue_pauses, clock=clock, limits=limits)
    resume_queue = providers.Factory(ResumeQueue, pauses=queue_pauses, limits=limits)
    list_queues = providers.Factory(ListQueues, uow=uow, pauses=queue_pauses,
                                    depth=providers.Callable(lambda depth: depth.by_priority, queue_depth),
                                    limits=limits)
    # alerts: evaluated and delivered by the scheduler's maintenance round; read through the API and the CLI
    alert_settings = providers.Singleton(_alert_settings, config.alerts)
    alert_sender = providers.Singleton(WebhookSender)
    evaluate_alerts = providers.Factory(EvaluateAlerts, uow=uow, clock=clock, pauses=queue_pauses,
                                        settings=alert_settings)
    deliver_alerts = providers.Factory(DeliverAlerts, uow=uow, clock=clock, sender=alert_sender,
                                       settings=alert_settings)
    list_alerts = providers.Factory(ListAlerts, uow=uow)
    get_alert = providers.Factory(GetAlert, uow=uow)
    read_ledger_statistics = providers.Factory(ReadLedgerStatistics, uow=uow)
    purge_tasks = providers.Factory(PurgeTasks, uow=uow, clock=clock)
    purge_runs = providers.Factory(PurgeRuns, uow=uow, clock=clock)

    enqueue_task = providers.Factory(EnqueueTask, uow=uow, queue=queue, registry=registry, clock=clock,
                                     events=events, limits=limits)
    cancel_task = providers.Factory(CancelTask, uow=uow, queue=queue, clock=clock, events=events)
    retry_task = providers.Factory(RetryTask, uow=uow, queue=queue, clock=clock, events=events)
    delete_task = providers.Factory(DeleteTask, uow=uow)
    get_task = providers.Factory(GetTask, uow=uow, queue=queue)
    list_tasks = providers.Factory(ListTasks, uow=uow, queue=queue, limits=limits)
    chart_tasks = providers.Factory(ChartTasks, uow=uow, clock=clock)

    # per-type limits (@task(concurrency=..., concurrency_per_owner=..., rate_limit=...)): counters shared by
    # every worker (Redis; memory for the memory path); a slot's lease lasts RQLEDGER_WORKER_TTL
    limiter = providers.Selector(
        config.queue_backend,
        memory=providers.Singleton(InMemoryLimiter, clock=clock),
        rq=providers.Singleton(RedisLimiter, connection=rq_connection),
    )
    attempt_gate = providers.Singleton(AttemptGate, limiter=limiter, registry=registry,
                                       lease=providers.Callable(_seconds, config.worker_ttl, 30.0))
    execution = providers.Factory(TaskExecution, uow=uow, clock=clock, events=events, gate=attempt_gate)
    # the task reconciler (rqledger.application.reconcile): the queue's view of jobs and workers, and one pass
    job_inspector = providers.Selector(
        config.queue_backend,
        memory=providers.Singleton(InMemoryJobInspector, queue=queue),
        rq=providers.Singleton(RqJobInspector, connection=rq_connection,
                               worker_ttl=providers.Callable(_seconds, config.worker_ttl, 30.0)),
    )
    reconcile_tasks = providers.Factory(Reconcile, uow=uow, queue=queue, inspector=job_inspector,
                                        execution=execution, clock=clock, events=events,
                                        grace=providers.Callable(_seconds, config.reconcile_grace, 10.0))
    run_task = providers.Factory(RunTask, execution=execution, registry=registry, queue=queue, clock=clock,
                                 progress_interval=config.progress_interval.as_float())

    register_schedule = providers.Factory(RegisterSchedule, uow=uow, scheduler=scheduler, registry=registry,
                                          calendar=calendar, clock=clock, timezone=config.timezone)
    cancel_schedule = providers.Factory(CancelSchedule, uow=uow, scheduler=scheduler)
    delete_schedule = providers.Factory(DeleteSchedule, uow=uow, scheduler=scheduler)
    get_schedule = providers.Factory(GetSchedule, uow=uow)
    list_schedules = providers.Factory(ListSchedules, uow=uow, limits=limits)
    list_runs = providers.Factory(ListRuns, uow=uow, limits=limits)
    scheduled_runs = providers.Factory(ScheduledRuns, uow=uow, clock=clock, calendar=calendar, events=events)
    run_schedule = providers.Factory(RunSchedule, runs=scheduled_runs, registry=registry, clock=clock,
                                     progress_interval=config.progress_interval.as_float())


def build_container(settings: dict | None = None) -> Container:
    """A container configured from `settings` (default: the environment), with the task modules imported.

    A module that cannot be imported raises TaskModuleError, whose message is one line for the user.
    """
    from rqledger.entrypoints.settings import load_settings
    from rqledger.entrypoints.task_modules import import_task_modules

    container = Container()
    settings = settings if settings is not None else load_settings()
    container.config.from_dict(settings)
    import_task_modules(settings.get("task_modules", []), settings.get("task_path", []))
    return container
