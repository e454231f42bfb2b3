"""The two things compared: rqledger (ledger + RQ) and bare RQ, on the same Redis database, side by side.

Each side can enqueue trivial jobs (one by one or as a batch), drain its queue with
an in-process SimpleWorker, or name the command of its forking burst worker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from benchmarks import jobs

ROOT = Path(__file__).resolve().parents[1]
QUEUE = "default"
TASK_MODULE = "benchmarks.tasks"
API_BATCH_LIMIT = 1000  # POST /api/tasks/batch takes at most this many


def durability() -> str:
    """The ledger's durability mode of this run: RQLEDGER_DURABILITY (run.py sets it from --durability)."""
    return os.environ.get("RQLEDGER_DURABILITY", "").strip().lower() or "durable"


def ledger_env(redis_url: str, database_url: str, queues: str = QUEUE) -> dict:
    """The environment of an rqledger process on these services, with the benchmark's tasks."""
    return {"RQLEDGER_STORAGE": "sqlalchemy", "DATABASE_URL": database_url, "RQLEDGER_QUEUE_BACKEND": "rq",
            "REDIS_URL": redis_url, "RQLEDGER_TASK_MODULES": TASK_MODULE, "RQLEDGER_QUEUES": queues,
            "RQLEDGER_DURABILITY": durability()}


def process_env(extra: dict) -> dict:
    """The environment of a worker subprocess: ours, the repository on PYTHONPATH, and `extra`."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", **extra}


def script(name: str) -> list[str]:
    """A console script of this virtualenv (`rq` or `rqledger`), else the same through this interpreter."""
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return [str(found)]
    if name == "rq":
        return [sys.executable, "-m", "rq.cli"]
    return [sys.executable, "-c", "from rqledger.entrypoints.cli import main; main()"]


class WithoutCommandChannel:
    """An in-process worker without RQ's pub/sub command channel (stop-job and shutdown commands).

    It is a fixed cost per worker, not per job, and its teardown waits up to a second,
    at random, for the listening thread: in a benchmark that starts a worker per
    measurement, that is noise.
    """

    def subscribe(self):
        pass


class Ledger:
    """rqledger in this process: the container of a client (and of an in-process worker)."""

    label = "rqledger"

    def __init__(self, redis_url: str, database_url: str):
        from rqledger.entrypoints import runtime
        from rqledger.entrypoints.container import build_container
        from rqledger.entrypoints.settings import load_settings

        self.redis_url = redis_url
        self.env = ledger_env(redis_url, database_url)
        self.container = build_container(load_settings(self.env))
        runtime.install(self.container)  # rqledger.entrypoints.task_entry.run_task finds it in an in-process worker
        self._client = None

    @property
    def engine(self):
        return self.container.database_engine()

    def enqueue(self, name: str = "noop", args: list | None = None) -> list[str]:
        from rqledger.application.tasks import TaskRequest

        return [str(self.container.enqueue_task()(TaskRequest(name, list(args or []))).id)]

    def enqueue_one_by_one(self, count: int) -> list[str]:
        from rqledger.application.tasks import TaskRequest

        enqueue = self.container.enqueue_task()
        return [str(enqueue(TaskRequest("noop")).id) for _ in range(count)]

    def enqueue_batch(self, count: int) -> list[str]:
        from rqledger.application.tasks import TaskRequest

        return [str(t.id) for t in self.container.enqueue_task().many([TaskRequest("noop")] * count)]

    def post_batch(self, count: int) -> list[str]:
        """POST /api/tasks/batch through Flask's test client (in chunks of at most 1,000)."""
        ids = []
        for start in range(0, count, API_BATCH_LIMIT):
            size = min(API_BATCH_LIMIT, count - start)
            response = self.client.post("/api/tasks/batch", json={"tasks": [{"name": "noop"}] * size})
            if response.status_code != 202:
                raise RuntimeError(f"POST /api/tasks/batch answered {response.status_code}: {response.get_data(True)}")
            ids += [str(item["id"]) for item in response.get_json()["items"]]
        return ids

    @property
    def client(self):
        if self._client is None:
            from rqledger.entrypoints.web import create_app

            self._client = create_app(self.container, TESTING=True).test_client()
        return self._client

    def simple_worker(self):
        """rqledger's in-process worker (LedgerSimpleWorker), built as `rqledger worker` builds its own
        (but without the command channel, as the bare side)."""
        from rqledger.adapters.rq import LedgerSimpleWorker
        from rqledger.entrypoints.worker import build_worker

        worker_class = type("BenchLedgerSimpleWorker", (WithoutCommandChannel, LedgerSimpleWorker), {})
        return build_worker(self.container, [QUEUE], worker_class=worker_class)

    def worker_command(self) -> list[str]:
        return [*script("rqledger"), "worker", "--burst"]

    def worker_env(self) -> dict:
        return process_env(self.env)

    def close(self) -> None:
        from rqledger.entrypoints import runtime

        runtime.reset()
        self.container.rq_connection().close()
        self.container.events().close()
        self.engine.dispose()


class BenchSimpleWorker(WithoutCommandChannel, SimpleWorker):
    """RQ's SimpleWorker, without the command channel (see WithoutCommandChannel)."""


class BareRq:
    """Plain RQ, as its documentation uses it, with the JSON serializer."""

    label = "bare RQ"

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.connection = redis.Redis.from_url(redis_url)
        self.queue = Queue(QUEUE, connection=self.connection, serializer=JSONSerializer)

    def enqueue(self, name: str = "noop", args: list | None = None) -> list[str]:
        func = {"noop": jobs.noop, "report_progress": jobs.progress_loop}[name]
        return [self.queue.enqueue(func, *(args or [])).id]

    def enqueue_one_by_one(self, count: int) -> list[str]:
        return [self.queue.enqueue(jobs.noop).id for _ in range(count)]

    def enqueue_batch(self, count: int) -> list[str]:
        return [job.id for job in self.queue.enqueue_many([Queue.prepare_data(jobs.noop) for _ in range(count)])]

    def simple_worker(self):
        return BenchSimpleWorker([self.queue], connection=self.connection, serializer=JSONSerializer)

    def worker_command(self) -> list[str]:
        # --with-scheduler as rqledger's worker does by default (in burst mode: one pass, no process)
        return [*script("rq"), "worker", "--burst", "--with-scheduler", "--serializer", "json",
                "--url", self.redis_url, QUEUE]

    def worker_env(self) -> dict:
        return process_env({})

    def close(self) -> None:
        self.connection.close()


class Pair:
    """rqledger and bare RQ on one Redis database (and, for rqledger, one ledger database)."""

    def __init__(self, redis_url: str, database_url: str):
        self.ledger = Ledger(redis_url, database_url)
        self.bare = BareRq(redis_url)

    def flush(self) -> None:
        """Empties the Redis database between measurements (the ledger keeps its rows)."""
        self.bare.connection.flushdb()

    def unfinished_tasks(self, ids: list[str]) -> int:
        """How many of these ledger rows did not finish: a run that left any measured something else."""
        from sqlalchemy import bindparam, text

        statement = text("SELECT count(*) FROM rqledger_tasks WHERE status = 'finished' AND id IN :ids").bindparams(
            bindparam("ids", expanding=True))
        with self.ledger.engine.connect() as conn:
            return len(ids) - conn.execute(statement, {"ids": [int(i) for i in ids]}).scalar()

    def close(self) -> None:
        self.ledger.close()
        self.bare.close()
