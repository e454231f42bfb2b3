"""Log lines for people (text, the default) or for log pipelines (one JSON object a line).

RQLEDGER_LOG_FORMAT=json switches the worker, the scheduler and the web server to JSON lines;
fields given to a log call through `extra=` (task_id, task, attempt, outcome, duration_s, ...)
become keys of the object.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

# what every LogRecord carries; anything else on a record came from `extra=`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    """One JSON object per record: time (ISO-8601, UTC), level, logger, message, the extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def apply_log_format(log_format: str) -> None:
    """Gives every handler of the root and `rqledger` loggers the JSON formatter when `log_format` is json."""
    if (log_format or "text").lower() != "json":
        return
    formatter = JsonLines()
    for logger in (logging.getLogger(), logging.getLogger("rqledger")):
        for handler in logger.handlers:
            handler.setFormatter(formatter)
