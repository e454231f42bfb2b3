"""Health and the registered task types."""

from __future__ import annotations

from apiflask import APIBlueprint

from rqledger.entrypoints.web.access import may_see_internals
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.health import Health, without_details
from rqledger.entrypoints.web.records import HealthOut, TaskTypesOut

bp = APIBlueprint("api_meta", __name__, url_prefix="/api", tag="Service")


@bp.get("/health")
@bp.output(HealthOut, description="the database and Redis answer")
@bp.doc(responses={
    503: {"description": "the database or Redis is down: the report says which",
          "content": {"application/json": {"schema": HealthOut}}}})
def health():
    """Check the database and Redis

    Open to anyone, even when an API token is set: it says what is down. Why (the database driver's or
    Redis' error) only with the token, or, when no token is configured, to a request from this machine.
    """
    c = container()
    report, ok = Health(c.uow(), c.redis_check())()
    return report if may_see_internals() else without_details(report), 200 if ok else 503


@bp.get("/task-types")
@bp.output(TaskTypesOut)
def task_types():
    """The registered task types, with their parameters"""
    return {"items": [task_type.to_dict() for task_type in container().registry()]}
