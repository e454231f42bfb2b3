"""The PostgreSQL ledger unreachable while workers finish tasks: connections terminated
(pg_terminate_backend) and, for a few seconds, no new connection allowed at all."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import sqlalchemy as sa

from rqledger.entrypoints.web import create_app
from tests.faults.processes import wait_for
from tests.services import POSTGRES_URL


class Postgres:
    """The server's administration side: cut the test database's connections, lock it, open it again."""

    def __init__(self, database_url: str):
        self.name = sa.engine.make_url(database_url).database
        self.admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self.terminated = 0

    def terminate_connections(self) -> int:
        with self.admin.connect() as conn:
            killed = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.name}).scalar()
        self.terminated += killed
        return killed

    @contextmanager
    def unreachable(self):
        """No connection to the database at all inside the block (existing ones are cut)."""
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false'))
        try:
            self.terminate_connections()
            yield
        finally:
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.admin.dispose()


class ConnectionCutter(threading.Thread):
    """Terminates every connection to the test database every `every` seconds."""

    def __init__(self, postgres: Postgres, every: float):
        super().__init__(daemon=True)
        self.postgres = postgres
        self.every = every
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            self.postgres.terminate_connections()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def worker_retries(workers) -> int:
    return sum(w.output.count("writing the outcome again") for w in workers)


def test_connections_killed_and_the_database_locked_while_workers_finish_tasks(system, database_url, note):
    postgres = Postgres(database_url)
    try:
        system.start_scheduler()
        workers = [system.start_worker(), system.start_worker()]
        # 0.3 s each, every 20th raising (Retry(max=2)): each attempt ends while connections are being cut
        ids = [system.enqueue("chaotic", i, 0.3) for i in range(1, 81)]
        cutter = ConnectionCutter(postgres, every=0.7)
        cutter.start()
        try:
            wait_for(lambda: system.ledger.statuses(ids)["finished"] >= 20, 60, what="some tasks to finish",
                     details=system.services.output)
            client = create_app(system.container, TESTING=True).test_client()
            with postgres.unreachable():  # several attempts end while no connection can be made
                locked = time.monotonic()
                time.sleep(1)
                listing = client.get("/api/tasks")
                enqueue = client.post("/api/tasks", json={"name": "trivial", "args": [0]})
                time.sleep(2)
            locked_for = time.monotonic() - locked
        finally:
            cutter.stop()
        system.ledger.engine.dispose()  # its pooled connections were cut too
        wait_for(lambda: system.ledger.all_ended(ids), 90, interval=0.3, what="every task to end",
                 details=lambda: f"{system.ledger.statuses(ids)}\n{system.services.output()}")

        rows = system.ledger.rows(ids)
        wrong = [r for r in rows.values()
                 if r.status != ("failed" if r.args[0] % 20 == 0 else "finished")
                 or (r.status == "failed" and r.attempts != 3) or r.double_terminal()]
        assert not wrong, [(r.id, r.status, r.log) for r in wrong[:3]]
        finished = [r for r in rows.values() if r.status == "finished"]
        assert all(system.container.get_task()(r.id).result == {"double": r.args[0] * 2} for r in finished)
        assert listing.status_code == 503 and listing.get_json()["error"]["code"] == "storage_unavailable"
        assert enqueue.status_code == 503
        assert all(w.alive() for w in workers)

        note(f"80 tasks (every 20th raising, Retry(max=2)) on 2 workers; connections terminated every 0.7 s "
             f"({postgres.terminated} in all) and the database refusing every connection for {locked_for:.1f} s")
        note(f"every row reached its true outcome: {len(finished)} finished with their results, "
             f"{len(rows) - len(finished)} failed after 3 attempts; double-terminal: 0; stuck: 0")
        note(f"outcome writes retried with backoff by the workers: {worker_retries(workers)}; deliveries put off "
             f"because the ledger was unreachable before the attempt began: "
             f"{sum(w.output.count('not started, the ledger is unreachable') for w in workers)}")
        note("the API meanwhile: GET /api/tasks 503 storage_unavailable, POST /api/tasks 503, no 500")
    finally:
        postgres.close()


def test_an_outcome_the_worker_could_not_write_is_taken_from_rq_by_the_reconciler(system, database_url, note):
    """With little patience (RQLEDGER_OUTCOME_PATIENCE=1) the worker gives up on the ledger; RQ keeps the
    outcome tagged with its attempt, and the reconciler writes it when the database is back."""
    postgres = Postgres(database_url)
    try:
        system.start_scheduler()
        worker = system.start_worker(RQLEDGER_OUTCOME_PATIENCE="1")
        value = system.enqueue("chaotic", 7, 1.5)  # returns {"double": 14} after 1.5 s
        raising = system.enqueue("chaotic", 20, 1.5)  # raises after 1.5 s; Retry(max=2)
        wait_for(lambda: system.ledger.statuses([value, raising])["running"] == 1, 30, what="a task to run",
                 details=system.services.output)
        with postgres.unreachable():
            time.sleep(6)  # both end meanwhile, and the worker gives up after 1 s
            assert "left in RQ for the reconciler" in worker.output, worker.output
        recovered = time.monotonic()
        system.ledger.engine.dispose()
        wait_for(lambda: system.ledger.all_ended([value, raising]), 60, interval=0.3, what="both to end",
                 details=system.services.output)
        took = time.monotonic() - recovered
        done = system.container.get_task()(value)
        failed = system.ledger.rows([raising])[raising]
        assert done.status.value == "finished" and done.result == {"double": 14}, done.log
        assert "the reconciler took the queue's outcome: finished" in done.log
        assert failed.status == "failed" and failed.attempts == 3 and "chaotic 20 fails on purpose" in failed.log
        assert not failed.double_terminal()
        note(f"outcomes written by the reconciler from RQ's results {took:.1f} s after the database came back: "
             f"a finished task with its result, and a failure (then retried by its policy and failed after 3 attempts)")
    finally:
        postgres.close()
