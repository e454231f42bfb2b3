"""Fast mode's write-behind (rqledger.adapters.rq.handoff): an attempt's outcome is written before its task starts again."""

import copy
import threading
from datetime import datetime, timezone

from rqledger.adapters.rq.handoff import AttemptHandoff
from rqledger.adapters.rq.queue import JOB_FUNC
from rqledger.domain.task import Task, TaskStatus

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeJob:
    def __init__(self, job_id: str):
        self.id = job_id
        self.func_name = JOB_FUNC
        self.meta = {}

    def save_meta(self):
        pass


class SlowLedger:
    """A TaskExecution stand-in whose group commit waits until released."""

    def __init__(self):
        self.calls: list[str] = []
        self.release = threading.Event()

    def conclude_all(self, attempts):
        self.release.wait(10)
        self.calls += [f"wrote {started.id}" for started, _ in attempts]

    def start(self, task_id, worker):
        self.calls.append(f"started {task_id}")
        task = Task(id=task_id, name="t", status=TaskStatus.QUEUED)
        task.start(worker, NOW)
        return task


def test_a_retry_waits_for_its_earlier_attempt_to_be_written_and_other_tasks_do_not():
    ledger = SlowLedger()
    handoff = AttemptHandoff(ledger, frozenset({JOB_FUNC}), write_behind=True)
    first = FakeJob("7")
    assert handoff.begin(first, "w")
    ended = copy.deepcopy(handoff.started("7"))
    ended.record_failure("RuntimeError: once", NOW)  # requeued for an immediate retry
    assert handoff.hand_back("7", ended)
    handoff.conclude(first)  # handed to the writer thread, which is stuck in its commit

    assert handoff.begin(FakeJob("8"), "w")  # another task does not wait
    retry = threading.Thread(target=handoff.begin, args=(FakeJob("7"), "w"))
    retry.start()
    retry.join(0.3)
    assert retry.is_alive(), "the retry started while its previous outcome was still unwritten"

    ledger.release.set()
    retry.join(5)
    assert ledger.calls == ["started 7", "started 8", "wrote 7", "started 7"]
    handoff.close()
