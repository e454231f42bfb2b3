"""Issue 20's alert acceptance with real processes: a task that failed for good reaches a local webhook receiver
as one signed `task.failed` alert, exactly once with two `rqledger scheduler`s running; a receiver that answers
500 twice then 200 gets the same alert three times and the delivery ends `delivered`. A SQLite ledger file and a
Redis database of the test's own (the `system` fixture)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rqledger.application.ports import AlertQuery
from rqledger.application.tasks import TaskRequest
from rqledger.domain.alert import DeliveryStatus
from rqledger.domain.task import TaskStatus
from tests.integration.scheduling.processes import wait_for
from tests.integration.scheduling.test_processes import System, system  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SECRET = "alert-secret-0123456789"


class Receiver:
    """A webhook receiver on a free local port: answers each POST with the next of `answers` (then 200)."""

    def __init__(self, answers: list[int]):
        self.answers = list(answers)
        self.received: list[tuple[dict, bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/rqledger"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    made = []

    def make(answers=()):
        made.append(Receiver(list(answers)))
        return made[-1]

    yield make
    for r in made:
        r.close()


def alerting(system: System, url: str) -> None:
    """The processes started from now on send alerts to `url`, maintaining every second."""
    system.env.update(RQLEDGER_ALERT_WEBHOOK=url, RQLEDGER_ALERT_SECRET=SECRET, RQLEDGER_ALERT_RETRY_FIRST="1")


def fail_a_task(system: System):
    task = system.ledger.enqueue_task()(TaskRequest("sched_broken", ["nightly"]))
    wait_for(lambda: system.ledger.get_task()(task.id).status is TaskStatus.FAILED, 30,
             what="the task failing", details=system.procs.output)
    return task


def test_a_task_failed_for_good_is_one_signed_alert_sent_once_with_two_schedulers(system, receiver):
    hook = receiver()
    alerting(system, hook.url)
    system.start_worker()
    system.start_scheduler("--reconcile-every", "1")
    system.start_scheduler("--reconcile-every", "1")
    task = fail_a_task(system)

    wait_for(lambda: hook.received, 20, what="the alert reaching the receiver", details=system.procs.output)
    time.sleep(4)  # several more maintenance rounds of both schedulers: nothing more is sent
    assert len(hook.received) == 1, hook.received
    headers, body, _ = hook.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Rqledger-Signature"] == expected
    assert headers["Content-Type"] == "application/json"
    alert = json.loads(body)
    assert (alert["kind"], alert["status"], alert["count"]) == ("task.failed", "open", 1)
    assert alert["subject"]["task_name"] == "sched_broken" and alert["subject"]["task_id"] == task.id
    assert alert["summary"].startswith("1 task of sched_broken failed for good since ")
    [stored] = system.ledger.list_alerts()(AlertQuery()).items
    _, [delivery] = system.ledger.get_alert()(stored.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_a_receiver_that_answers_500_twice_gets_the_alert_three_times_and_it_ends_delivered(system, receiver):
    hook = receiver([500, 500])
    alerting(system, hook.url)
    system.start_worker()
    system.start_scheduler("--reconcile-every", "1")
    fail_a_task(system)

    wait_for(lambda: len(hook.received) >= 3, 30, what="three attempts", details=system.procs.output)
    time.sleep(3)
    assert [status for _, _, status in hook.received] == [500, 500, 200]
    assert len({body for _, body, _ in hook.received}) == 1  # the same alert each time
    assert [h["X-Rqledger-Attempt"] for h, _, _ in hook.received] == ["1", "2", "3"]
    [stored] = system.ledger.list_alerts()(AlertQuery()).items
    _, [delivery] = system.ledger.get_alert()(stored.id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.DELIVERED, 3, None)
