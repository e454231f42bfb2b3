"""Errors raised where the rules live; every outer layer maps them, none defines its own rules."""


class DomainError(Exception):
    """Base of every error that a rule of the domain raises."""


class IllegalTransition(DomainError):
    """A status change that the entity's transition table does not allow."""

    def __init__(self, entity: str, entity_id, current, requested, reason: str = ""):
        self.entity = entity
        self.entity_id = entity_id
        self.current = getattr(current, "value", current)
        self.requested = getattr(requested, "value", requested)
        message = f"{entity} {entity_id} cannot go from {self.current} to {self.requested}"
        if reason:
            message += f": {reason}"
        super().__init__(message)


class ConcurrentUpdate(IllegalTransition):
    """The row changed under us since it was read (compare-and-set lost)."""

    def __init__(self, entity: str, entity_id, current, requested):
        super().__init__(entity, entity_id, current, requested, "it was changed by someone else first")


class TaskNotFound(DomainError):
    def __init__(self, task_id):
        self.task_id = task_id
        super().__init__(f"task {task_id} does not exist")


class ScheduleNotFound(DomainError):
    def __init__(self, schedule_id):
        self.schedule_id = schedule_id
        super().__init__(f"schedule {schedule_id} does not exist")


class RunNotFound(DomainError):
    def __init__(self, run_id):
        self.run_id = run_id
        super().__init__(f"run {run_id} does not exist")


class AlertNotFound(DomainError):
    def __init__(self, alert_id):
        self.alert_id = alert_id
        super().__init__(f"alert {alert_id} does not exist")


class DuplicateAlert(DomainError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(f"an alert for {key!r} is open already")


class UnknownQueue(DomainError):
    def __init__(self, name: str, known=()):
        self.name = name
        served = ", ".join(sorted(known)) or "none"
        super().__init__(f"queue {name!r} is not served here (queues: {served}; RQLEDGER_QUEUES sets them)")


class UnknownTaskType(DomainError):
    def __init__(self, name: str, known=()):
        self.name = name
        message = f"no task type is registered under the name {name!r}"
        if known:
            message += f" (registered: {', '.join(sorted(known))})"
        super().__init__(message)


class InvalidArguments(DomainError):
    """Arguments that do not fit a task function, or a malformed field."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


class InvalidSchedule(InvalidArguments):
    """A schedule whose timing (at, interval, repeat, cron) makes no sense."""


class DuplicateUniqueTask(DomainError):
    """A unique task type already has a queued or running task (for that owner), or a batch holds it twice.

    `existing_id` is the active task, when it is known; `index` is the refused task's position in
    the batch it came in (0 for a single task) and `earlier_index` that of the batch's earlier task
    of the same type and owner, when the batch itself holds it twice.
    """

    def __init__(self, name: str, owner: str | None, existing_id, index: int | None = None,
                 earlier_index: int | None = None):
        self.name = name
        self.owner = owner
        self.existing_id = existing_id
        self.index = index
        self.earlier_index = earlier_index
        whose = f" for owner {owner!r}" if owner else ""
        if existing_id is not None:
            message = f"task type {name!r} is unique and task {existing_id} is already queued or running{whose}"
        elif earlier_index is not None:
            message = (f"task type {name!r} is unique and the batch holds it twice{whose} "
                       f"(items {earlier_index} and {index})")
        else:  # the database refused a second holder of the key; the first is not visible from here
            message = f"task type {name!r} is unique and another task of it is already queued or running{whose}"
        super().__init__(message)


class DuplicateRun(DomainError):
    """The same firing of a schedule was already recorded (another process won the race)."""

    def __init__(self, schedule_id, scheduled_at):
        self.schedule_id = schedule_id
        self.scheduled_at = scheduled_at
        super().__init__(f"schedule {schedule_id} already has a run for {scheduled_at.isoformat()}")


class TaskStillActive(DomainError):
    def __init__(self, task_id, status):
        self.task_id = task_id
        self.status = getattr(status, "value", status)
        super().__init__(f"task {task_id} is {self.status}; only ended tasks can be deleted (cancel it first)")
