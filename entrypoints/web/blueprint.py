"""rqledger's web side as one blueprint: the JSON API under `api/`, the OpenAPI description, the dashboard.

Both ways of serving it register this same blueprint: `rqledger web` on an app of its
own (entrypoints/web/app.py, at the root) and the Flask extension in a user's app
(entrypoints/flask_ext.py, under a prefix such as /tasks). Everything that guards a
request is attached here, to the blueprint, so it guards exactly rqledger's routes and
none of the host app's: the Host allow-list, the cross-site check, who is asking
(access.py), the id range, strict JSON bodies, the body limit and the error format.
"""

from __future__ import annotations

from apiflask import APIBlueprint, HTTPError
from flask import current_app, jsonify, request

from rqledger.entrypoints.web import access, body, hosts, origin
from rqledger.entrypoints.web.errors import register_error_handlers
from rqledger.entrypoints.web.openapi import MAX_ID

NAME = "rqledger"
MAX_BODY = 1024 * 1024


def build_blueprint() -> APIBlueprint:
    """A fresh `rqledger` blueprint (one per app it is registered on) holding the API's and the dashboard's."""
    from rqledger.entrypoints.web.api import alerts, events, meta, queues, schedules, tasks
    from rqledger.entrypoints.web.dashboard import bp as dashboard

    bp = APIBlueprint(NAME, __name__, enable_openapi=True)
    bp.before_request(_limit_body)
    bp.before_request(hosts.refuse_unknown_hosts)  # DNS rebinding: before anything else looks at the request
    bp.before_request(origin.refuse_cross_site_writes)  # CSRF
    bp.before_request(access.identify)  # who asks: a token, a token's owner, or the host app's logged-in user
    bp.before_request(_check_ids)
    bp.before_request(body.check_json_body)
    bp.after_request(_security_headers)
    register_error_handlers(bp)
    for module in (meta, tasks, schedules, queues, alerts, events):
        bp.register_blueprint(module.bp)
    bp.register_blueprint(dashboard)
    try:
        from rqledger.entrypoints.web.metrics import metrics_blueprint
    except ModuleNotFoundError as exc:
        if exc.name != "rqledger.entrypoints.web.metrics":
            raise
    else:
        bp.register_blueprint(metrics_blueprint)
    bp.add_url_rule("/openapi.json", "spec", _spec, methods=["GET"])
    return bp


def endpoint(name: str) -> str:
    """The full endpoint of one of rqledger's views (`api_tasks.get_task` -> `rqledger.api_tasks.get_task`)."""
    return f"{NAME}.{name}"


def _limit_body() -> None:
    """1 MiB, or the host app's own MAX_CONTENT_LENGTH when it is lower (Flask 3.1 reads it per request)."""
    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = MAX_BODY if configured is None else min(configured, MAX_BODY)


def _check_ids() -> None:
    for name, value in (request.view_args or {}).items():
        if name.endswith("_id") and isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise HTTPError(404, "there is nothing at this address (ids are positive whole numbers)")


def _spec():
    """The OpenAPI description of this API, as mounted here (a prefix is the `servers` entry)."""
    from rqledger.entrypoints.web.spec import spec_for

    return jsonify(spec_for(current_app))


_spec.__doc__ = None  # not an operation of the API itself
_spec._spec = {"hide": True}  # apiflask: leave it out of the description

# The dashboard loads only its own script and stylesheet; nothing may frame it.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cache-Control", "no-store")
    return response
