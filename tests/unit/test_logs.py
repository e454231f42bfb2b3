"""RQLEDGER_LOG_FORMAT=json: one JSON object per log line, with the fields a log call passes in `extra`."""

import json
import logging

import pytest

from rqledger.entrypoints.logs import JsonLines, apply_log_format
from rqledger.entrypoints.settings import load_settings


def record(**extra) -> logging.LogRecord:
    rec = logging.LogRecord("rqledger.worker", logging.INFO, __file__, 1, "task %s finished", (7,), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_a_line_is_one_json_object_with_the_extras():
    line = JsonLines().format(record(event="task_ended", task_id=7, task="한글", outcome="finished", duration_s=0.5))
    data = json.loads(line)
    assert data["message"] == "task 7 finished" and data["level"] == "info" and data["logger"] == "rqledger.worker"
    assert {k: data[k] for k in ("event", "task_id", "task", "outcome", "duration_s")} == {
        "event": "task_ended", "task_id": 7, "task": "한글", "outcome": "finished", "duration_s": 0.5}
    assert data["time"].endswith("+00:00")
    assert "\n" not in line


def test_an_exception_travels_inside_the_object():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        rec = record()
        rec.exc_info = sys.exc_info()
    data = json.loads(JsonLines().format(rec))
    assert "ValueError: boom" in data["exc"]


@pytest.fixture
def rqledger_handler():
    logger = logging.getLogger("rqledger")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_json_is_switched_on_by_the_setting_and_text_stays_the_default(rqledger_handler):
    assert load_settings({})["log_format"] == "text"
    apply_log_format(load_settings({})["log_format"])
    assert not isinstance(rqledger_handler.formatter, JsonLines)
    apply_log_format(load_settings({"RQLEDGER_LOG_FORMAT": "json"})["log_format"])
    assert isinstance(rqledger_handler.formatter, JsonLines)
