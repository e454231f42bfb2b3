"""Bearer-token authentication: one shared token (RQLEDGER_API_TOKEN), compared in constant time.

No cookie ever carries authority, so a cross-site form cannot act for a
browser: the token travels in the Authorization header, which is the CSRF defence.
"""

from __future__ import annotations

import hmac

from apiflask import HTTPError
from flask import request

from entrypoints.web.context import container

# Endpoints open to anyone: the health check, and the dashboard shell and its assets, which hold no data.
PUBLIC_ENDPOINTS = frozenset({"api_meta.health", "dashboard.page", "dashboard.static", "static"})

# EventSource cannot send headers: only the event stream also takes the token as ?token=.
QUERY_TOKEN_ENDPOINTS = frozenset({"api_events.events"})

CHALLENGE = 'Bearer realm="rqledger"'


def require_token() -> None:
    """A before_request hook: raises 401 unless the request carries the configured token."""
    expected = container().config.api_token()
    if not expected or request.endpoint in PUBLIC_ENDPOINTS:
        return
    given = _bearer(request.headers.get("Authorization", ""))
    if given is None and request.endpoint in QUERY_TOKEN_ENDPOINTS:
        given = request.args.get("token")
    if given is None:
        raise HTTPError(401, "a valid API token is required: send 'Authorization: Bearer <token>'",
                        headers={"WWW-Authenticate": CHALLENGE})
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        raise HTTPError(401, "the API token is not valid",
                        headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
