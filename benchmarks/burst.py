"""Burst workers as subprocesses, and how long their jobs took according to RQ's own job records."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from rq.job import Job
from rq.utils import utcparse


class BenchmarkFailed(RuntimeError):
    """A measurement did not do what it measures (a worker failed, a job did not finish)."""


def run_burst_worker(command: list[str], env: dict, log_path: Path, timeout: float) -> float:
    """Runs a `--burst` worker to its end; returns its wall-clock seconds. Its whole process group is killed."""
    with open(log_path, "ab") as log:
        began = time.perf_counter()
        # a session of its own: the work-horse and any scheduler child die with it
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise BenchmarkFailed(f"{' '.join(command[-4:])} did not finish within {timeout:.0f} s "
                                  f"(log: {log_path})") from None
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        wall = time.perf_counter() - began
    if code != 0:
        tail = "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-15:])
        raise BenchmarkFailed(f"the worker exited with {code}:\n{tail}")
    return wall


def job_span(connection, job_ids: list[str]) -> float:
    """Seconds from the first job's start to the last job's end, as RQ recorded them; all must have finished."""
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(Job.key_for(job_id), "status", "started_at", "ended_at")
        rows = pipe.execute()
    unfinished = [(i, row[0]) for i, row in zip(job_ids, rows) if row[0] != b"finished"]
    if unfinished:
        raise BenchmarkFailed(f"{len(unfinished)} of {len(job_ids)} jobs did not finish, e.g. {unfinished[:3]}")
    starts = [utcparse(row[1].decode()) for row in rows]
    ends = [utcparse(row[2].decode()) for row in rows]
    return (max(ends) - min(starts)).total_seconds()
