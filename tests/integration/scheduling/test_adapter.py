"""The rq-scheduler adapter against a real Redis, with the ledger in memory and an in-process RQ worker."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone

import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from rqledger.adapters.scheduler import LedgerScheduler, RqRunJobs, Trigger, run_job_id
from rqledger.application.schedule_repairs import EndStuckRuns, RepairTriggers
from rqledger.adapters.scheduler.trigger import META_KEY
from rqledger.application.ports import ScheduleQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.schedule import RunStatus, ScheduleStatus

pytestmark = pytest.mark.integration

SCHEDULED = "rq:scheduler:scheduled_jobs"


def now() -> datetime:
    return datetime.now(timezone.utc)


def scheduler_loop(ledger, name="s1") -> LedgerScheduler:
    rq_scheduler = ledger.scheduler()
    return LedgerScheduler(rq_scheduler.connection, ledger.calendar(), ledger.clock(), rq_scheduler.run_function,
                           interval=1, name=name)


def triggers(redis) -> list[str]:
    return [m.decode() for m in redis.zrange(SCHEDULED, 0, -1)]


def queued(redis, queue="default") -> list[str]:
    return [m.decode() for m in redis.lrange(f"rq:queue:{queue}", 0, -1)]


def register(ledger, label="a", **timing):
    timing = timing or {"at": now() - timedelta(seconds=1)}
    return ledger.register_schedule()(ScheduleRequest("sched_tick", [label], **timing))[0]


def test_a_schedule_gets_one_json_trigger_however_often_it_is_registered(ledger, redis):
    ids = {register(ledger, at=now() + timedelta(hours=1), interval=60).id for _ in range(5)}
    assert len(ids) == 1 and len(ledger.list_schedules()(ScheduleQuery()).items) == 1
    assert triggers(redis) == [f"schedule-{ids.pop()}"]
    data = zlib.decompress(redis.hget("rq:job:" + triggers(redis)[0], "data"))
    assert data.startswith(b'["rqledger.entrypoints.firing_entry.run_schedule"')  # JSON, never pickle


def test_a_due_firing_becomes_a_json_job_of_its_own_that_records_a_run(ledger, redis, work):
    parent = register(ledger)
    loop = scheduler_loop(ledger)
    loop.run(burst=True, install_signal_handlers=False)
    [job_id] = queued(redis)
    assert job_id == run_job_id(parent.id, parent.next_run_at)
    assert zlib.decompress(redis.hget(f"rq:job:{job_id}", "data")).startswith(b"[")
    assert triggers(redis) == []  # a one-off: its trigger is used up
    work()
    parent, runs = ledger.get_schedule()(parent.id)
    assert [r.status for r in runs] == [RunStatus.FINISHED]
    assert runs[0].result == {"label": "a"} and runs[0].scheduled_at == parent.last_run.scheduled_at
    assert parent.status is ScheduleStatus.DEATH


def published_runs(pubsub, count: int, timeout: float = 5.0) -> list[dict]:
    import json
    import time

    events, deadline = [], time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message" and json.loads(message["data"]).get("kind") == "run":
            events.append(json.loads(message["data"]))
    return events


def test_the_run_events_of_a_firing_and_of_the_stuck_run_repair_carry_the_schedule_s_owner(ledger, redis, work):
    from rqledger.adapters.redis_events import channel_for

    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_for(ledger.config.redis_url()))
    try:
        fired = ledger.register_schedule()(ScheduleRequest("sched_tick", ["a"], owner=7,
                                                           at=now() - timedelta(seconds=1)))[0]
        scheduler_loop(ledger).run(burst=True, install_signal_handlers=False)
        work()
        stuck = ledger.register_schedule()(ScheduleRequest("sched_tick", ["b"], owner="ann",
                                                           at=now() + timedelta(hours=1)))[0]
        ledger.scheduled_runs().start(stuck.id, stuck.next_run_at, worker="host.123.gone")
        assert len(stuck_runs(ledger)()) == 1
        events = published_runs(pubsub, 4)
    finally:
        pubsub.close()
    assert [(e["schedule_id"], e["status"], e["owner"]) for e in events] == [
        (fired.id, "running", "7"), (fired.id, "finished", "7"), (stuck.id, "running", "ann"),
        (stuck.id, "failed", "ann")]


def test_a_run_uses_the_task_timeout(ledger, redis):
    register(ledger)
    scheduler_loop(ledger).run(burst=True, install_signal_handlers=False)
    job = Queue("default", connection=redis, serializer=JSONSerializer).jobs[0]
    assert job.timeout == 30


def test_two_schedulers_that_both_see_a_firing_enqueue_it_once(ledger, redis):
    register(ledger, at=now() - timedelta(seconds=1), interval=3600)
    first, second = scheduler_loop(ledger, "s1"), scheduler_loop(ledger, "s2")
    due_to_first = list(first.get_jobs_to_queue())
    due_to_second = list(second.get_jobs_to_queue())  # as if the lock had expired under a slow pass
    for job in due_to_first:
        first.enqueue_job(job)
    for job in due_to_second:
        second.enqueue_job(job)
    assert len(queued(redis)) == 1
    assert len(first.fired) + len(second.fired) == 1
    assert len(triggers(redis)) == 1


def test_an_interval_trigger_moves_on_along_its_grid(ledger, redis):
    start = now() - timedelta(seconds=1)
    parent = register(ledger, at=start, interval=60, repeat=3)
    scheduler_loop(ledger).run(burst=True, install_signal_handlers=False)
    stored = ledger.scheduler().triggers()
    assert [s.trigger.next_at for s in stored] == [start + timedelta(seconds=60)]
    assert redis.zscore(SCHEDULED, f"schedule-{parent.id}") == pytest.approx((start + timedelta(seconds=60)).timestamp())


def test_cancel_removes_the_trigger_and_a_late_firing_is_skipped(ledger, redis, work):
    parent = register(ledger, at=now() - timedelta(seconds=1), interval=3600)
    scheduler_loop(ledger).run(burst=True, install_signal_handlers=False)
    ledger.cancel_schedule()(parent.id)
    assert triggers(redis) == []
    work()  # the firing enqueued before the cancel
    parent, runs = ledger.get_schedule()(parent.id)
    assert runs == [] and parent.status is ScheduleStatus.DEATH


def test_delete_removes_the_trigger_and_a_late_firing_is_skipped(ledger, redis, work):
    parent = register(ledger, at=now() - timedelta(seconds=1), interval=3600)
    scheduler_loop(ledger).run(burst=True, install_signal_handlers=False)
    ledger.delete_schedule()(parent.id)
    assert triggers(redis) == []
    work()
    assert ledger.list_schedules()(ScheduleQuery()).items == []


def test_the_reconciler_restores_a_lost_trigger_once_and_removes_what_has_no_live_parent(ledger, redis):
    live = register(ledger, "live", at=now() + timedelta(hours=1), interval=60)
    dead = register(ledger, "dead", at=now() + timedelta(hours=1), interval=60)
    ledger.cancel_schedule()(dead.id)
    scheduler = ledger.scheduler()
    redis.flushdb()
    scheduler.restore(dead)  # a trigger the ledger does not want (e.g. left by a crash before the cancel)
    twin = Trigger.for_schedule(live, ledger.calendar(), now())
    redis.zadd(SCHEDULED, {"schedule-legacy": 1})  # a second trigger of the live parent
    redis.hset("rq:job:schedule-legacy", "meta", JSONSerializer.dumps({META_KEY: twin.to_meta()}))
    redis.zadd(SCHEDULED, {"someone-else": 1})  # another application's job: left alone
    redis.hset("rq:job:someone-else", "meta", JSONSerializer.dumps({"x": 1}))

    reconcile = RepairTriggers(ledger.uow(), scheduler)
    report = reconcile()
    assert report.restored == [live.id]
    assert sorted(report.removed) == sorted([f"schedule-{dead.id}", "schedule-legacy"])
    assert sorted(triggers(redis)) == sorted([f"schedule-{live.id}", "someone-else"])
    assert not reconcile()  # converged: nothing more to do
    assert [s.trigger.next_at for s in scheduler.triggers() if s.trigger] == [live.next_run_at]


def test_a_trigger_with_another_timing_than_the_ledger_is_rewritten(ledger, redis):
    parent = register(ledger, at=now() + timedelta(hours=1), interval=60)
    stale = Trigger.for_schedule(parent, ledger.calendar(), now())
    stale = Trigger(stale.schedule_id, stale.name, type(stale.timing)(at=stale.timing.at, interval=5),
                    stale.next_at)
    redis.hset(f"rq:job:schedule-{parent.id}", "meta", JSONSerializer.dumps({META_KEY: stale.to_meta()}))
    assert RepairTriggers(ledger.uow(), ledger.scheduler())().restored == [parent.id]
    [stored] = ledger.scheduler().triggers()
    assert stored.trigger.timing.interval == 60


def test_a_reregistration_while_firing_keeps_the_new_timing(ledger, redis):
    parent = register(ledger, at=now() - timedelta(seconds=1), interval=3600)
    loop = scheduler_loop(ledger)
    [job] = list(loop.get_jobs_to_queue())
    register(ledger, at=now() + timedelta(days=1), interval=7200)  # lands between read and advance
    loop.enqueue_job(job)
    [stored] = ledger.scheduler().triggers()
    assert stored.trigger.timing.interval == 7200 and stored.trigger.fired == 0
    assert stored.job_id == f"schedule-{parent.id}"


def stuck_runs(ledger, grace=0):

    return EndStuckRuns(ledger.uow(), ledger.scheduled_runs(), RqRunJobs(ledger.scheduler().connection), ledger.clock(),
                        grace=grace)


def test_a_run_whose_worker_is_gone_is_ended_once(ledger, redis):
    parent = register(ledger, at=now() + timedelta(hours=1))
    run = ledger.scheduled_runs().start(parent.id, parent.next_run_at, worker="host.123.gone")
    repair = stuck_runs(ledger)
    assert repair() == [run.id]
    assert repair() == []
    parent, [ended] = ledger.get_schedule()(parent.id)
    assert ended.status is RunStatus.FAILED and "its worker host.123.gone is gone" in ended.log
    assert parent.status is ScheduleStatus.FAILED


def test_a_run_whose_job_failed_in_the_queue_is_ended_with_the_queue_error(ledger, redis):
    from rq.job import JobStatus

    parent = register(ledger, at=now() + timedelta(hours=1))
    job = Queue("default", connection=redis, serializer=JSONSerializer).enqueue_call(
        "rqledger.entrypoints.firing_entry.run_schedule", args=[parent.id, "sched_tick", parent.next_run_at.isoformat()],
        job_id=run_job_id(parent.id, parent.next_run_at))
    run = ledger.scheduled_runs().start(parent.id, parent.next_run_at, worker=None)
    job.set_status(JobStatus.FAILED)
    assert stuck_runs(ledger)() == [run.id]
    assert "its job failed in the queue" in ledger.get_schedule()(parent.id)[1][0].log


def test_a_fresh_or_healthy_run_is_left_alone(ledger, redis):
    parent = register(ledger, at=now() + timedelta(hours=1))
    ledger.scheduled_runs().start(parent.id, parent.next_run_at, worker="host.123.gone")
    assert stuck_runs(ledger, grace=60)() == []  # too fresh: its writes may be in flight


def test_a_registration_while_redis_is_down_keeps_the_parent_and_the_reconciler_restores_its_trigger(redis_url, redis):
    from rqledger.adapters.scheduler import RqScheduler
    from rqledger.application.errors import ScheduleNotRegistered
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings
    from tests.integration.scheduling.conftest import TASK_MODULES
    from tests.services import free_port

    down = build_container(load_settings({
        "RQLEDGER_STORAGE": "memory", "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RQLEDGER_TASK_MODULES": TASK_MODULES,
    }))
    with pytest.raises(ScheduleNotRegistered):
        down.register_schedule()(ScheduleRequest("sched_tick", ["outage"], at=now() + timedelta(hours=1)))
    [parent] = down.list_schedules()(ScheduleQuery()).items
    assert parent.status is ScheduleStatus.RUNNING
    back = RqScheduler(redis, down.calendar(), down.clock(), down.registry(), "rqledger.entrypoints.firing_entry.run_schedule")
    assert RepairTriggers(down.uow(), back)().restored == [parent.id]
    assert triggers(redis) == [f"schedule-{parent.id}"]


def test_another_applications_pickled_job_in_the_set_is_left_alone(ledger, redis, work):
    from rq_scheduler import Scheduler

    foreign = Scheduler(connection=redis).enqueue_at(now() - timedelta(seconds=5), print, "hello")  # pickled
    assert redis.hget(foreign.key, "data")  # stored by rq-scheduler's own (pickling) job class
    parent = register(ledger)
    loop = scheduler_loop(ledger)
    loop.run(burst=True, install_signal_handlers=False)
    assert queued(redis) == [run_job_id(parent.id, parent.next_run_at)]
    assert triggers(redis) == [foreign.id]  # neither moved nor unpickled


def test_one_burst_of_the_scheduler_process_restores_lost_triggers_and_fires_what_is_due(ledger, redis, work):
    from rqledger.entrypoints.scheduler import SchedulerProcess

    due = register(ledger, "due")
    later = register(ledger, "later", at=now() + timedelta(hours=1))
    redis.flushdb()  # Redis lost everything
    SchedulerProcess(ledger, interval=0.1).run(burst=True, install_signal_handlers=False)
    assert queued(redis) == [run_job_id(due.id, due.next_run_at)]
    assert triggers(redis) == [f"schedule-{later.id}"]
    work()
    assert ledger.get_schedule()(due.id)[0].status is ScheduleStatus.DEATH
