"""Redis stopped and restarted (no persistence) under the API, the workers and the scheduler."""

from __future__ import annotations

import time
from collections import Counter

from rq.job import Job

from rqledger.entrypoints.web import create_app
from tests.faults.processes import wait_for

ENQUEUES = 200
STOP_AT, START_AT = 60, 140  # Redis is down for the enqueues in between


def test_redis_stopped_during_200_api_enqueues_then_restarted(system, note):
    system.start_scheduler()
    workers = [system.start_worker(), system.start_worker()]
    client = create_app(system.container, TESTING=True).test_client()

    answers: list[tuple[int, int, dict]] = []  # (index, status, body)
    down_for = 0.0
    health = []
    for i in range(ENQUEUES):
        if i == STOP_AT:
            system.redis_server.stop()
            stopped = time.monotonic()
            health.append(client.get("/api/health"))
        if i == START_AT:
            health.append(client.get(f"/api/tasks/{answers[0][2]['id']}"))  # reads still answer from SQL
            time.sleep(max(0.0, 2.0 - (time.monotonic() - stopped)))  # down for 2 s at least
            system.redis_server.start()
            down_for = time.monotonic() - stopped
        response = client.post("/api/tasks", json={"name": "trivial", "args": [i]})
        answers.append((i, response.status_code, response.get_json()))

    statuses = Counter(status for _, status, _ in answers)
    assert set(statuses) <= {202, 503}, statuses
    accepted = [body["id"] for _, status, body in answers if status == 202]
    refused = [body for _, status, body in answers if status == 503]
    assert refused and all(b["error"]["code"] == "task_not_queued" and b["task"]["status"] == "failed"
                           for b in refused), refused[:1]
    assert health[0].status_code == 503 and health[0].get_json()["redis"] != "ok"
    assert health[1].status_code == 200

    # every accepted task runs: those whose job the restart lost are re-enqueued by the reconciler
    began = time.monotonic()
    wait_for(lambda: system.ledger.statuses(accepted)["finished"] == len(accepted), 60, interval=0.2,
             what="every accepted task to finish", details=lambda: f"{system.ledger.statuses(accepted)}\n"
                                                                   f"{system.services.output()}")
    recovered_in = time.monotonic() - began
    time.sleep(3)  # a reconciler round or two more: a refused task must not come back
    rows = system.ledger.rows()
    refused_ids = [b["task"]["id"] for b in refused]
    for task_id in refused_ids:
        row = rows[task_id]
        assert row.status == "failed" and row.attempts == 0, row.log
        assert "the queue could not take it" in row.log and "Redis" in row.log, row.log
        assert not Job.exists(str(task_id), connection=system.redis)
    requeued = [r.id for r in rows.values() if "the reconciler re-enqueued it" in r.log]
    assert all(w.alive() for w in workers)  # each rode the outage out (RQ's loop restarted in-process if need be)
    reregistered = sum(w.output.count("registered again") for w in workers)
    restarted = sum(w.output.count("the worker loop quit without being asked to") for w in workers)

    note(f"{ENQUEUES} POST /api/tasks, Redis down for #{STOP_AT}-#{START_AT - 1} ({down_for:.1f} s): "
         f"{dict(statuses)}, 5xx other than 503: 0")
    note(f"503 rows failed with the reason in their log: {len(refused_ids)}/{len(refused_ids)}; "
         f"jobs that appeared later for them: 0")
    note(f"202 rows finished after the restart: {len(accepted)}/{len(accepted)} within {recovered_in:.1f} s; "
         f"re-enqueued by the reconciler (their jobs died with Redis): {len(requeued)}")
    note("GET /api/health while Redis was down: 503; GET /api/tasks/{id}: 200 (from the database)")
    note(f"worker processes alive after the restart: {len(workers)}/{len(workers)} (registered again: "
         f"{reregistered}; RQ loops that quit on a Redis error and were started afresh in-process: {restarted})")


def test_redis_restarted_with_queued_tasks_in_flight_one_reconciler_pass_re_enqueues_them(system, note):
    worker = system.start_worker()
    ids = [system.enqueue("sleepy", 0.1) for _ in range(100)]
    wait_for(lambda: system.ledger.statuses(ids)["finished"] >= 10, 30, what="some tasks to finish",
             details=system.services.output)
    system.redis_server.stop()  # no persistence: every queued job is gone
    system.redis_server.start()
    before = system.ledger.statuses(ids)
    time.sleep(2.5)  # the reconciler's grace (RQLEDGER_RECONCILE_GRACE=2): an enqueue may be in flight

    output = system.reconcile_once()
    after = system.ledger.statuses(ids)
    waiting = [task_id for task_id in ids if system.ledger.status(task_id) == "queued"]
    assert all(Job.exists(str(task_id), connection=system.redis) for task_id in waiting)
    assert after["queued"] + after["finished"] + after["running"] == len(ids) and after["running"] <= 1, after
    assert f"Re-enqueued {before['queued']} task(s)" in output, output

    wait_for(lambda: system.ledger.statuses(ids)["finished"] == len(ids), 60, interval=0.2,
             what="every task to finish", details=system.services.output)
    rows = system.ledger.rows(ids)
    assert all(row.attempts == 1 and not row.double_terminal() for row in rows.values())
    assert worker.alive()
    requeued = sum("the reconciler re-enqueued it" in row.log for row in rows.values())
    note(f"100 tasks, 1 worker; Redis restarted empty with {before['queued']} queued and {before['running']} "
         f"running; one `rqledger reconcile --once` re-enqueued {requeued}; after it: {dict(after)}, "
         f"every queued row has its job again")
    note("then all 100 finished, each in one attempt (none ran twice)")
