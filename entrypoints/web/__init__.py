"""The HTTP entrypoint: `create_app(container=None)` builds the API and dashboard app."""

from rqledger.entrypoints.web.app import create_app

__all__ = ["create_app"]
