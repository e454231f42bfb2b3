"""The benchmark suite runs end to end (--quick, tiny numbers) and prints its table; no timing is asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import REDIS_URL, reachable, unavailable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def run_benchmarks(*args: str) -> subprocess.CompletedProcess:
    reason = reachable(REDIS_URL)
    if reason:
        unavailable("Redis", reason)
    return subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--redis-url", REDIS_URL, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)


# every section but the Celery peer (tests/benchmarks_smoke/test_peers.py runs that one)
SECTIONS = "enqueue,execute,progress,http,latency,listing,requests,memory"


def test_a_quick_run_prints_every_section_with_ratios_against_bare_rq(tmp_path):
    result = run_benchmarks("--only", SECTIONS, "--tasks", "3", "--progress-calls", "100", "--http-tasks", "10",
                            "--list-rows", "300", "--memory-tasks", "101", "--json", str(tmp_path / "rows.json"))

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    header = next(line for line in result.stdout.splitlines() if line.startswith("section"))
    assert "rqledger" in header and "bare RQ" in header and "ratio" in header and "min..max" in header
    assert re.search(r"\d\.\d\dx", result.stdout), "no ratio in the table"
    report = json.loads((tmp_path / "rows.json").read_text())
    assert {row["section"] for row in report["rows"]} == set(SECTIONS.split(","))
    compared = [row for row in report["rows"] if row["ratio"] is not None]
    assert compared and all(row["ledger"] > 0 and row["bare"] > 0 for row in compared)
    assert all(row["ledger_min"] <= row["ledger"] <= row["ledger_max"] for row in compared if row["ledger_min"] is not None)
    assert {"CPUs", "redis server", "database", "durability"} <= set(report["environment"])
    assert report["environment"]["durability"].startswith("durable")


def test_the_new_sections_report_what_the_issue_asks(tmp_path):
    """The ceiling of one committed INSERT, the query plans, and the durability mode the run used."""
    result = run_benchmarks("--only", "enqueue,listing", "--tasks", "3", "--list-rows", "200",
                            "--durability", "fast", "--json", str(tmp_path / "rows.json"))

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    report = json.loads((tmp_path / "rows.json").read_text())
    assert report["environment"]["durability"].startswith("fast")
    metrics = [row["metric"] for row in report["rows"]]
    assert any("ceiling" in m for m in metrics)
    assert any(row["extra"].get("of_ceiling") for row in report["rows"])
    plans = [row["extra"]["plan"] for row in report["rows"] if row["section"] == "listing" and "plan" in row["extra"]]
    assert plans and all(plans)


def test_listing_is_skipped_with_its_reason_on_sqlite_unless_rows_are_given(tmp_path):
    result = run_benchmarks("--only", "listing", "--json", str(tmp_path / "rows.json"))

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    [row] = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert row["note"].startswith("skipped:") and "PostgreSQL" in row["note"]


def test_an_unknown_section_is_refused_with_the_known_ones_named():
    result = run_benchmarks("--only", "enqueue,teleport")

    assert result.returncode == 2
    assert "unknown section(s): teleport" in result.stderr
