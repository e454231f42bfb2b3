"""Queues: list them, pause one (its tasks wait, queued), resume it. An admin's (or the shared token's) only:
a queue is shared by every owner."""

from __future__ import annotations

from apiflask import APIBlueprint

from rqledger.entrypoints.web.body import optional_body
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.records import QueueOut, QueuesOut, WorkersOut, queue_json
from rqledger.entrypoints.web.schemas import PauseIn

bp = APIBlueprint("api_queues", __name__, url_prefix="/api", tag="Queues")

_NOT_SERVED = "no queue of that name is served here (RQLEDGER_QUEUES)"
_OWNERS = "a request acting for one owner: queues are shared by every owner"


@bp.post("/queues/<name>/pause")
@optional_body
@bp.input(PauseIn, arg_name="body")
@bp.output(QueueOut)
@bp.doc(responses={403: _OWNERS, 404: _NOT_SERVED})
def pause_queue(name, body):
    """Pause a queue

    No worker starts a task of a paused queue until it is resumed: its tasks stay queued (GET /api/tasks/{id}
    says why in `waiting`), running ones finish. The pause is kept in the ledger's database, so it outlives
    worker and Redis restarts. Pausing a paused queue changes nothing and answers with the first pause.
    """
    services = container()
    services.pause_queue()(name, by=body.get("by"), reason=body.get("reason"))
    return _state(services, name)


@bp.post("/queues/<name>/resume")
@bp.output(QueueOut)
@bp.doc(responses={403: _OWNERS, 404: _NOT_SERVED})
def resume_queue(name):
    """Resume a queue

    Workers take its waiting tasks again within seconds. Resuming a queue that is not paused changes nothing.
    """
    services = container()
    services.resume_queue()(name)
    return _state(services, name)


@bp.get("/queues")
@bp.output(QueuesOut)
@bp.doc(responses={403: _OWNERS})
def list_queues():
    """List the queues

    Each served queue (and any other that still holds tasks): paused or not, the jobs waiting in Redis per
    priority (null when Redis does not answer), and the ledger's queued and running tasks on it.
    """
    return {"items": [queue_json(state) for state in container().list_queues()()]}


@bp.get("/workers")
@bp.output(WorkersOut)
@bp.doc(responses={403: "a request acting for one owner: workers run every owner's tasks"}, tags=["Queues"])
def list_workers():
    """List the workers

    Every worker registered in Redis (none with the memory backend): its state, queues, the task it runs, its
    heartbeat's age (older than RQLEDGER_WORKER_TTL: taken for dead), and how many tasks it finished and failed.
    """
    services = container()
    return {"items": services.workers()(services.clock().now())}


def _state(services, name: str) -> dict:
    return next(queue_json(state) for state in services.list_queues()() if state.name == name)
