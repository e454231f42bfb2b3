"""The worker process keeps the ledger; its work-horses run the tasks.

A forked work-horse that wrote the ledger itself would open a database connection of
its own for every job (~5 ms on PostgreSQL here, more than a trivial job costs RQ), and
find SQLAlchemy's caches cold. So the worker writes both ends of every attempt over its
own pooled connection:

1. `begin`, in the worker before the fork: TaskExecution.start (queued -> running,
   committed, the attempt number in the job's meta); the Task as written is kept, and
   the work-horse inherits it with the rest of the worker's memory;
2. the work-horse runs the task against a copy of that row (rqledger.entrypoints.task_entry builds a
   LedgerJob whose TaskExecution works on an in-memory ledger), so the retry policy,
   timeouts and the JSON check decide exactly as they do anywhere, and RQ is answered
   accordingly; `hand_back` passes the ended Task to the worker (a file in the worker's
   private folder: the horse is another process);
3. `conclude`, in the worker once the horse is gone: that ended Task is written over the
   started one, one compare-and-set with no read first (TaskExecution.conclude).

A horse that dies before it hands back leaves the row to the worker's failure handling
(JobFailures, in the worker process, as for any killed horse). A horse whose worker was
killed under it writes its outcome itself, as before (the reconciler leaves the attempt to it
while it keeps its sign of life: rqledger.adapters.rq.liveness.LifeSign); a worker killed
between the hand-back and its write leaves the outcome in RQ, where the reconciler finds it. The in-process SimpleWorker takes the same
path, without the file.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from rqledger.adapters.rq.failures import task_id_of
from rqledger.adapters.rq.delivery import ATTEMPT_KEY, PROGRESS_KEY
from rqledger.application.errors import StorageUnavailable
from rqledger.application.execution import TaskExecution
from rqledger.domain.errors import TaskNotFound
from rqledger.domain.task import Task

log = logging.getLogger("rqledger.worker")

# The job was not started by the worker because its row is no longer queued (canceled, a duplicate
# delivery): the work-horse runs nothing and says so to RQ.
REFUSED = "refused"

_active: "AttemptHandoff | None" = None


def active() -> "AttemptHandoff | None":
    """The handoff of the worker this process is (or was forked from); None outside a worker."""
    return _active


class AttemptHandoff:
    """Both ends of every attempt written by the worker process, for the jobs of `entry_functions`."""

    def __init__(self, execution: TaskExecution, entry_functions: frozenset[str],
                 outcome_patience: float = 30.0, write_behind: bool = False):
        self.execution = execution
        self.entry_functions = entry_functions
        self.outcome_patience = outcome_patience
        self._pid = os.getpid()
        self._folder: Path | None = None
        self._started: dict[str, Task | str] = {}
        self._ended: dict[str, Task] = {}
        # fast mode (RQLEDGER_DURABILITY=fast): outcomes are written by a thread, several per commit
        self._behind = _WriteBehind(self._write) if write_behind else None

    def install(self) -> None:
        global _active
        _active = self

    # -- the worker ---------------------------------------------------

    def begin(self, job, worker_name: str | None) -> bool:
        """Starts the job's attempt in the ledger; False when the work-horse must do it itself (not a task
        of ours, or the ledger could not say: it then starts, refuses or retries the job as it always did)."""
        task_id = task_id_of(job)
        if task_id is None or job.func_name not in self.entry_functions:
            return False
        if self._behind is not None:
            self._behind.wait_for(task_id)  # a retry of an attempt whose outcome is still on its way
        try:
            task = self.execution.start(task_id, worker_name)
        except (TaskNotFound, StorageUnavailable):
            return False
        if task is None:
            self._started[job.id] = REFUSED
            return True
        job.meta[ATTEMPT_KEY] = task.attempts
        job.meta[PROGRESS_KEY] = 0  # the live value of an earlier attempt is stale now
        try:
            job.save_meta()
        except Exception as exc:  # the failure handling falls back to the row's own attempt number
            log.warning("job %s: meta not saved: %s", job.id, exc)
        self._started[job.id] = task
        return True

    def conclude(self, job) -> None:
        """Writes the outcome the work-horse handed back, if it did (else its failure handling has)."""
        started = self._started.pop(job.id, None)
        ended = self._take_ended(job.id)
        if not isinstance(started, Task) or ended is None:
            return
        if self._behind is not None:
            self._behind.put(started, ended)
        else:
            self._write([(started, ended)])

    def _write(self, attempts: list[tuple[Task, Task]]) -> None:
        """Writes ended attempts, again with backoff while the ledger is unreachable (for the patience)."""
        deadline = time.monotonic() + self.outcome_patience
        pause = 0.2
        while True:
            try:
                self.execution.conclude_all(attempts)
                return
            except StorageUnavailable as exc:
                if time.monotonic() + pause > deadline:
                    for started, ended in attempts:
                        log.error("task %s attempt %s ended (%s), but the ledger stayed unreachable (%s): the "
                                  "outcome is left in RQ for the reconciler", started.id, started.attempts,
                                  ended.status.value, exc)
                    return
                log.warning("the ledger is unreachable (%s); writing the outcome again in %.1f s", exc, pause)
                time.sleep(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, 3.0)

    def close(self) -> None:
        if os.getpid() != self._pid:
            return
        if self._behind is not None:
            self._behind.close(timeout=self.outcome_patience + 5)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- the work-horse -----------------------------------------------

    def started(self, job_id: str) -> Task | str | None:
        """What the worker did for this job: the started Task, REFUSED, or None (the horse starts it)."""
        return self._started.get(job_id)

    def hand_back(self, job_id: str, ended: Task) -> bool:
        """Passes the ended Task to the worker, which writes it once this work-horse is gone. False when the
        worker is gone (killed while its horse ran on): then nobody would write it, and the horse must."""
        if os.getpid() == self._pid:
            self._ended[job_id] = ended  # not forked: the worker reads it from memory
            return True
        if os.getppid() != self._pid:
            return False
        self._ended[job_id] = ended  # read by this process's own failure handling (handed_back)
        final = self._path(job_id)
        partial = final.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(ended, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, final)  # the worker never reads half an outcome
        return True

    def handed_back(self, job_id: str) -> bool:
        return job_id in self._ended

    # -- between the two ----------------------------------------------

    def _path(self, job_id: str) -> Path:
        if self._folder is None:
            raise RuntimeError("the worker's handoff folder was not made before the fork")
        return self._folder / f"{job_id}.outcome"

    def prepare(self) -> None:
        """Makes the worker's private folder (0700) before the first fork, so every horse writes into it."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="rqledger-worker-"))

    def _take_ended(self, job_id: str) -> Task | None:
        ended = self._ended.pop(job_id, None)
        if ended is not None or self._folder is None:
            return ended
        path = self._path(job_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        path.unlink(missing_ok=True)
        # written by this worker's own work-horse into a folder only this user can write
        return pickle.loads(data)


class _WriteBehind:
    """A thread that writes ended attempts in small groups: whatever has arrived since its last commit,
    up to `group` at a time. The worker takes its next job meanwhile; a worker that crashes loses at most
    the group in flight, which the reconciler takes from RQ's results after its grace period."""

    def __init__(self, write, group: int = 100):
        self._write = write
        self._group = group
        self._pending: "queue.SimpleQueue[tuple[Task, Task] | None]" = queue.SimpleQueue()
        self._unwritten: dict[int, int] = {}  # task id -> outcomes not yet written
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, started: Task, ended: Task) -> None:
        with self._changed:
            self._unwritten[started.id] = self._unwritten.get(started.id, 0) + 1
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="rqledger-outcomes", daemon=True)
            self._thread.start()
        self._pending.put((started, ended))

    def wait_for(self, task_id: int, timeout: float = 60.0) -> None:
        """Returns once no outcome of that task is waiting to be written."""
        with self._changed:
            self._changed.wait_for(lambda: not self._unwritten.get(task_id), timeout)

    def close(self, timeout: float) -> None:
        """Writes what is left, then stops the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._pending.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            group, stop = [first], False
            while len(group) < self._group:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            try:
                self._write(group)
            except Exception:  # never let the thread die: the reconciler repairs what was not written
                log.exception("ended attempts not written to the ledger: %s", [s.id for s, _ in group])
            with self._changed:
                for started, _ in group:
                    left = self._unwritten.get(started.id, 1) - 1
                    if left > 0:
                        self._unwritten[started.id] = left
                    else:
                        self._unwritten.pop(started.id, None)
                self._changed.notify_all()
            if stop:
                return
