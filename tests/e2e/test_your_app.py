"""rqledger inside a user's own app, as the user runs it: an app folder with its own `domain`, `application`,
`adapters` and `entrypoints` packages (the names rqledger's layers have), no PYTHONPATH, a real
`rqledger worker` started from that folder, and the app enqueueing through `Ledger` and `task.enqueue`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.processes import rqledger_command
from tests.services import private_redis_db

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(180)]

TASKS = '''
from rqledger import set_progress, task
from domain.posts import count_posts      # the app's own domain package, not rqledger's


@task(unique=True, description="Export a user's posts")
def export_posts(user_id: int) -> dict:
    set_progress(50)
    return {"user": user_id, "posts": count_posts(user_id)}
'''

ENQUEUE = '''
import json, sys
import domain, application, adapters, entrypoints   # the app's own
from rqledger import Ledger
from app.tasks import export_posts

ledger = Ledger().set_default()                     # DATABASE_URL and REDIS_URL from the environment
by_name = ledger.enqueue("export_posts", args=[1], owner=1)
by_call = export_posts.using(owner=7).enqueue(42)
print(json.dumps({"ids": [by_name.id, by_call.id],
                  "layers": [m.__file__ for m in (domain, application, adapters, entrypoints)]}), flush=True)
'''

WAIT = '''
import json, sys
from rqledger import Ledger

ledger = Ledger()
print(json.dumps([{"status": t.status.value, "result": t.result, "owner": t.owner}
                  for t in (ledger.wait(int(i), timeout=60) for i in sys.argv[1:])]), flush=True)
'''


@pytest.fixture
def app(tmp_path) -> Path:
    """A Flask-style project folder whose top-level packages are named like rqledger's layers."""
    folder = tmp_path / "myapp"
    for package in ("domain", "application", "adapters", "entrypoints", "app"):
        (folder / package).mkdir(parents=True)
        (folder / package / "__init__.py").write_text(f'WHO = "the app\'s own {package}"\n')
    (folder / "domain" / "posts.py").write_text("def count_posts(user_id):\n    return user_id * 2\n")
    (folder / "app" / "tasks.py").write_text(TASKS)
    (folder / "enqueue.py").write_text(ENQUEUE)
    (folder / "wait.py").write_text(WAIT)
    return folder


@pytest.fixture
def app_env(tmp_path):
    """The app's environment: its SQLite ledger and a private Redis database; no PYTHONPATH, no demo."""
    with private_redis_db() as redis_url:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",) and not k.startswith("RQLEDGER_")}
        env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}", REDIS_URL=redis_url,
                   RQLEDGER_TASK_MODULES="app.tasks")
        yield env


def run(command: list[str], folder: Path, env: dict, timeout: float = 90) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def test_rqledger_never_shadows_the_apps_own_layer_packages(app, app_env):
    done = run([sys.executable, "-c", "import domain.posts, rqledger, rqledger.entrypoints.ledger, domain; "
                "print(domain.WHO, rqledger.domain.__name__)"], app, app_env)
    assert done.stdout.strip() == "the app's own domain rqledger.domain"


def test_the_apps_tasks_run_on_a_worker_started_from_its_folder_and_come_back_to_the_app(app, app_env):
    run([*rqledger_command(), "db", "upgrade"], app, app_env)
    enqueued = json.loads(run([sys.executable, "enqueue.py"], app, app_env).stdout)
    assert all(path.startswith(str(app)) for path in enqueued["layers"])

    worker = run([*rqledger_command(), "worker", "--burst"], app, app_env)
    assert "app.tasks" in worker.stdout + worker.stderr

    ended = json.loads(run([sys.executable, "wait.py", *map(str, enqueued["ids"])], app, app_env).stdout)
    assert ended == [{"status": "finished", "result": {"user": 1, "posts": 2}, "owner": "1"},
                     {"status": "finished", "result": {"user": 42, "posts": 84}, "owner": "7"}]
