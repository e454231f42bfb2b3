"""The shape of change events (for the dashboard's live view), built in one place."""

from domain.schedule import ScheduledTaskInstance
from domain.task import Task


def task_event(task: Task) -> dict:
    return {"kind": "task", "id": task.id, "name": task.name, "status": task.status.value, "progress": task.progress}


def run_event(run: ScheduledTaskInstance) -> dict:
    return {
        "kind": "run",
        "id": run.id,
        "schedule_id": run.schedule_id,
        "status": run.status.value,
        "progress": run.progress,
    }
