"""Where a request finds the container its app was built with."""

from __future__ import annotations

from flask import current_app

KEY = "rqledger.container"


def container():
    """The app's dependency-injector container."""
    return current_app.extensions[KEY]
