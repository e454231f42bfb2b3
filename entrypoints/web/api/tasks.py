"""One-off tasks: enqueue (one or a batch), list, read, cancel, retry, delete."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import url_for

from domain.errors import DomainError
from entrypoints.web.api.requests import task_query, task_request
from entrypoints.web.context import container
from entrypoints.web.errors import describe, error_body
from entrypoints.web.openapi import ERROR_REF
from entrypoints.web.records import TaskBatchOut, TaskDetailOut, TaskOut, TaskPageOut, tasks_response
from entrypoints.web.schemas import BatchIn, TaskIn, TaskListQuery

bp = APIBlueprint("api_tasks", __name__, url_prefix="/api", tag="Tasks")

_LOCATION = {"Location": {"description": "the address of the new task", "schema": {"type": "string"}}}


@bp.post("/tasks")
@bp.input(TaskIn, arg_name="body")
@bp.output(TaskOut, status_code=202, description="queued")
@bp.doc(responses={
    202: {"description": "queued", "headers": _LOCATION},
    409: "the task type is unique and one is already queued or running",
    503: {"description": "Redis is down: the row exists, failed, and its log says why",
          "content": {"application/json": {"schema": ERROR_REF}}},
})
def enqueue_task(body):
    """Enqueue a task

    Arguments are checked against the task function's signature before anything is stored.
    """
    task = container().enqueue_task()(task_request(body))
    return task, 202, {"Location": url_for("api_tasks.get_task", task_id=task.id)}


@bp.post("/tasks/batch")
@bp.input(BatchIn, arg_name="body")
@bp.output(TaskBatchOut, status_code=202, description="all queued")
@bp.doc(responses={
    409: "a task type is unique and one is already queued or running",
    503: {"description": "Redis is down: the rows exist, failed", "content": {"application/json": {"schema": ERROR_REF}}},
})
def enqueue_batch(body):
    """Enqueue many tasks at once

    All are validated first (a 422 names the index of each refused one, and nothing
    is enqueued), then written in one transaction and handed to Redis in one pipeline.
    """
    enqueue = container().enqueue_task()
    requests = [task_request(item) for item in body["tasks"]]
    refused, tasks = [], []
    for index, request in enumerate(requests):
        try:
            tasks.append(enqueue.build(request))
        except DomainError as exc:
            error = describe(exc)[0]["error"]
            refused.append({"index": index, **error})
    if refused:
        message = "; ".join(f"tasks[{r['index']}]: {r['message']}" for r in refused)
        body = error_body("invalid_batch", f"{len(refused)} of {len(requests)} tasks refused, none enqueued: {message}",
                          f"tasks.{refused[0]['index']}", items=refused)
        return _json(body, 422)
    return tasks_response(enqueue.built(tasks), 202)


@bp.get("/tasks")
@bp.input(TaskListQuery, location="query", arg_name="query")
@bp.output(TaskPageOut)
def list_tasks(query):
    """List tasks, newest first

    Follow `next_cursor` (pass it as `cursor`) for the next page; it is null on the last one.
    """
    page = container().list_tasks()(task_query(query))
    cursor = page.next_cursor
    return tasks_response(page.items, next_cursor=None if cursor is None else str(cursor))


@bp.get("/tasks/<id:task_id>")
@bp.output(TaskDetailOut)
def get_task(task_id):
    """One task, with live progress and every attempt"""
    return container().get_task()(task_id)


@bp.post("/tasks/<id:task_id>/cancel")
@bp.output(TaskOut)
@bp.doc(responses={409: "the task has already ended"})
def cancel_task(task_id):
    """Cancel a queued or running task"""
    return container().cancel_task()(task_id)


@bp.post("/tasks/<id:task_id>/retry")
@bp.output(TaskOut, status_code=202)
@bp.doc(responses={
    409: "only a failed or canceled task can be retried",
    503: {"description": "Redis is down: the task is failed again", "content": {"application/json": {"schema": ERROR_REF}}},
})
def retry_task(task_id):
    """Re-queue a failed or canceled task"""
    return container().retry_task()(task_id)


@bp.delete("/tasks/<id:task_id>")
@bp.output({}, status_code=204)
@bp.doc(responses={409: "the task is queued or running: cancel it first"})
def delete_task(task_id):
    """Delete an ended task"""
    container().delete_task()(task_id)
    return ""


def _json(body: dict, status: int):
    from flask import jsonify

    response = jsonify(body)
    response.status_code = status
    return response
