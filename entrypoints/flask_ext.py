"""`rqledger.flask.RQLedger`: rqledger's API and dashboard inside a Flask app, scoped to the logged-in user.

    from rqledger.flask import RQLedger

    rqledger_ext = RQLedger()                          # or RQLedger(app)
    rqledger_ext.init_app(app, url_prefix="/tasks")    # JSON API under /tasks/api/..., dashboard at /tasks/

    @rqledger_ext.owner_loader
    def current_owner():                               # once per request; None -> 401
        return current_user.id if current_user.is_authenticated else None

    @rqledger_ext.admin_loader                         # optional: True -> this request sees every owner's tasks
    def is_admin():
        return current_user.is_authenticated and current_user.is_admin

    rqledger_ext.ledger.enqueue("export_posts", args=[user.id], owner=user.id)   # in a view
    export_posts.using(owner=user.id).enqueue(user.id)                           # the app's ledger by default

The blueprint is the one `rqledger web` serves (entrypoints/web/blueprint.py); who may see what is decided
in entrypoints/web/access.py and scope.py. Settings come from app.config (RQLEDGER_DATABASE_URL, which
defaults to SQLALCHEMY_DATABASE_URI: the ledger's tables beside the app's own; RQLEDGER_REDIS_URL;
RQLEDGER_TASK_MODULES; every other setting by its environment name), then the environment, then the
defaults. Each app gets its own container and Ledger, so app factories and per-test apps do not share one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from flask import current_app, has_app_context, url_for
from markupsafe import Markup, escape

from rqledger.entrypoints.container import Container, build_container
from rqledger.entrypoints.ledger import Ledger, add_default_finder
from rqledger.entrypoints.settings import load_settings
from rqledger.entrypoints.web import access, hosts
from rqledger.entrypoints.web.app import install_converters
from rqledger.entrypoints.web.blueprint import build_blueprint
from rqledger.entrypoints.web.context import KEY
from rqledger.entrypoints.web.spec import PREFIX_KEY

EXTENSION_KEY = "rqledger"

# app.config names that differ from the environment's
RENAMED = {"RQLEDGER_DATABASE_URL": "DATABASE_URL", "RQLEDGER_REDIS_URL": "REDIS_URL"}
# app.config names read as they are (Flask-Mail's; the rest start with RQLEDGER_)
MAIL_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS", "MAIL_SENDER")
# what apiflask's decorators read from app.config at request time; a plain Flask app lacks them
APIFLASK_DEFAULTS = {"BASE_RESPONSE_SCHEMA": None, "BASE_RESPONSE_DATA_KEY": "data",
                     "VALIDATION_ERROR_STATUS_CODE": 422, "VALIDATION_ERROR_DESCRIPTION": "Validation error"}


@dataclass
class AppState:
    """What one app holds in app.extensions["rqledger"]."""

    container: Container
    ledger: Ledger
    url_prefix: str


class RQLedger:
    """The Flask extension (the usual shape: `RQLedger(app)` or `RQLedger()` then `init_app(app)`)."""

    def __init__(self, app=None, url_prefix: str = "/tasks"):
        self.url_prefix = url_prefix
        self._loaders = access.Loaders()
        self._app = None
        if app is not None:
            self.init_app(app)
            self._app = app

    def init_app(self, app, url_prefix: str | None = None, *, container: Container | None = None) -> None:
        """Builds this app's ledger from its config and mounts the API and dashboard under `url_prefix`.

        `container`: one built already (tests; `Ledger.in_memory().container` for an app's unit tests).
        ValueError (a bad setting) or TaskModuleError (a task module that cannot be imported) say what to fix.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("rqledger is already set up on this app (init_app was called twice)")
        prefix = _prefix(self.url_prefix if url_prefix is None else url_prefix)
        settings = settings_from(app)
        if container is None:
            container = build_container(settings)
        if _truthy(app.config.get("RQLEDGER_DB_UPGRADE")) and container.config.storage() == "sqlalchemy":
            _upgrade(container)
        for key, value in APIFLASK_DEFAULTS.items():
            app.config.setdefault(key, value)
        app.config.setdefault("RQLEDGER_SSE_KEEPALIVE", 15.0)
        app.extensions[EXTENSION_KEY] = AppState(container, Ledger(container=container), prefix)
        app.extensions[KEY] = container
        app.extensions[access.LOADERS_KEY] = self._loaders
        app.extensions[PREFIX_KEY] = prefix
        install_converters(app)
        hosts.install(app, container, open_by_default=True)
        access.install(app, container)
        app.register_blueprint(build_blueprint(), url_prefix=prefix or None)
        app.jinja_env.globals["rqledger_progress_script"] = progress_script

    # -- who is asking ----------------------------------------------------------

    def owner_loader(self, loader: Callable[[], object]) -> Callable[[], object]:
        """Decorator: the function returning the logged-in user's id (None: nobody is, a 401). From then on
        every route and the dashboard act for that owner only."""
        self._loaders.owner = loader
        return loader

    def admin_loader(self, loader: Callable[[], bool]) -> Callable[[], bool]:
        """Decorator: the function telling whether the logged-in user sees every owner's tasks."""
        self._loaders.admin = loader
        return loader

    # -- the app's ledger -------------------------------------------------------

    @property
    def ledger(self) -> Ledger:
        """The ledger of the current app (or of the app given to the constructor)."""
        return self.state().ledger

    def state(self) -> AppState:
        app = current_app._get_current_object() if has_app_context() else self._app
        if app is None:
            raise RuntimeError("no app: use rqledger_ext.ledger inside an app context, or pass the app to "
                               "RQLedger(app)")
        try:
            return app.extensions[EXTENSION_KEY]
        except KeyError:
            raise RuntimeError("rqledger is not set up on this app: call rqledger_ext.init_app(app)") from None


def settings_from(app) -> dict:
    """The container's settings: app.config first, then the environment, then the defaults."""
    environ = dict(os.environ)
    config = app.config
    database = config.get("RQLEDGER_DATABASE_URL") or _app_database(app)
    for key, value in config.items():
        if (key.startswith("RQLEDGER_") or key in MAIL_KEYS) and value is not None:
            environ[RENAMED.get(key, key)] = _as_text(value)
    if database:
        environ["DATABASE_URL"] = str(database)
    return load_settings(environ)


def progress_script() -> Markup:
    """`{{ rqledger_progress_script() }}` in the app's templates: the script that keeps every element marked
    `data-rqledger-task="<id>"` up to date from the signed-in owner's event stream (entrypoints/web/static/
    progress.js says how)."""
    state = current_app.extensions[EXTENSION_KEY]
    source = url_for("rqledger.dashboard.static", filename="progress.js")
    return Markup(f'<script src="{escape(source)}" data-base="{escape(state.url_prefix)}" defer></script>')


def _app_ledger() -> Ledger | None:
    """`my_task.enqueue()` inside a request or app context of an app with rqledger: that app's ledger."""
    if not has_app_context():
        return None
    state = current_app.extensions.get(EXTENSION_KEY)
    return state.ledger if state is not None else None


add_default_finder(_app_ledger)


def _app_database(app) -> str | None:
    """SQLALCHEMY_DATABASE_URI as Flask-SQLAlchemy reads it: a relative SQLite path is in the app's instance
    folder (Flask-SQLAlchemy 3), so the ledger's tables land in the very file the app uses."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        return None
    from sqlalchemy.engine import make_url

    url = make_url(str(uri))
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file:") and not os.path.isabs(database):
        os.makedirs(app.instance_path, exist_ok=True)
        url = url.set(database=os.path.join(app.instance_path, database))
    return url.render_as_string(hide_password=False)


def _upgrade(container: Container) -> None:
    """RQLEDGER_DB_UPGRADE: creates or updates the ledger's tables when the app starts (like db.create_all())."""
    from rqledger.adapters.sqlalchemy import normalize_url, upgrade

    upgrade(normalize_url(container.config.database_url()), schema=container.config.db_schema())


def _prefix(prefix: str | None) -> str:
    prefix = (prefix or "").strip()
    if not prefix or prefix == "/":
        return ""
    return "/" + prefix.strip("/")


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(item) for item in value)
    return str(value)


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")
