"""Who is asking: every request to rqledger's routes is identified here, once, as an Actor.

Three ways, from the most specific:
- the Flask extension with an `owner_loader`: the host app's logged-in user (its session), and an
  `admin_loader` that may make the request an admin's; no token travels in the page;
- bearer tokens mapped to owners (RQLEDGER_API_TOKENS: `token:owner` pairs, or a file of them, one per line;
  owner `*`: an admin), for a multi-tenant `rqledger web` without Flask code;
- the one shared token (RQLEDGER_API_TOKEN): an admin; with no token configured at all, every request is.

What an Actor may see is decided in entrypoints/web/scope.py, which every route reaches through
`context.container()`; an admin sees everything. Tokens are compared in constant time. A token always
travels in the Authorization header (EventSource cannot send one: the event stream also takes `?token=`),
never in a cookie, so a cross-site form cannot act with it; with an owner_loader the host app's cookie
carries the authority, and origin.py's cross-site check is what keeps other sites' writes out.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass

from apiflask import HTTPError
from flask import current_app, g, request

from rqledger.application.tasks import owner_text
from rqledger.domain.errors import InvalidArguments
from rqledger.entrypoints.web.context import KEY

LOADERS_KEY = "rqledger.loaders"
TOKENS_KEY = "rqledger.api_tokens"

# Open to anyone: the health check (details need an admin), the dashboard's script and stylesheet.
PUBLIC_ENDPOINTS = frozenset({"rqledger.api_meta.health", "rqledger.dashboard.static"})
# The dashboard's page: open with tokens (it holds no data then, and asks for the token), not with a login.
PAGE_ENDPOINTS = frozenset({"rqledger.dashboard.page", "rqledger.dashboard.task_page",
                            "rqledger.dashboard.list_page", "rqledger.dashboard.failures_page"})
# EventSource cannot send headers: only the event stream also takes the token as ?token=.
QUERY_TOKEN_ENDPOINTS = frozenset({"rqledger.api_events.events"})
# The whole service's numbers: an admin's only.
ADMIN_ENDPOINTS = frozenset({"rqledger.metrics.metrics"})

CHALLENGE = 'Bearer realm="rqledger"'
ADMIN_OWNER = "*"


@dataclass(frozen=True)
class Actor:
    """Whom a request acts for: `owner` (its tasks and schedules only), or an admin (everything; `owner` is
    then the default owner of what it enqueues). Nobody (owner None, not admin) sees nothing."""

    owner: str | None
    admin: bool = False


EVERYONE = Actor(None, admin=True)
NOBODY = Actor(None, admin=False)


@dataclass
class Loaders:
    """The Flask extension's callbacks (entrypoints/flask_ext.py)."""

    owner: object = None  # () -> the logged-in user's id, or None
    admin: object = None  # () -> True when the logged-in user may see every owner's tasks


def current() -> Actor:
    """This request's Actor (EVERYONE outside a request: a CLI or a test calling the use cases)."""
    return g.get("rqledger_actor", EVERYONE) if _in_request() else EVERYONE


def identify():
    """A before_request hook: works out the Actor (401 when the request must name someone and does not; for the
    dashboard's page in an app with Flask-Login, what its login_manager answers: a redirect to its login view)."""
    try:
        _identify()
    except _Answer as answer:
        return answer.response
    return None


def _identify() -> None:
    loaders = current_app.extensions.get(LOADERS_KEY)
    try:
        token_actor = _token_actor()
    except HTTPError:
        if request.endpoint not in PUBLIC_ENDPOINTS:
            raise
        token_actor = NOBODY  # the health check answers anyone, just without its details
    if token_actor is not None:
        actor = token_actor
    elif loaders is not None and loaders.owner is not None:
        actor = _logged_in(loaders)
    elif _tokens_configured():
        actor = NOBODY
        if request.endpoint not in PUBLIC_ENDPOINTS | PAGE_ENDPOINTS:
            _challenge()
    else:
        actor = EVERYONE  # no token, no login: today's open service (a developer's `rqledger dev`)
    g.rqledger_actor = actor
    if request.endpoint in ADMIN_ENDPOINTS and not actor.admin:
        raise HTTPError(403, "only an admin may read this")


def may_see_internals() -> bool:
    """Whether this request may read the service's internals (the health check's error texts): an admin's, by a
    token or the host app's admin_loader; in an open service (no token, no login), one from this machine."""
    actor = current()
    loaders = current_app.extensions.get(LOADERS_KEY)
    if _tokens_configured() or (loaders is not None and loaders.owner is not None):
        return actor.admin
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def uses_tokens() -> bool:
    """Whether the dashboard must ask for a token (no login of the host app stands for the user)."""
    loaders = current_app.extensions.get(LOADERS_KEY)
    return _tokens_configured() and not (loaders is not None and loaders.owner is not None)


def uses_login() -> bool:
    loaders = current_app.extensions.get(LOADERS_KEY)
    return loaders is not None and loaders.owner is not None


def parse_tokens(value: str | None) -> dict[str, str]:
    """RQLEDGER_API_TOKENS: `token:owner` pairs separated by commas, or the path of a file with one pair per
    line (# comments allowed); owner `*` is an admin. ValueError with a message for the operator."""
    if not value or not value.strip():
        return {}
    text = value.strip()
    source = "RQLEDGER_API_TOKENS"
    if os.path.isfile(text):
        source = text
        with open(text, encoding="utf-8") as handle:
            entries = [line.split("#", 1)[0].strip() for line in handle]
    else:
        entries = [entry.strip() for entry in text.split(",")]
    tokens: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        if not entry:
            continue
        token, colon, owner = entry.rpartition(":")
        token, owner = token.strip(), owner.strip()
        if not colon or not token or not owner:
            raise ValueError(f"{source}: entry {number} is not token:owner (owner * for an admin)")
        if len(token) < 16:
            raise ValueError(f"{source}: entry {number}: a token needs at least 16 characters")
        if owner != ADMIN_OWNER:
            try:
                owner = owner_text(owner)
            except InvalidArguments as exc:
                raise ValueError(f"{source}: entry {number}: {exc}") from None
        if token in tokens:
            raise ValueError(f"{source}: entry {number}: that token is listed twice")
        tokens[token] = owner
    return tokens


def install(app, container) -> None:
    """Reads RQLEDGER_API_TOKENS once per app (ValueError: a bad entry)."""
    app.extensions[TOKENS_KEY] = parse_tokens(container.config.get("api_tokens"))


# -- internals ------------------------------------------------------------------


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _shared_token() -> str | None:
    return current_app.extensions[KEY].config.api_token() or None


def _owner_tokens() -> dict[str, str]:
    return current_app.extensions.get(TOKENS_KEY) or {}


def _tokens_configured() -> bool:
    return bool(_shared_token() or _owner_tokens())


def _token_actor() -> Actor | None:
    """The Actor a valid token names; None when no token was sent; 401 for a token that is not valid."""
    given = _bearer(request.headers.get("Authorization", ""))
    if given is None and request.endpoint in QUERY_TOKEN_ENDPOINTS:
        given = request.args.get("token") or None
    if given is None:
        return None
    given_bytes = given.encode("utf-8", "surrogatepass")
    found: Actor | None = None
    shared = _shared_token()
    if shared and hmac.compare_digest(given_bytes, shared.encode("utf-8")):
        found = EVERYONE
    for token, owner in _owner_tokens().items():  # every entry compared: the time tells nothing of which matched
        if hmac.compare_digest(given_bytes, token.encode("utf-8")) and found is None:
            found = EVERYONE if owner == ADMIN_OWNER else Actor(owner)
    if found is None:
        if not _tokens_configured():
            return None  # an open service ignores a token it was never given
        raise HTTPError(401, "the API token is not valid",
                        headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})
    return found


def _logged_in(loaders: Loaders) -> Actor:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return NOBODY  # no need to load a user for the health check or a stylesheet
    owner = loaders.owner()
    admin = bool(loaders.admin()) if loaders.admin is not None else False
    if owner is None and not admin:
        login_manager = getattr(current_app, "login_manager", None)
        if request.endpoint in PAGE_ENDPOINTS and login_manager is not None:
            # Flask-Login's way for a page: its login view (with ?next=), or its own 401
            raise _Answer(login_manager.unauthorized())
        raise HTTPError(401, "sign in first: these tasks belong to the signed-in user")
    try:
        return Actor(owner_text(owner), admin=admin)
    except InvalidArguments:
        raise RuntimeError(f"rqledger's owner_loader returned {owner!r}: it must return a user id (a string of 1 "
                           f"to 200 characters or an integer) or None") from None


class _Answer(Exception):
    """The host app's own answer to a request nobody is signed in for (its login redirect)."""

    def __init__(self, response):
        super().__init__("answered by the host app")
        self.response = response


def _challenge():
    raise HTTPError(401, "a valid API token is required: send 'Authorization: Bearer <token>'",
                    headers={"WWW-Authenticate": CHALLENGE})


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
