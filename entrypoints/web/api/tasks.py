"""One-off tasks: enqueue (one or a batch), list, read, cancel, retry, delete."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import url_for

from rqledger.application.queues import waiting_reasons
from rqledger.domain.errors import DomainError, DuplicateUniqueTask
from rqledger.entrypoints.web.api.requests import task_query, task_request
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.errors import describe, error_body
from rqledger.entrypoints.web.openapi import ERROR_REF
from rqledger.entrypoints.web.records import TaskBatchOut, TaskDetailOut, TaskOut, TaskPageOut, tasks_response
from rqledger.entrypoints.web.schemas import BatchIn, TaskIn, TaskListQuery

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
    return task, 202, {"Location": url_for(".get_task", task_id=task.id)}


@bp.post("/tasks/batch")
@bp.input(BatchIn, arg_name="body")
@bp.output(TaskBatchOut, status_code=202, description="all queued")
@bp.doc(responses={
    409: "a task type is unique and one is already queued or running, or the batch holds it twice: names the index",
    503: {"description": "Redis is down: the rows exist, failed", "content": {"application/json": {"schema": ERROR_REF}}},
})
def enqueue_batch(body):
    """Enqueue many tasks at once

    All are validated first (a 422 names the index of each refused one, and nothing
    is enqueued), then written in one transaction and handed to Redis in one pipeline.
    A unique type refused (409) is named by its index too, and by the index of the
    batch's earlier task it repeats, or the id of the task already queued or running.
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
    try:
        written = enqueue.built(tasks)
    except DuplicateUniqueTask as exc:
        if exc.index is None:
            raise
        return _json(_duplicate_in_batch(exc, len(requests)), 409)
    return tasks_response(written, 202)


def _duplicate_in_batch(exc: DuplicateUniqueTask, size: int) -> dict:
    """The 409 of a batch, shaped like its 422: the refused task's index (the batch was rolled back, so an
    id of the batch's own would name nothing), the earlier index it repeats or the active task's id."""
    item = {"index": exc.index, **describe(exc)[0]["error"]}
    if exc.earlier_index is not None:
        item["earlier_index"] = exc.earlier_index
    if exc.existing_id is not None:
        item["existing_id"] = exc.existing_id
    return error_body(item["code"], f"1 of {size} tasks refused, none enqueued: tasks[{exc.index}]: {exc}",
                      f"tasks.{exc.index}", items=[item])


@bp.get("/tasks")
@bp.input(TaskListQuery, location="query", arg_name="query")
@bp.output(TaskPageOut)
def list_tasks(query):
    """List tasks, newest first

    Follow `next_cursor` (pass it as `cursor`) for the next page; it is null on the last one.
    `since` after `until` is refused (422). The text search `q` reads rows newest first until it
    has a page: narrow a rare text with the other filters on a large ledger.
    """
    services = container()
    page = services.list_tasks()(task_query(query))
    cursor = page.next_cursor
    return tasks_response(page.items, waiting=waiting_reasons(page.items, services.queue_pauses()),
                          next_cursor=None if cursor is None else str(cursor))


@bp.get("/tasks/<id:task_id>")
@bp.output(TaskDetailOut)
def get_task(task_id):
    """One task, with live progress and every attempt

    A queued task of a paused queue says so in `waiting`.
    """
    services = container()
    task = services.get_task()(task_id)
    waiting = waiting_reasons([task], services.queue_pauses())
    if not waiting:
        return task
    return _json({**TaskDetailOut().dump(task), "waiting": waiting[task.id]}, 200)


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
