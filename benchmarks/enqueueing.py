"""1. Enqueueing trivial tasks: one by one and as a batch, rqledger (row + job) vs bare RQ (job)."""

from __future__ import annotations

from benchmarks.report import Row, compared
from benchmarks.subjects import Pair
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

    one = back_to_back(repeats, lambda: per_task(ledger.enqueue_one_by_one),
                       lambda: per_task(bare.enqueue_one_by_one), pair.flush)
    batch = back_to_back(repeats, lambda: per_task(ledger.enqueue_batch),
                         lambda: per_task(bare.enqueue_batch), pair.flush)
    api = back_to_back(repeats, lambda: per_task(ledger.post_batch),
                       lambda: per_task(bare.enqueue_batch), pair.flush)
    return [
        compared(SECTION, f"{tasks} one by one: EnqueueTask vs Queue.enqueue", "µs/task", one),
        compared(SECTION, f"{tasks} as a batch: EnqueueTask.many vs Queue.enqueue_many", "µs/task", batch),
        compared(SECTION, f"{tasks} via POST /api/tasks/batch (test client) vs Queue.enqueue_many",
                 "µs/task", api, note="batches of at most 1,000"),
    ]
