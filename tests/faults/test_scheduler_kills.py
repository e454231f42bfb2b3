"""`rqledger scheduler` SIGKILLed 20 times around the firings of an every-second schedule, two of
them running at once most of the time: no firing is recorded twice or run twice."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta, timezone

from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.schedule import RunStatus
from tests.faults.processes import wait_for

KILLS = 20


def test_schedulers_killed_20_times_two_at_once_record_each_firing_once(system, note):
    workers = [system.start_worker(), system.start_worker()]
    first = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    parent = system.container.register_schedule()(ScheduleRequest("tick", ["every second"], at=first,
                                                                  interval=1))[0]
    kills = []
    lock = threading.Lock()

    def slot(seed: int) -> None:
        """Starts a scheduler, lets it live 1-3 s (start-up, maintenance, a few passes), SIGKILLs it."""
        rng = random.Random(seed)
        while True:
            with lock:
                if len(kills) >= KILLS:
                    return
                scheduler = system.services.start("scheduler")
            time.sleep(rng.uniform(1.0, 3.0))
            scheduler.kill_all()
            with lock:
                kills.append(time.monotonic())

    began = time.monotonic()
    slots = [threading.Thread(target=slot, args=(seed,), daemon=True) for seed in (1, 2)]
    for thread in slots:
        thread.start()
    for thread in slots:
        thread.join(120)
    assert len(kills) >= KILLS
    system.start_scheduler()  # one that lives: it catches up and the schedule goes on
    time.sleep(3)
    system.container.cancel_schedule()(parent.id)
    canceled_at = datetime.now(timezone.utc)
    window = time.monotonic() - began

    def settled():
        runs = system.container.list_runs()(parent.id, limit=500).items
        return runs if runs and all(r.status is not RunStatus.RUNNING for r in runs) else None

    runs = wait_for(settled, 30, what="the runs to end", details=system.services.output)
    slots_fired = [r.scheduled_at for r in runs]
    assert len(slots_fired) == len(set(slots_fired)), "a firing was recorded twice"
    assert all((at - first).total_seconds() % 1 == 0 for at in slots_fired), slots_fired  # on the 1 s grid
    # a gap with no scheduler alive longer than the catch-up grace leaves `missed` runs (catch_up latest: the
    # newest of each gap ran late); every other run ran and finished
    missed = {r.scheduled_at for r in runs if r.status is RunStatus.MISSED}
    assert all(r.status is RunStatus.FINISHED for r in runs if r.scheduled_at not in missed), [
        r.log for r in runs if r.status not in (RunStatus.FINISHED, RunStatus.MISSED)]
    # each firing enqueued once (its job id is the slot's) and run once. A firing enqueued just before the
    # cancel and delivered after it records no run (the parent is dead): wait for every job to end, then
    # count those apart
    firing_jobs = wait_for(lambda: _ended_firings(system, parent.id), 30, what="every firing job to end",
                           details=system.services.output)
    ran = {slot for slot, result in firing_jobs.items() if isinstance(result, dict) and "run_id" in result}
    assert ran == set(slots_fired) - missed, (sorted(ran ^ (set(slots_fired) - missed)))
    late = {slot: result for slot, result in firing_jobs.items() if slot not in ran}
    assert all("skipped" in result and slot >= canceled_at - timedelta(seconds=5) for slot, result in late.items()), late
    assert all(w.alive() for w in workers)

    lateness = sorted((r.started_at - r.scheduled_at).total_seconds() for r in runs if r.scheduled_at not in missed)
    span = (max(slots_fired) - min(slots_fired)).total_seconds() + 1
    note(f"{len(kills)} SIGKILLs of `rqledger scheduler` over {window:.0f} s, two schedulers alive at once "
         f"most of the time; an every-1-s schedule")
    note(f"runs recorded: {len(runs)} over {span:.0f} slots; duplicate runs: 0; runs per (parent, slot): at most 1; "
         f"firing jobs enqueued: {len(firing_jobs)} (one per run; {len(late)} delivered after the cancel ran nothing)")
    note(f"slots recorded missed (no scheduler alive): {len(missed)}; slots without a row (older than the newest "
         f"missed ones kept, or a gap within the catch-up grace): {int(span) - len(runs)}; "
         f"start after the slot: median {lateness[len(lateness) // 2]:.2f} s, max {lateness[-1]:.2f} s")


def _ended_firings(system, schedule_id: int) -> dict | None:
    """slot -> the RQ result of its firing job, once every firing job has ended (None until then)."""
    results = {}
    for key in system.redis.keys(f"rq:job:schedule-{schedule_id}-*"):
        job = Job.fetch(key.decode().removeprefix("rq:job:"), connection=system.redis, serializer=JSONSerializer)
        if job.get_status() not in (JobStatus.FINISHED, JobStatus.FAILED):
            return None
        slot = datetime.fromtimestamp(int(job.id.rsplit("-", 1)[1]) / 1000, timezone.utc)
        results[slot] = job.return_value()
    return results
