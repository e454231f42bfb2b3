"""Which RQ jobs a ledger worker runs: its own entry functions, read as JSON, with nothing foreign attached.

Anyone who can write to Redis can put a job on a queue, and plain RQ would import and
call whatever function the job names, unpickle its payload (default serializer) and
import any callback it names. A ledger worker runs only the entry functions rqledger
enqueues itself (e.g. `rqledger.entrypoints.task_entry.run_task`), which look the task up in the
worker's own registry; any other job is failed in RQ, logged, and never run.
"""

from __future__ import annotations

from typing import Collection

from rq.exceptions import DeserializationError
from rq.job import Job
from rq.serializers import JSONSerializer

from rqledger.adapters.rq.queue import JOB_FUNC

# What rqledger enqueues: a task's delivery (RqTaskQueue) and a schedule's firing (`rqledger scheduler`).
ENTRY_FUNCTIONS = frozenset({JOB_FUNC, "rqledger.entrypoints.firing_entry.run_schedule"})

_CALLBACKS = ("success", "failure", "stopped")


class GuardedJob(Job):
    """An RQ Job read as JSON by default that never imports a callback nor calls a webhook named in Redis.

    rqledger's jobs have neither; RQ would import a callback even while it cleans up
    an abandoned job (StartedJobRegistry.cleanup), so the job class itself says no.
    """

    def __init__(self, id=None, connection=None, serializer=None):
        super().__init__(id, connection=connection, serializer=serializer or JSONSerializer)

    @property
    def success_callback(self):
        return None

    @property
    def failure_callback(self):
        return None

    @property
    def stopped_callback(self):
        return None

    def send_webhooks(self, status, *, exc_string=None) -> None:
        return None


def refusal(job: Job, entry_functions: Collection[str]) -> str | None:
    """Why `job` must not run on a ledger worker, or None when it is one of rqledger's own."""
    try:
        func_name, instance = job.func_name, job.instance
    except DeserializationError:  # JSONSerializer never unpickles: a pickled payload ends here, unread
        return "its payload is not JSON (pickled or corrupt); it was not deserialized"
    if instance is not None or not isinstance(func_name, str) or func_name not in entry_functions:
        called = f"a method of {type(instance).__name__}" if instance is not None else repr(func_name)
        return f"it calls {called}, not one of this worker's entry functions ({', '.join(sorted(entry_functions))})"
    foreign = [kind for kind in _CALLBACKS if getattr(job, f"_{kind}_callback_name", None)]
    if foreign or job.webhooks:
        return "it carries callbacks or webhooks, which rqledger's jobs never have"
    return None
