"""Alerts: what the scheduler's maintenance round opened and resolved, and their webhook deliveries. An admin's
(or the shared token's) only: alerts are about every owner's tasks."""

from __future__ import annotations

from apiflask import APIBlueprint

from rqledger.application.alerts import alert_document
from rqledger.application.ports import AlertQuery
from rqledger.domain.alert import AlertStatus
from rqledger.entrypoints.web.api.requests import page_args
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.records import AlertDetailOut, AlertPageOut, delivery_json
from rqledger.entrypoints.web.schemas import AlertListQuery

bp = APIBlueprint("api_alerts", __name__, url_prefix="/api", tag="Alerts")

_OWNERS = "a request acting for one owner: alerts are about every owner's tasks"


@bp.get("/alerts/<id:alert_id>")
@bp.output(AlertDetailOut)
@bp.doc(responses={403: _OWNERS})
def get_alert(alert_id):
    """One alert, with its deliveries to each webhook"""
    alert, deliveries = container().get_alert()(alert_id)
    return {**alert_document(alert), "deliveries": [delivery_json(d) for d in deliveries]}


@bp.get("/alerts")
@bp.input(AlertListQuery, location="query", arg_name="query")
@bp.output(AlertPageOut)
@bp.doc(responses={403: _OWNERS})
def list_alerts(query):
    """List alerts, newest first

    `status=open` for what needs attention now. Alerts are opened and resolved by the scheduler's maintenance
    round (`rqledger scheduler`); each kind and its JSON are described in the README.
    """
    statuses = frozenset(AlertStatus(s) for s in query["status"].split(",")) if query["status"] else frozenset()
    page = container().list_alerts()(AlertQuery(statuses=statuses, kind=query["kind"], **page_args(query)))
    cursor = page.next_cursor
    return {"items": [alert_document(a) for a in page.items], "next_cursor": None if cursor is None else str(cursor)}
