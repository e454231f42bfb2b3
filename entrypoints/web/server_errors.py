"""waitress' own answers in the API's error format: {"error": {"code", "message"}} as JSON, never its plain text.

waitress answers some requests without asking the app: a body over its
max_request_body_size (413, refused before it is read), a malformed request line,
headers or chunked body (400, 431), or an app that failed after its answer began
(500). Its server objects make a channel per connection from `channel_class`,
and the channel makes such an answer with `error_task_class`: those are replaced
here, on the servers of one socket map only.
"""

from __future__ import annotations

import json

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from rqledger.entrypoints.web.errors import HTTP_CODES, HTTP_MESSAGES, error_body


OWN_CODES = {431: "headers_too_large"}


class JsonErrorTask(ErrorTask):
    """An ErrorTask that writes JSON; a 5xx says nothing of the failure (it is in the server's log)."""

    def execute(self):
        error = self.request.error
        code = HTTP_CODES.get(error.code) or OWN_CODES.get(error.code) or ("bad_request" if error.code < 500
                                                                          else "internal_error")
        if error.code >= 500:
            message = "an unexpected error occurred; it was logged on the server"
        else:
            message = HTTP_MESSAGES.get(error.code) or f"{error.reason.lower()}: {error.body}"
        body = json.dumps(error_body(code, message)).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def answer_errors_in_json(socket_map: dict) -> None:
    """Makes every waitress server in `socket_map` (create_server's `map`) answer its own errors in JSON."""
    for dispatcher in socket_map.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = JsonErrorChannel
