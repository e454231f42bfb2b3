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


def test_a_quick_run_prints_every_section_with_ratios_against_bare_rq(tmp_path):
    result = run_benchmarks("--tasks", "3", "--progress-calls", "100", "--json", str(tmp_path / "rows.json"))

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    header = next(line for line in result.stdout.splitlines() if line.startswith("section"))
    assert "rqledger" in header and "bare RQ" in header and "ratio" in header
    assert re.search(r"\d\.\d\dx", result.stdout), "no ratio in the table"
    report = json.loads((tmp_path / "rows.json").read_text())
    assert {row["section"] for row in report["rows"]} == {"enqueue", "execute", "progress", "requests"}
    compared = [row for row in report["rows"] if row["ratio"] is not None]
    assert compared and all(row["ledger"] > 0 and row["bare"] > 0 for row in compared)
    assert {"CPUs", "redis server", "database"} <= set(report["environment"])


def test_an_unknown_section_is_refused_with_the_known_ones_named():
    result = run_benchmarks("--only", "enqueue,teleport")

    assert result.returncode == 2
    assert "unknown section(s): teleport" in result.stderr
