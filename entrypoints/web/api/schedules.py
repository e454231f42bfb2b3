"""Schedules (the parents) and their runs."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import url_for

from rqledger.entrypoints.web.api.requests import page_args, schedule_query, schedule_request
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.openapi import ERROR_REF, SCHEDULE_REF
from rqledger.entrypoints.web.records import (RunPageOut, ScheduleDetailOut, ScheduleOut, SchedulePageOut,
                                     page_of)
from rqledger.entrypoints.web.schemas import PageQuery, ScheduleIn, ScheduleListQuery

bp = APIBlueprint("api_schedules", __name__, url_prefix="/api", tag="Schedules")

# another writer (a run starting or ending, another request) changed the schedule at the same moment
CHANGED_MEANWHILE = {"description": "the schedule changed at the same moment (a run started or ended): try again",
                     "content": {"application/json": {"schema": ERROR_REF}}}


@bp.post("/schedules")
@bp.input(ScheduleIn, arg_name="body")
@bp.output(ScheduleOut, status_code=201, description="a new schedule")
@bp.doc(responses={
    200: {"description": "the existing schedule with this name, args and kwargs: it takes the new timing "
                         "and runs again", "content": {"application/json": {"schema": SCHEDULE_REF}}},
    409: CHANGED_MEANWHILE,
    503: {"description": "stored, but the scheduler could not take it yet (it is re-created when the scheduler "
                         "starts)", "content": {"application/json": {"schema": ERROR_REF}}},
})
def register_schedule(body):
    """Schedule a task: once, every N seconds, or on a cron expression

    Registering the same name with the same args and kwargs again updates and revives the existing schedule.
    """
    schedule, created = container().register_schedule()(schedule_request(body))
    location = {"Location": url_for(".get_schedule", schedule_id=schedule.id)}
    return schedule, 201 if created else 200, location


@bp.get("/schedules")
@bp.input(ScheduleListQuery, location="query", arg_name="query")
@bp.output(SchedulePageOut)
def list_schedules(query):
    """List schedules, newest first, with their next run time and last run"""
    return page_of(container().list_schedules()(schedule_query(query)))


@bp.get("/schedules/<id:schedule_id>")
@bp.output(ScheduleDetailOut)
def get_schedule(schedule_id):
    """One schedule with its recent runs"""
    schedule, runs = container().get_schedule()(schedule_id)
    return _Detail(schedule, runs)


@bp.get("/schedules/<id:schedule_id>/runs")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(RunPageOut)
def list_runs(schedule_id, query):
    """The runs of a schedule, newest first"""
    return page_of(container().list_runs()(schedule_id, **page_args(query)))


@bp.post("/schedules/<id:schedule_id>/cancel")
@bp.output(ScheduleOut)
@bp.doc(responses={409: CHANGED_MEANWHILE})
def cancel_schedule(schedule_id):
    """Stop a schedule for good (status death)"""
    return container().cancel_schedule()(schedule_id)


@bp.delete("/schedules/<id:schedule_id>")
@bp.output({}, status_code=204)
@bp.doc(responses={409: CHANGED_MEANWHILE})
def delete_schedule(schedule_id):
    """Delete a schedule and all its runs"""
    container().delete_schedule()(schedule_id)
    return ""


class _Detail:
    """A schedule seen with its runs, for ScheduleDetailOut."""

    def __init__(self, schedule, runs):
        self._schedule = schedule
        self.runs = runs

    def __getattr__(self, name):
        return getattr(self._schedule, name)
