"""The shape of change events (for the dashboard's live view), built in one place.

Every event carries its `owner` (a task's own, a run's schedule's): a per-user live view filters
the stream by it without reading the ledger for each event.
"""

from rqledger.domain.schedule import ScheduledTask, ScheduledTaskInstance
from rqledger.domain.task import Task


def task_event(task: Task) -> dict:
    return {"kind": "task", "id": task.id, "name": task.name, "status": task.status.value, "progress": task.progress,
            "owner": task.owner}


def run_event(run: ScheduledTaskInstance, schedule: ScheduledTask) -> dict:
    """A run's change; `schedule` is the run's own parent (runs have no owner but their schedule's)."""
    return {
        "kind": "run",
        "id": run.id,
        "schedule_id": run.schedule_id,
        "status": run.status.value,
        "progress": run.progress,
        "owner": schedule.owner,
    }
