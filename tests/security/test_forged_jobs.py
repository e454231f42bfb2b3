"""Jobs forged in Redis are never executed by `rqledger worker`: they end failed in RQ, and the worker carries on.

Each test forges one job straight into Redis (as anyone who can reach Redis could),
then queues an ordinary task behind it and runs a real burst worker. The canary
callables write a file when run; the file must not exist afterwards.
"""

from __future__ import annotations

import pytest
from rq import Callback
from rq.job import JobStatus

from rqledger.adapters.rq import LedgerSimpleWorker
from rqledger.application.ports import ScheduleQuery
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints import firing_entry as schedule_jobs
from rqledger.entrypoints.task_entry import __name__ as jobs_module
from rqledger.entrypoints.worker import build_worker
from tests.security import canary
from tests.security.forgery import forge, forge_abandoned, forge_pickled, rq_outcome

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RUN_TASK = f"{jobs_module}.run_task"
RUN_SCHEDULE = schedule_jobs.RUN_FUNCTION
TOUCH = f"{canary.__name__}.touch"
CALLBACK = f"{canary.__name__}.touch_from_callback"


def run_worker_after(ledger, start_worker):
    """Queues an ordinary task behind the forged job, runs a burst worker, and returns (worker, that task)."""
    behind = ledger.enqueue_task()(TaskRequest("greet", ["after"], {}))
    worker = start_worker("--burst", "--without-scheduler")
    assert worker.wait(60) == 0, worker.output
    assert ledger.get_task()(behind.id).status is TaskStatus.FINISHED, worker.output
    return worker


def assert_refused(redis_url, job_id, worker):
    status, failed, error = rq_outcome(redis_url, job_id)
    assert status == JobStatus.FAILED and failed, (status, failed, worker.output)
    assert "refused" in error.lower(), error
    assert job_id in worker.output and "refused" in worker.output.lower()


def test_a_job_naming_os_system_is_not_executed(ledger, ledger_env, start_worker, tmp_path):
    proof = tmp_path / "os-system-ran"
    forge(ledger_env["REDIS_URL"], "os.system", [f"touch {proof}"], "forged-os-system")

    worker = run_worker_after(ledger, start_worker)

    assert not proof.exists()
    assert_refused(ledger_env["REDIS_URL"], "forged-os-system", worker)


def test_a_job_naming_any_other_importable_function_is_not_executed(ledger, ledger_env, start_worker, tmp_path):
    proof = tmp_path / "canary-ran"
    forge(ledger_env["REDIS_URL"], TOUCH, [str(proof)], "123456")  # an id that looks like a task's

    worker = run_worker_after(ledger, start_worker)

    assert not proof.exists()
    assert_refused(ledger_env["REDIS_URL"], "123456", worker)


def test_a_pickled_job_is_never_unpickled_nor_executed(ledger, ledger_env, start_worker, tmp_path):
    ran, unpickled = tmp_path / "pickled-job-ran", tmp_path / "payload-unpickled"
    forge_pickled(ledger_env["REDIS_URL"], TOUCH, [str(ran), canary.TouchWhenUnpickled(str(unpickled))],
                  "forged-pickle")

    worker = run_worker_after(ledger, start_worker)

    assert not ran.exists() and not unpickled.exists()
    assert_refused(ledger_env["REDIS_URL"], "forged-pickle", worker)


def test_a_pickled_job_naming_our_own_entry_is_not_executed(ledger, ledger_env, start_worker, tmp_path):
    queued = ledger.enqueue_task()(TaskRequest("greet", ["pickled"], {}))
    unpickled = tmp_path / "payload-unpickled"
    forge_pickled(ledger_env["REDIS_URL"], RUN_TASK, [queued.id, "greet", canary.TouchWhenUnpickled(str(unpickled))],
                  "forged-pickled-entry")

    worker = run_worker_after(ledger, start_worker)

    assert not unpickled.exists()
    assert_refused(ledger_env["REDIS_URL"], "forged-pickled-entry", worker)
    assert ledger.get_task()(queued.id).status is TaskStatus.FINISHED  # its own job ran it, once
    assert ledger.get_task()(queued.id).attempts == 1


def test_our_entry_naming_an_unregistered_task_type_fails_without_running_anything(ledger, ledger_env, start_worker):
    forge(ledger_env["REDIS_URL"], RUN_TASK, [987654, "os.system"], "987654")

    worker = run_worker_after(ledger, start_worker)

    status, failed, error = rq_outcome(ledger_env["REDIS_URL"], "987654")
    assert status == JobStatus.FAILED and failed, (status, worker.output)
    assert "'os.system' is not registered" in error, error


def test_our_schedule_entry_naming_a_schedule_that_does_not_exist_fails_without_running_anything(
        ledger, ledger_env, start_worker):
    forge(ledger_env["REDIS_URL"], RUN_SCHEDULE, [987654, "greet", "2026-01-01T00:00:00+00:00"],
          "schedule-987654-forged")

    worker = run_worker_after(ledger, start_worker)

    status, failed, error = rq_outcome(ledger_env["REDIS_URL"], "schedule-987654-forged")
    assert status == JobStatus.FAILED and failed, (status, worker.output)
    assert "schedule 987654 does not exist" in error, error
    assert ledger.list_schedules()(ScheduleQuery()).items == []  # nothing was recorded, nothing ran


def test_a_row_of_a_task_type_the_worker_does_not_know_fails_without_running(ledger, ledger_env, start_worker,
                                                                           tmp_path):
    # The client knows a task type the worker does not (its RQLEDGER_TASK_MODULES lack it).
    client_types = TaskRegistry()
    task(canary.touch, name="touch_canary", registry=client_types)
    ledger.registry.override(client_types)
    proof = tmp_path / "unknown-type-ran"
    row = ledger.enqueue_task()(TaskRequest("touch_canary", [str(proof)], {}))
    ledger.registry.reset_override()

    worker = run_worker_after(ledger, start_worker)

    assert not proof.exists()
    ended = ledger.get_task()(row.id)
    assert ended.status is TaskStatus.FAILED and "touch_canary" in ended.log, ended.log
    assert rq_outcome(ledger_env["REDIS_URL"], str(row.id))[0] == JobStatus.FAILED


@pytest.mark.parametrize("hook, name, args", [("on_success", "greet", ["callback"]),
                                              ("on_failure", "explode", ["callback"])])
def test_callbacks_named_in_a_forged_job_are_never_imported(ledger, ledger_env, start_worker, tmp_path, hook, name,
                                                            args):
    proof = tmp_path / f"{hook}-ran"
    queued = ledger.enqueue_task()(TaskRequest(name, args, {}))
    # our own entry and a real row (that succeeds, or fails): only the callback is foreign
    forge(ledger_env["REDIS_URL"], RUN_TASK, [queued.id, name], "forged-callback",
          meta={"canary": str(proof)}, **{hook: Callback(CALLBACK)})

    worker = run_worker_after(ledger, start_worker)

    assert not proof.exists()
    assert_refused(ledger_env["REDIS_URL"], "forged-callback", worker)


def test_an_abandoned_forged_job_s_failure_callback_is_never_imported(ledger, ledger_env, start_worker, tmp_path):
    # RQ's registry clean-up (run by every worker at start) calls the failure callback of a job whose
    # execution expired: forge one that looks abandoned long ago.
    proof = tmp_path / "abandoned-callback-ran"
    forge_abandoned(ledger_env["REDIS_URL"], RUN_TASK, [424242, "greet"], "forged-abandoned",
                    meta={"canary": str(proof)}, on_failure=Callback(CALLBACK))

    run_worker_after(ledger, start_worker)

    assert not proof.exists()
    assert rq_outcome(ledger_env["REDIS_URL"], "forged-abandoned")[0] == JobStatus.FAILED


def test_the_in_process_worker_refuses_them_too(memory_container, redis_url, tmp_path):
    proof = tmp_path / "in-process-ran"
    forge(redis_url, "os.system", [f"touch {proof}"], "forged-in-process")
    forge_pickled(redis_url, TOUCH, [str(proof)], "forged-pickle-in-process")

    build_worker(memory_container, ["default"], worker_class=LedgerSimpleWorker).work(burst=True,
                                                                                     logging_level="WARNING")

    assert not proof.exists()
    for job_id in ("forged-in-process", "forged-pickle-in-process"):
        status, failed, error = rq_outcome(redis_url, job_id)
        assert status == JobStatus.FAILED and failed and error.startswith("Refused, not run"), (job_id, error)
