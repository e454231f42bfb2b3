"""The peers section (Celery, from the `bench` extra) runs and prints its rows; without Celery it says how to get it.

No timing is asserted. Celery is not in the test extra (CI does not install `bench`):
the run with Celery is skipped when it is not importable.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import REDIS_URL, reachable, unavailable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# the suite's main() in a process where `import celery` fails, as it does without the bench extra
WITHOUT_CELERY = ("import sys; sys.modules['celery'] = None; from benchmarks.run import main; "
                  "raise SystemExit(main(sys.argv[1:]))")


def run_peers(tmp_path: Path, *prefix: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    reason = reachable(REDIS_URL)
    if reason:
        unavailable("Redis", reason)
    report = tmp_path / "rows.json"
    result = subprocess.run([sys.executable, *prefix, "--quick", "--only", "peers", "--tasks", "3",
                             "--redis-url", REDIS_URL, "--json", str(report)],
                            cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result, json.loads(report.read_text())["rows"]


@pytest.mark.skipif(importlib.util.find_spec("celery") is None,
                    reason="Celery is not installed (pip install -e '.[bench]'); CI does not install the bench extra")
def test_the_peers_section_compares_rqledger_with_celery_on_enqueue_and_on_draining(tmp_path):
    result, rows = run_peers(tmp_path, "-m", "benchmarks")

    assert {row["section"] for row in rows} == {"peers"}
    metrics = [row["metric"] for row in rows]
    assert any("EnqueueTask vs Celery `.delay()`" in m for m in metrics)
    drains = [m for m in metrics if m.startswith("drain")]
    assert any("2x `rqledger worker --burst` vs `celery worker --pool prefork --concurrency 2`" in m for m in drains)
    assert any("--simple` vs `celery worker --pool prefork --concurrency 1`" in m for m in drains)
    assert any("`rqledger worker --burst --concurrency 2` (pooled) vs `celery worker --pool prefork --concurrency 2`"
               in m for m in drains)
    assert len(drains) == 6
    assert all(row["ledger"] > 0 and row["bare"] > 0 and row["ratio"] > 0 for row in rows)
    assert all("bare RQ" in row["note"] for row in rows), "each row names bare RQ's figure of the same round"
    assert "celery worker" in result.stdout


def test_without_celery_the_peers_section_prints_one_row_saying_how_to_install_it(tmp_path):
    result, rows = run_peers(tmp_path, "-c", WITHOUT_CELERY)

    assert len(rows) == 1
    assert rows[0]["section"] == "peers" and rows[0]["ledger"] is None
    assert "pip install -e '.[bench]'" in rows[0]["metric"]
    assert "pip install -e '.[bench]'" in result.stdout
