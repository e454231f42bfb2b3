"""Cross-site request forgery: a write that a browser says comes from another site is refused (403).

With RQLEDGER_API_TOKEN set, authority is only in the Authorization header, which
another site's form cannot send. Without a token (a developer's `rqledger dev` on
localhost), a page on any site could still post a form to /api/tasks/1/cancel; the
browser tells where such a request comes from, so it is refused here. Following Go's
net/http CrossOriginProtection: Sec-Fetch-Site when the browser sends it (proxies
cannot spoil it), else Origin against Host; a request with neither is no browser's
cross-site request (curl, scripts) and is left to the token. Reads are never refused:
without a CORS grant (none is given) another site cannot read the answers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from apiflask import HTTPError
from flask import request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})  # "none": typed or bookmarked by the user

MESSAGE = ("refused: this browser request came from another site (cross-site), and such a request may not change "
           "anything here; use the dashboard on this address, or a client that is not a browser")


def refuse_cross_site_writes() -> None:
    """A before_request hook: 403 for a POST/PUT/PATCH/DELETE that a browser sent from another origin."""
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site.strip().lower() not in SAME_SITE_FETCHES:
            raise HTTPError(403, MESSAGE)
        return
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin.strip()).netloc.lower() != request.host.lower():
        raise HTTPError(403, MESSAGE)
