"""3. What set_progress costs: a task calling it in a tight loop, vs the same loop reporting nothing (bare RQ).

Both run under an in-process SimpleWorker; each job times its own loop. rqledger's
side goes through the real sinks: the live value in Redis (throttled to one write
per 0.3 s) and the ledger row (throttled to one UPDATE per RQLEDGER_PROGRESS_INTERVAL,
default 2 s, plus the final 100).
"""

from __future__ import annotations

from rq.job import Job
from rq.serializers import JSONSerializer

from benchmarks.burst import BenchmarkFailed
from benchmarks.counting import sql_counter
from benchmarks.report import Row, compared, single
from benchmarks.subjects import Pair
from benchmarks.timing import back_to_back

SECTION = "progress"


def measure(pair: Pair, calls: int, repeats: int) -> list[Row]:
    ledger_facts: list[dict] = []

    def ledger_run() -> float:
        [job_id] = pair.ledger.enqueue("report_progress", [calls])
        with sql_counter(pair.ledger.engine) as sql:
            pair.ledger.simple_worker().work(burst=True, logging_level="WARNING")
        job = _job(pair, job_id)
        ledger_facts.append({"writes": job.meta.get("progress_ledger_writes"),
                             "reports": job.meta.get("progress_reports"), "statements": sql.statements})
        return job.return_value()["loop_seconds"] * 1000

    def bare_run() -> float:
        [job_id] = pair.bare.enqueue("report_progress", [calls])
        pair.bare.simple_worker().work(burst=True, logging_level="WARNING")
        return _job(pair, job_id).return_value()["loop_seconds"] * 1000

    loops = back_to_back(repeats, ledger_run, bare_run, pair.flush)
    per_call = [(a - b) / calls * 1000 for a, b in loops]
    reports = ledger_facts[0]["reports"]
    if reports != calls:
        raise BenchmarkFailed(f"the task reported {reports} times, not {calls}")
    return [
        compared(SECTION, f"a loop of {calls:,} set_progress calls vs the bare loop", "ms", loops,
                 note="timed inside the job"),
        single(SECTION, "  cost of one set_progress call (difference)", "µs", per_call),
        single(SECTION, "  ledger writes (progress UPDATEs) in that job", "", [f["writes"] for f in ledger_facts],
               bare=0),
        single(SECTION, "  SQL statements of that whole job", "", [f["statements"] for f in ledger_facts], bare=0,
               note="start + progress + finish"),
    ]


def _job(pair: Pair, job_id: str) -> Job:
    job = Job.fetch(job_id, connection=pair.bare.connection, serializer=JSONSerializer)
    if job.get_status() != "finished":
        raise BenchmarkFailed(f"job {job_id} is {job.get_status()}, not finished")
    return job
