"""Errors of the application layer: adapters raise these instead of their libraries' exceptions."""

from rqledger.domain.errors import DomainError


class AdapterError(Exception):
    """A port's implementation could not do its job (a service is down, a write was refused)."""


class QueueUnavailable(AdapterError):
    """The task queue (Redis) could not be reached or refused the job."""


class StorageUnavailable(AdapterError):
    """The ledger database could not be reached."""


class TaskNotQueued(DomainError):
    """The row was written but the queue refused it: the task is failed, with the reason in its log."""

    def __init__(self, task, reason: str):
        self.task = task
        self.reason = reason
        super().__init__(f"task {task.id} could not be queued: {reason}")


class ScheduleNotRegistered(DomainError):
    """The parent was written but the scheduler refused its job."""

    def __init__(self, schedule, reason: str):
        self.schedule = schedule
        self.reason = reason
        super().__init__(f"schedule {schedule.id} could not be registered with the scheduler: {reason}")


class DeliveryFailed(AdapterError):
    """An alert's target did not acknowledge it (an error answer, a timeout, no connection)."""
