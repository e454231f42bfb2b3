"""`rqledger worker --concurrency N`: a supervisor process and N long-lived worker processes.

Celery's prefork model on RQ: the supervisor builds the container, warms the ledger's statements up and
forks N children once; each child (rqledger.adapters.rq.pooled.LedgerPoolChild) is an RQ worker of its own
name that takes tasks one after another in its own process, with its own Redis and database connections,
and never forks per task. The supervisor only watches them:

- a child that ended while it ran a task (killed, out of memory, ended by a stop command or by a task that
  overran its timeout) has that task settled here at once, in RQ and in the ledger, exactly as a forking
  worker settles a dead work-horse (retried by the task's policy, failed, or canceled), and is replaced;
- a child that did its `--max-tasks-per-child` tasks or passed `--max-memory-per-child` MB leaves after its
  task and is replaced;
- SIGTERM/SIGINT: every child finishes its task and leaves (warm); a second signal a second or more later
  ends them at once, and their tasks are settled as for a cold shutdown;
- children crashing as they start (a broken setting) are restarted with a growing pause, at most 10 s;
- the supervisor SIGKILLed: each child is told by a parent-death signal (SIGTERM), finishes its task,
  writes its outcome and leaves; nothing takes new tasks.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field

from rqledger.adapters.rq import LedgerWorker
from rqledger.adapters.rq.pooled import (EXIT_OVERRAN, EXIT_RECYCLED, EXIT_STOPPED, LedgerPoolChild, describe_exit,
                                         settle_lost_job)
from rqledger.adapters.rq.worker import _set_parent_death_signal

log = logging.getLogger("rqledger.worker")

QUICK_CRASH = 2.0  # a child that fails within this many seconds of its start counts towards the backoff
MAX_BACKOFF = 10.0
COLD_AFTER = 1.0  # a second stop signal within this many seconds of the first is the same request


@dataclass
class Child:
    index: int
    name: str
    pid: int
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Runs `concurrency` pooled children until a stop signal (or, with `burst`, until the queues are empty)."""

    def __init__(self, container, build_worker, queues: list[str] | None, concurrency: int, burst: bool = False,
                 with_scheduler: bool = True, failure_handlers: tuple = (), max_tasks: int | None = None,
                 max_memory_mb: float | None = None):
        self.container = container
        self.build_worker = build_worker
        self.queues = queues
        self.concurrency = concurrency
        self.burst = burst
        self.with_scheduler = with_scheduler
        self.failure_handlers = failure_handlers
        self.max_tasks = max_tasks
        self.max_memory_mb = max_memory_mb
        self.children: dict[int, Child] = {}
        self.vacant: set[int] = set()  # indexes to fill again
        self.stopping_since: float | None = None
        self.cold = False
        self.backoff = 0.0
        self.next_spawn = 0.0
        self.pid = os.getpid()

    def run(self) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        log.info("worker pool %s: %d processes, each taking tasks one after another%s", self.pid, self.concurrency,
                 f", each replaced after {self.max_tasks} tasks" if self.max_tasks else "")
        try:
            for index in range(self.concurrency):
                self._spawn(index)
            while self.children or (self.vacant and self.stopping_since is None):
                self._reap()
                if self.stopping_since is None and self.vacant and time.monotonic() >= self.next_spawn:
                    for index in sorted(self.vacant):
                        self._spawn(index)
                time.sleep(0.1)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("worker pool %s: every process has stopped", self.pid)

    def _spawn(self, index: int) -> None:
        name = f"{socket.gethostname()}.{self.pid}.{index}.{uuid.uuid4().hex[:6]}"
        pid = os.fork()
        if pid == 0:
            self._child(name)  # never returns
        self.vacant.discard(index)
        self.children[pid] = Child(index, name, pid)

    def _child(self, name: str) -> None:
        code = 1
        try:
            _set_parent_death_signal(signal.SIGTERM)  # the supervisor killed: finish the task, then leave
            if os.getppid() != self.pid:
                os._exit(0)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)  # RQ's own handlers are set by work()
            worker = self.build_worker(self.container, self.queues, worker_class=LedgerPoolChild, name=name,
                                       failure_handlers=self.failure_handlers, max_tasks=self.max_tasks,
                                       max_memory_mb=self.max_memory_mb)
            worker.work(burst=self.burst, with_scheduler=self.with_scheduler, logging_level="INFO")
            code = EXIT_RECYCLED if worker.recycled else 0
        except SystemExit as exc:  # RQ's cold shutdown
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("worker %s: its loop failed", name)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is not None:
                self._ended(child, status)

    def _ended(self, child: Child, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        if code != 0 and code != EXIT_RECYCLED:
            if self.cold:
                reason = "the worker was shut down (cold) while it ran"
            else:
                reason = f"the worker process running it {describe_exit(status)}"
            recorder = self.build_worker(self.container, self.queues, worker_class=LedgerWorker, name=child.name,
                                         failure_handlers=self.failure_handlers)
            try:
                settled = settle_lost_job(recorder, reason, stopped=code == EXIT_STOPPED, overran=code == EXIT_OVERRAN)
            finally:
                recorder.connection.close()
            log.warning("worker %s (pid %d) %s%s", child.name, child.pid, _ending(code, status),
                        f"; its job {', '.join(settled)} was settled" if settled else "")
        if self.stopping_since is not None:
            return
        if code == 0 and self.burst:
            return  # the queues are empty
        self.vacant.add(child.index)
        quick = time.monotonic() - child.started < QUICK_CRASH and code not in (0, EXIT_RECYCLED, EXIT_STOPPED)
        self.backoff = min(max(self.backoff * 2, 0.5), MAX_BACKOFF) if quick else 0.0
        if self.backoff:
            log.warning("worker processes end as they start: the next one starts in %g s", self.backoff)
        self.next_spawn = time.monotonic() + self.backoff

    def _stop(self, signum, frame) -> None:
        now = time.monotonic()
        if self.stopping_since is None:
            self.stopping_since = now
            log.info("worker pool %s: stopping; every process finishes its task first (again to stop at once)",
                     self.pid)
            self._signal_children(signal.SIGTERM)
        elif now - self.stopping_since >= COLD_AFTER and not self.cold:
            self.cold = True
            log.warning("worker pool %s: stopping at once; the running tasks are ended", self.pid)
            self._signal_children(signal.SIGKILL)

    def _signal_children(self, signum: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _ending(code: int, status: int) -> str:
    if code == EXIT_STOPPED:
        return "ended with its task, which a stop command stopped"
    if code == EXIT_OVERRAN:
        return "ended with its task, which overran its timeout"
    return describe_exit(status)
