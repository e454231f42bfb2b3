"""GET /api/events: Server-Sent Events of task and run changes."""

from __future__ import annotations

import threading

from apiflask import APIBlueprint, HTTPError
from flask import Response, current_app, request

from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.openapi import ERROR_REF
from rqledger.entrypoints.web.schemas import EventsQuery
from rqledger.entrypoints.web.sse import client_gone, event_stream

bp = APIBlueprint("api_events", __name__, url_prefix="/api", tag="Events")


@bp.get("/events")
@bp.input(EventsQuery, location="query", arg_name="query")
@bp.doc(responses={
    200: {"description": "an endless text/event-stream; each message's `data` is a JSON object with at least "
                         "`kind` (task, run, or resync: re-read the lists), `id`, `status` and `progress`",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    503: {"description": "this web process holds as many open streams as it has threads to spare",
          "content": {"application/json": {"schema": ERROR_REF}}},
})
def events(query):
    """Live changes of tasks and runs (Server-Sent Events)

    A comment line is sent every 15 s as a keep-alive. After a reconnect, re-read the lists:
    events sent while disconnected are not replayed. EventSource cannot send headers, so this
    endpoint also accepts the API token as `?token=`.
    """
    slots = _stream_slots()
    if slots is not None and not slots.acquire(blocking=False):
        # each stream holds a server thread: keep some for the API itself
        raise HTTPError(503, "too many live event streams on this web process; retry in a while",
                        headers={"Retry-After": "10"})
    stream = event_stream(container().event_feed(), keepalive=current_app.config["RQLEDGER_SSE_KEEPALIVE"],
                          gone=client_gone(request.environ))
    response = Response(stream, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    if slots is not None:
        response.call_on_close(slots.release)  # the server closes the response when the client goes away
    return response


def _stream_slots() -> threading.BoundedSemaphore | None:
    limit = current_app.config.get("RQLEDGER_MAX_STREAMS")
    if not limit:
        return None
    return current_app.extensions.setdefault("rqledger.stream_slots", threading.BoundedSemaphore(limit))
