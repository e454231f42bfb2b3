"""GET /api/events: Server-Sent Events of task and run changes."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app

from entrypoints.web.context import container
from entrypoints.web.schemas import EventsQuery
from entrypoints.web.sse import event_stream

bp = APIBlueprint("api_events", __name__, url_prefix="/api", tag="Events")

@bp.get("/events")
@bp.input(EventsQuery, location="query", arg_name="query")
@bp.doc(responses={200: {
    "description": "an endless text/event-stream; each message's `data` is a JSON object with at least "
                   "`kind` (task, run, or resync: re-read the lists), `id`, `status` and `progress`",
    "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def events(query):
    """Live changes of tasks and runs (Server-Sent Events)

    A comment line is sent every 15 s as a keep-alive. After a reconnect, re-read the lists:
    events sent while disconnected are not replayed. EventSource cannot send headers, so this
    endpoint also accepts the API token as `?token=`.
    """
    stream = event_stream(container().event_feed(), keepalive=current_app.config["RQLEDGER_SSE_KEEPALIVE"])
    return Response(stream, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
