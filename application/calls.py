"""`my_task.enqueue(...)` and `my_task.using(owner=..., ...).enqueue(...)`: a task function as its own client.

The enqueue goes to a ledger: the one given with `using(ledger=...)`, else the process's
default ledger, which the composition root provides (`set_default_ledger` there). This
module only knows the shape of a ledger (TaskClient), never how one is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from rqledger.application.registry import TaskType
    from rqledger.domain.task import Task

# What `using()` takes: enqueue's options, plus the ledger to enqueue on.
OPTIONS = frozenset({"owner", "description", "queue", "priority", "timeout", "retry", "connection", "ledger"})


class TaskClient(Protocol):
    def enqueue(self, name: str, args: list | tuple = (), kwargs: dict | None = None, **options: Any) -> "Task":
        """Validates and enqueues task `name`; see rqledger.Ledger.enqueue."""


_default_client: Callable[[], TaskClient] | None = None


def provide_default_client(factory: Callable[[], TaskClient]) -> None:
    """Installed by the composition root: how `my_task.enqueue()` finds a ledger when none is given."""
    global _default_client
    _default_client = factory


def default_client() -> TaskClient:
    if _default_client is None:
        raise RuntimeError("no default ledger: import rqledger (or pass using(ledger=...))")
    return _default_client()


@dataclass(frozen=True)
class TaskCall:
    """A task type with enqueue options bound; `enqueue(*args, **kwargs)` takes the function's own arguments."""

    task_type: "TaskType"
    options: dict = field(default_factory=dict)

    def using(self, **options) -> "TaskCall":
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise TypeError(f"using() takes {', '.join(sorted(OPTIONS))}; not {', '.join(unknown)}")
        return TaskCall(self.task_type, {**self.options, **options})

    def enqueue(self, *args, **kwargs) -> "Task":
        options = dict(self.options)
        ledger = options.pop("ledger", None) or default_client()
        return ledger.enqueue(self.task_type.name, args=list(args), kwargs=kwargs, **options)
