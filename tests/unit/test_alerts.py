"""Alerts on the memory adapters with a clock moved by hand: the rules that open and resolve them, and their
delivery (signed, retried with backoff, given up, never sent twice)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest
from dependency_injector import providers

from rqledger import task
from rqledger.adapters.alerts import RecordingSender
from rqledger.adapters.memory import FixedClock, InMemoryWorker
from rqledger.application.alerts import DeliverAlerts
from rqledger.application.ports import AlertQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.alert import AlertKind, AlertStatus, DeliveryStatus
from rqledger.domain.errors import InvalidSchedule
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings

HOOK = "http://alerts.example/hook"
SECRET = "s3cret"
OUTCOMES: list[bool] = []  # unit_alerting's answers, in order: True succeeds, False raises


@task(name="unit_alerting")
def alerting() -> str:
    if OUTCOMES and not OUTCOMES.pop(0):
        raise RuntimeError("the report could not be built")
    return "ok"


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 12, 5, 10, 0, 30, tzinfo=timezone.utc))


@pytest.fixture
def container(clock):
    built = build_container(load_settings({
        "RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_TASK_MODULES": "rqledger.demo",
        "RQLEDGER_ALERT_WEBHOOK": HOOK, "RQLEDGER_ALERT_SECRET": SECRET}))
    built.clock.override(providers.Object(clock))
    OUTCOMES.clear()
    return built


def work(container) -> int:
    return InMemoryWorker(container.queue(), container.run_task()).work()


def alerts(container, *statuses: AlertStatus):
    return container.list_alerts()(AlertQuery(statuses=frozenset(statuses), limit=100)).items


def fail_a_task(container):
    container.enqueue_task()(TaskRequest("count_words"))  # neither text nor url: fails for good
    work(container)


def test_failures_of_a_type_make_one_alert_per_window_with_their_count(container, clock):
    fail_a_task(container)
    fail_a_task(container)
    report = container.evaluate_alerts()()
    [alert] = report.opened
    assert (alert.kind, alert.count, alert.subject["task_name"]) == (AlertKind.TASK_FAILED, 2, "count_words")
    assert alert.summary.startswith("2 tasks of count_words failed for good since 2026-12-05 10:00:00 UTC")

    fail_a_task(container)
    again = container.evaluate_alerts()()
    assert not again.opened and [a.count for a in again.updated] == [3]
    assert len(alerts(container)) == 1

    clock.advance(3600)  # the window ended: its alert closes; a failure in the next window is a new alert
    assert [a.id for a in container.evaluate_alerts()().resolved] == [alert.id]
    fail_a_task(container)
    assert [a.count for a in container.evaluate_alerts()().opened] == [1]


def test_an_alert_is_delivered_once_signed_and_the_same_body_each_attempt(container, clock):
    fail_a_task(container)
    [alert] = container.evaluate_alerts()().opened
    sender = RecordingSender(answers=["HTTP 500: busy", "HTTP 500: busy", None])
    deliver = DeliverAlerts(container.uow(), clock, sender, container.alert_settings())

    assert deliver().retried and len(sender.sent) == 1
    assert deliver().delivered == [] and len(sender.sent) == 1  # not due before its backoff (1 s)
    clock.advance(1)
    assert deliver().retried and len(sender.sent) == 2
    clock.advance(1.5)
    assert deliver().retried == [] and len(sender.sent) == 2  # the second retry waits 2 s
    clock.advance(0.5)
    report = deliver()
    assert len(report.delivered) == 1 and len(sender.sent) == 3
    clock.advance(3600)
    assert deliver().delivered == [] and len(sender.sent) == 3  # delivered: never again

    bodies = {body for _, body, _ in sender.sent}
    assert len(bodies) == 1
    body = bodies.pop()
    document = json.loads(body)
    assert {k: document[k] for k in ("id", "kind", "status", "count")} == {
        "id": alert.id, "kind": "task.failed", "status": "open", "count": 1}
    assert document["subject"]["task_name"] == "count_words" and document["summary"] == alert.summary
    for target, _, headers in sender.sent:
        assert target == HOOK
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Rqledger-Signature"] == f"sha256={expected}"
    assert [h["X-Rqledger-Attempt"] for _, _, h in sender.sent] == ["1", "2", "3"]
    _, deliveries = container.get_alert()(alert.id)
    assert [(d.status, d.attempts, d.last_error) for d in deliveries] == [(DeliveryStatus.DELIVERED, 3, None)]


def test_a_target_that_never_answers_is_given_up_with_its_last_error(container, clock):
    from rqledger.application.alerts import AlertSettings
    from rqledger.domain.alert import Backoff

    fail_a_task(container)
    [alert] = container.evaluate_alerts()().opened
    sender = RecordingSender(answers=["could not reach it: refused"] * 10)
    settings = AlertSettings(targets=(HOOK,), backoff=Backoff(first=1, give_up_after=5))
    deliver = DeliverAlerts(container.uow(), clock, sender, settings)
    for _ in range(5):
        deliver()
        clock.advance(4)
    _, [delivery] = container.get_alert()(alert.id)
    assert delivery.status is DeliveryStatus.GIVEN_UP and delivery.last_error == "could not reach it: refused"
    assert len(sender.sent) == 2  # at 0 s and 4 s; the next (2 s after that) would pass the 5 s: given up


def test_a_delivery_claimed_by_one_sender_is_not_sent_by_another(container, clock):
    fail_a_task(container)
    container.evaluate_alerts()()
    [due] = (lambda uow: (uow.__enter__(), uow.alerts.due_deliveries(clock.now()), uow.__exit__(None, None, None))[1])(
        container.uow())
    first, second = RecordingSender(), RecordingSender()
    slow = DeliverAlerts(container.uow(), clock, first, container.alert_settings())
    assert slow._claim(due) is not None  # the first sender holds it (and has not sent yet)
    DeliverAlerts(container.uow(), clock, second, container.alert_settings())()
    assert second.sent == []


def test_a_dead_man_schedule_alerts_once_when_no_run_succeeds_in_time_and_closes_on_a_success(container, clock):
    OUTCOMES.extend([False, False, False, True])
    schedule, _ = container.register_schedule()(ScheduleRequest(
        "unit_alerting", at=clock.now(), interval=30, expect_every=60, alert_after_failures=3))
    runs = container.scheduler()

    def fire_and_evaluate():
        runs.fire_due(container.run_schedule())
        return container.evaluate_alerts()()

    assert fire_and_evaluate().opened == []  # one failed run: not yet
    clock.advance(30)
    assert fire_and_evaluate().opened == []
    clock.advance(30)  # 60 s and three failed runs: failing; the dead-man's 60 s are not passed yet
    assert [a.kind for a in fire_and_evaluate().opened] == [AlertKind.SCHEDULE_FAILING]
    clock.advance(5)
    [deadman] = fire_and_evaluate().opened
    assert deadman.kind is AlertKind.SCHEDULE_DEADMAN and deadman.subject["schedule_id"] == schedule.id
    assert deadman.summary == ("schedule 1 (unit_alerting) has had no successful run since it was created, "
                               "2026-12-05 10:00:30 UTC (expected every 1 min)")
    assert fire_and_evaluate().opened == []  # one alert, not one per round

    clock.advance(25)  # the fourth run succeeds: both conditions are gone
    report = fire_and_evaluate()
    assert {a.kind for a in report.resolved} == {AlertKind.SCHEDULE_DEADMAN, AlertKind.SCHEDULE_FAILING}
    assert alerts(container, AlertStatus.OPEN) == []


def test_missed_firings_open_an_alert_that_a_run_closes(container, clock):
    schedule, _ = container.register_schedule()(ScheduleRequest("unit_alerting", at=clock.now(), interval=60))
    uow = container.uow()
    with uow:
        current = uow.schedules.get(schedule.id)
        for minutes in (1, 2):
            at = clock.now() + timedelta(minutes=minutes)
            current.count_missed(uow.schedules.add_run(current.missed_run(at, at, "no scheduler ran")))
        uow.schedules.save(current)
        uow.commit()
    [missed] = container.evaluate_alerts()().opened
    assert (missed.kind, missed.count) == (AlertKind.SCHEDULE_MISSED, 2)
    assert "missed 2 firings (no scheduler ran)" in missed.summary

    clock.advance(200)
    container.scheduler().fire_due(container.run_schedule())
    assert [a.id for a in container.evaluate_alerts()().resolved] == [missed.id]


def test_a_queue_whose_tasks_nobody_starts_is_stalled_until_paused_or_taken(container, clock):
    container.enqueue_task()(TaskRequest("count_words", kwargs={"text": "a"}))
    assert container.evaluate_alerts()().opened == []
    clock.advance(601)
    [stalled] = container.evaluate_alerts()().opened
    assert stalled.kind is AlertKind.QUEUE_STALLED and stalled.subject["queue"] == "default"
    assert stalled.summary == ("queue default: 1 task waiting that no worker started, the oldest since "
                               "2026-12-05 10:00:30 UTC (more than 10 min)")
    container.pause_queue()("default")
    assert [a.id for a in container.evaluate_alerts()().resolved] == [stalled.id]  # paused: waiting on purpose
    container.resume_queue()("default")
    assert [a.kind for a in container.evaluate_alerts()().opened] == [AlertKind.QUEUE_STALLED]
    work(container)
    assert [a.kind for a in container.evaluate_alerts()().resolved] == [AlertKind.QUEUE_STALLED]


def test_alert_settings_of_a_schedule_are_checked(container, clock):
    for field_, request in (("expect_every", {"expect_every": 0}), ("alert_after_failures", {"alert_after_failures": 0}),
                            ("expect_every", {"expect_every": "1d"})):
        with pytest.raises(InvalidSchedule) as raised:
            container.register_schedule()(ScheduleRequest("unit_alerting", at=clock.now(), **request))
        assert raised.value.field == field_


def test_a_webhook_that_is_not_http_is_refused_when_the_settings_are_read():
    with pytest.raises(ValueError, match="RQLEDGER_ALERT_WEBHOOK: 'ftp://x' is not an http:// or https:// URL"):
        load_settings({"RQLEDGER_ALERT_WEBHOOK": "https://ok.example/a,ftp://x"})


def test_the_cli_lists_alerts_as_the_api_does(container, clock):
    from tests.unit.cli_harness import invoker

    cli = invoker(container)
    assert cli("alerts").stdout == "No alerts.\n"
    fail_a_task(container)
    container.evaluate_alerts()()
    listed = json.loads(cli("alerts", "--status", "open", "--json").stdout)
    assert [(a["kind"], a["count"], a["status"]) for a in listed["items"]] == [("task.failed", 1, "open")]
    assert listed["next_cursor"] is None
    table = cli("alerts").stdout.splitlines()
    assert table[0].split()[:4] == ["#", "Status", "Kind", "Since"]
    assert "task.failed" in table[2] and "1 task of count_words failed for good" in table[2]
    assert json.loads(cli("alerts", "--status", "resolved", "--json").stdout)["items"] == []
