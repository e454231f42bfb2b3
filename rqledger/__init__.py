"""rqledger: background tasks on RQ with a durable SQL ledger of every one of them.

For task modules (light: nothing here imports rq, SQLAlchemy or Flask):

    from rqledger import task, set_progress, Retry

For the app that enqueues and reads them (the Python API; built on first use):

    from rqledger import Ledger
    ledger = Ledger()                     # DATABASE_URL, REDIS_URL, RQLEDGER_TASK_MODULES
    export_posts.using(owner=current_user.id).enqueue(42)
"""

from rqledger.application.calls import provide_default_client
from rqledger.application.errors import QueueUnavailable, StorageUnavailable, TaskNotQueued
from rqledger.application.progress import set_progress
from rqledger.application.registry import task
from rqledger.domain.errors import (DomainError, DuplicateUniqueTask, IllegalTransition, InvalidArguments,
                                    ScheduleNotFound, TaskNotFound, TaskStillActive, UnknownQueue, UnknownTaskType)
from rqledger.domain.retry import Retry
from rqledger.domain.task import Priority, TaskStatus

# What needs the composition root (SQLAlchemy, Redis, RQ) is imported on first use, so that a task
# module's `from rqledger import task` stays cheap.
_LAZY = {"Ledger": "Ledger", "set_default_ledger": "set_default_ledger", "default_ledger": "default_ledger"}


def __getattr__(name: str):
    if name in _LAZY:
        from rqledger.entrypoints import ledger

        return getattr(ledger, _LAZY[name])
    raise AttributeError(f"module 'rqledger' has no attribute {name!r}")


def _default_ledger():
    from rqledger.entrypoints.ledger import default_ledger

    return default_ledger()


provide_default_client(_default_ledger)

__all__ = [
    "task", "set_progress", "Retry", "Ledger", "set_default_ledger", "default_ledger", "TaskStatus",
    "DomainError", "UnknownTaskType", "InvalidArguments", "DuplicateUniqueTask", "TaskNotQueued",
    "QueueUnavailable", "StorageUnavailable", "TaskNotFound", "ScheduleNotFound", "IllegalTransition",
    "TaskStillActive", "Priority", "UnknownQueue",
]
