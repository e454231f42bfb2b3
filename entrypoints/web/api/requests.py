"""Validated request bodies and queries as the use cases' own request types."""

from __future__ import annotations

from rqledger.application.ports import ScheduleQuery, TaskQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.schedule import ScheduleStatus
from rqledger.domain.task import TaskStatus


def task_request(body: dict) -> TaskRequest:
    retry = body.get("retry")
    return TaskRequest(
        name=body["name"], args=body["args"], kwargs=body["kwargs"], description=body["description"],
        owner=body.get("owner"), queue=body["queue"], timeout=body["timeout"], priority=body.get("priority"),
        retry=Retry(max=retry["max"], interval=retry["interval"]) if retry else None,
    )


def schedule_request(body: dict) -> ScheduleRequest:
    return ScheduleRequest(name=body["name"], args=body["args"], kwargs=body["kwargs"],
                           description=body["description"], owner=body.get("owner"), at=body["at"],
                           interval=body["interval"], repeat=body["repeat"], cron=body["cron"],
                           timezone=body["timezone"],
                           catch_up=body["catch_up"], expect_every=body.get("expect_every"),
                           alert_after_failures=body.get("alert_after_failures"))


def _statuses(text: str | None, enum) -> frozenset:
    return frozenset(enum(s) for s in text.split(",")) if text else frozenset()


def _cursor(text: str | None) -> int | None:
    return int(text) if text else None


def task_query(query: dict) -> TaskQuery:
    return TaskQuery(statuses=_statuses(query["status"], TaskStatus), name=query["name"], owner=query["owner"],
                     limit=query["limit"], before_id=_cursor(query["cursor"]), queue=query["queue"],
                     created_since=query["since"], created_until=query["until"], text=query["q"] or None)


def schedule_query(query: dict) -> ScheduleQuery:
    return ScheduleQuery(statuses=_statuses(query["status"], ScheduleStatus), name=query["name"],
                         owner=query["owner"], limit=query["limit"], before_id=_cursor(query["cursor"]))


def page_args(query: dict) -> dict:
    return {"limit": query["limit"], "before_id": _cursor(query["cursor"])}
