"""`rqledger web`'s own app: the rqledger blueprint (entrypoints/web/blueprint.py) at the root.

The Flask extension (entrypoints/flask_ext.py) registers the same blueprint in a user's app under a
prefix: one API and one dashboard, served from the same code either way.
"""

from __future__ import annotations

from apiflask import APIFlask
from flask import request
from werkzeug.routing import BaseConverter

from rqledger.entrypoints.web import access, hosts, origin
from rqledger.entrypoints.web.blueprint import MAX_BODY, build_blueprint
from rqledger.entrypoints.web.context import KEY
from rqledger.entrypoints.web.errors import register_error_handlers
from rqledger.entrypoints.web.spec import SPEC_APP_KEY, TITLE, VERSION, describe

__all__ = ["create_app", "MAX_BODY", "IdConverter", "install_converters"]


class IdConverter(BaseConverter):
    """Digits in a path. Out-of-range values still match the rule (so a method is judged on the right
    rule) and are answered 404 by the blueprint's id check, never handed to the database."""

    regex = r"[0-9]{1,30}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def install_converters(app) -> None:
    """The `<id:...>` converter of rqledger's routes (must exist before the blueprint is registered)."""
    app.url_map.converters.setdefault("id", IdConverter)


def create_app(container=None, **config) -> APIFlask:
    """The app for `container` (default: one built from the environment); `config` overrides Flask settings
    (`RQLEDGER_BOUND_TO=(host, port)`: the address a server listens on, for the Host allow-list)."""
    if container is None:
        from rqledger.entrypoints.container import build_container

        container = build_container()
    app = APIFlask("rqledger.entrypoints.web", title=TITLE, version=VERSION, spec_path=None, docs_path=None,
                   static_folder=None)
    describe(app, container)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, RQLEDGER_SSE_KEEPALIVE=15.0)
    app.config.update(config)
    app.json.sort_keys = False
    app.extensions[KEY] = container
    app.extensions[SPEC_APP_KEY] = app  # the description is this app's own (entrypoints/web/spec.py)
    install_converters(app)
    hosts.install(app, container)
    access.install(app, container)
    app.before_request(_guard_unmatched)
    register_error_handlers(app)  # for the addresses no route matches (404, 405) and the body limit (413)
    app.register_blueprint(build_blueprint())
    return app


def _guard_unmatched() -> None:
    """An address no route matches is guarded like the routes (Host, cross-site, token) before its 404:
    a stranger learns nothing, not even which addresses exist."""
    if request.blueprint is not None:
        return  # one of rqledger's routes: the blueprint's own hooks guard it
    hosts.refuse_unknown_hosts()
    origin.refuse_cross_site_writes()
    access.identify()
