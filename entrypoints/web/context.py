"""Where a request finds the container its app was built with, seen as this request's Actor may see it."""

from __future__ import annotations

from flask import current_app

KEY = "rqledger.container"


def container():
    """The app's dependency-injector container; for an owner (not an admin), a view of it limited to what
    that owner may see and do (entrypoints/web/scope.py). Every route and dashboard section goes through here."""
    from rqledger.entrypoints.web import access
    from rqledger.entrypoints.web.scope import scoped

    services = current_app.extensions[KEY]
    actor = access.current()
    return services if actor.admin and actor.owner is None else scoped(services, actor)


def services():
    """The whole container, whoever asks: for the request's own plumbing (its settings), never for its data."""
    return current_app.extensions[KEY]
