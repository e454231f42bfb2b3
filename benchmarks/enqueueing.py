"""1. Enqueueing trivial tasks: one by one and as a batch, rqledger (row + job) vs bare RQ (job).

Also the single-stream ceiling of a durable ledger: one bare INSERT of a task-sized
row + COMMIT (SQLAlchemy Core on a plain Connection of an engine made as the
ledger's, create_ledger_engine with this run's durability) measured in the same
rounds; a ledger that writes one row per enqueue can at best reach
bare / (bare + insert) of bare RQ's throughput. rqledger's one-by-one throughput
ratio (bare / rqledger time) is then shown as a fraction of that ceiling.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone

from benchmarks.report import Row, compared, single
from benchmarks.subjects import QUEUE, Pair, durability
from benchmarks.timing import back_to_back, seconds

SECTION = "enqueue"


def measure(pair: Pair, tasks: int, repeats: int) -> list[Row]:
    ledger, bare = pair.ledger, pair.bare

    def per_task(enqueue) -> float:
        return seconds(lambda: enqueue(tasks)) / tasks * 1e6

    # first calls pay for imports, compiled statements, the Flask app: not what is measured
    for warm_up in (ledger.enqueue_one_by_one, ledger.enqueue_batch, ledger.post_batch,
                    bare.enqueue_one_by_one, bare.enqueue_batch):
        warm_up(2)
    pair.flush()

    inserts = Inserts(ledger.env["DATABASE_URL"])
    try:
        inserts.run(2)
        one, insert = [], []
        for round_number in range(repeats):  # three back to back, rotating which goes first
            steps = [lambda: per_task(ledger.enqueue_one_by_one), lambda: per_task(bare.enqueue_one_by_one),
                     lambda: per_task(inserts.run)]
            shift = round_number % 3
            order = list(range(3))[shift:] + list(range(3))[:shift]
            results = {}
            for index in order:
                results[index] = steps[index]()
                pair.flush()
            one.append((results[0], results[1]))
            insert.append((results[2], results[1]))
    finally:
        inserts.close()
    # throughput as a fraction of bare RQ's: rqledger's, and the ceiling of one committed INSERT per enqueue
    achieved = [b / a for a, b in one]
    ceiling = [b / (b + i) for (i, b) in insert]
    of_ceiling = [x / c for x, c in zip(achieved, ceiling)]
    batch = back_to_back(repeats, lambda: per_task(ledger.enqueue_batch),
                         lambda: per_task(bare.enqueue_batch), pair.flush)
    api = back_to_back(repeats, lambda: per_task(ledger.post_batch),
                       lambda: per_task(bare.enqueue_batch), pair.flush)
    return [
        compared(SECTION, f"{tasks} one by one: EnqueueTask vs Queue.enqueue", "µs/task", one),
        compared(SECTION, "  ceiling: one INSERT of a task row + COMMIT vs Queue.enqueue", "µs/task", insert,
                 note=f"SQLAlchemy Core, plain Connection, {durability()}"),
        single(SECTION, "  single-stream ceiling: bare / (bare + insert)", "x bare", ceiling,
               note="the best a one-row-per-enqueue ledger can do"),
        single(SECTION, "  rqledger one by one: bare / rqledger", "x bare", achieved,
               note=f"{statistics.median(of_ceiling):.2f} of ceiling (target >= 0.90)",
               of_ceiling=statistics.median(of_ceiling), of_ceiling_min=min(of_ceiling),
               of_ceiling_max=max(of_ceiling)),
        compared(SECTION, f"{tasks} as a batch: EnqueueTask.many vs Queue.enqueue_many", "µs/task", batch),
        compared(SECTION, f"{tasks} via POST /api/tasks/batch (test client) vs Queue.enqueue_many",
                 "µs/task", api, note="batches of at most 1,000"),
    ]


class Inserts:
    """One INSERT of a row like EnqueueTask's + COMMIT, on a plain Connection of an engine made as the ledger's."""

    def __init__(self, database_url: str):
        from rqledger.adapters.sqlalchemy import create_ledger_engine
        from rqledger.adapters.sqlalchemy.tables import TaskRow

        self.engine = create_ledger_engine(database_url, durability=durability())
        self.conn = self.engine.connect()
        self.statement = TaskRow.__table__.insert()

    def run(self, count: int) -> None:
        for _ in range(count):
            now = datetime.now(timezone.utc)
            self.conn.execute(self.statement, {
                "name": "noop", "description": "", "args": [], "kwargs": {}, "status": "queued", "progress": 0,
                "result": None, "log": "", "queue": QUEUE, "timeout": 180, "retry_policy": None, "owner": None,
                "attempts": 0, "retry_base": 0, "created_at": now, "enqueued_at": now, "started_at": None,
                "ended_at": None, "worker": None, "version": 0}).inserted_primary_key
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
