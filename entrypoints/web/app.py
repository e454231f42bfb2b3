"""The Flask application: the JSON API under /api, /openapi.json, and the dashboard at /."""

from __future__ import annotations

from apiflask import APIFlask, HTTPError
from flask import request
from werkzeug.routing import BaseConverter

from entrypoints.web import auth, body, origin
from entrypoints.web.context import KEY
from entrypoints.web.errors import install_error_handlers
from entrypoints.web.openapi import MAX_ID, complete_spec
from entrypoints.web.records import ErrorOut

MAX_BODY = 1024 * 1024


class IdConverter(BaseConverter):
    """Digits in a path. Out-of-range values still match the rule (so a method is judged on the right
    rule) and are answered 404 by `_check_ids`, never handed to the database."""

    regex = r"[0-9]{1,30}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def _check_ids() -> None:
    for name, value in (request.view_args or {}).items():
        if name.endswith("_id") and isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise HTTPError(404, "there is nothing at this address (ids are positive whole numbers)")


def create_app(container=None, **config) -> APIFlask:
    """The app for `container` (default: one built from the environment); `config` overrides Flask settings."""
    if container is None:
        from entrypoints.container import build_container

        container = build_container()
    app = APIFlask("entrypoints.web", title="rqledger", version="1", spec_path="/openapi.json", docs_path=None)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        HTTP_ERROR_SCHEMA=ErrorOut,
        VALIDATION_ERROR_SCHEMA=ErrorOut,
        SYNC_LOCAL_SPEC=False,
        RQLEDGER_SSE_KEEPALIVE=15.0,
        INFO={"description": "Background tasks on RQ with a durable SQL ledger of every task and scheduled run."},
    )
    app.config.update(config)
    app.json.sort_keys = False
    app.extensions[KEY] = container
    app.url_map.converters["id"] = IdConverter
    app.before_request(origin.refuse_cross_site_writes)  # CSRF: before anything else looks at it
    app.before_request(auth.require_token)
    app.before_request(_check_ids)
    app.before_request(body.check_json_body)
    app.after_request(_security_headers)
    install_error_handlers(app)
    app.spec_processor(lambda spec: complete_spec(spec, container))
    _register_blueprints(app)
    return app


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


def _register_blueprints(app: APIFlask) -> None:
    from entrypoints.web.api import events, meta, schedules, tasks
    from entrypoints.web.dashboard import bp as dashboard

    for module in (meta, tasks, schedules, events):
        app.register_blueprint(module.bp)
    app.register_blueprint(dashboard)
    try:
        from entrypoints.web.metrics import metrics_blueprint
    except ModuleNotFoundError as exc:
        if exc.name != "entrypoints.web.metrics":
            raise
    else:
        app.register_blueprint(metrics_blueprint)
