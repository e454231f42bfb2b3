"""`rqledger dev` as a user runs it: no Redis, no database server, in an empty directory; then Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from tests.services import free_port
from tests.processes import rqledger_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

READY_WITHIN = 20.0
FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>Dev feed</title>"
        b"<item><title>Hello</title><link>http://example.test/hello</link></item></channel></rss>")


def user_environment() -> dict[str, str]:
    """This environment without anything that would point rqledger at real services."""
    return {k: v for k, v in os.environ.items()
            if k not in ("REDIS_URL", "DATABASE_URL", "MAIL_SERVER") and not k.startswith("RQLEDGER_")}


class Dev:
    def __init__(self, folder: Path, port: int):
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.process: subprocess.Popen | None = None
        self.seen: list[psutil.Process] = []  # processes the teardown makes sure are gone

    def start(self, *args: str, **env: str) -> float:
        """Starts `rqledger dev` (with `args`); returns the seconds until its dashboard answered."""
        began = time.monotonic()
        self.process = subprocess.Popen(
            [*rqledger_command(), "dev", "--port", str(self.port), "--no-seed", "--grace", "5", *args],
            cwd=self.folder, env={**user_environment(), **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        while time.monotonic() - began < READY_WITHIN:
            assert self.process.poll() is None, "rqledger dev exited:\n" + self.output()
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - began
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        pytest.fail(f"the dashboard did not answer within {READY_WITHIN} s:\n" + self.output())

    def processes(self) -> list[psutil.Process]:
        """rqledger dev and everything it started (web, workers, their RQ scheduler, the scheduler, Redis)."""
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def enqueue(self, name: str, *args, **kwargs) -> int:
        status, task = self.api("POST", "/api/tasks", {"name": name, "args": list(args), "kwargs": kwargs})
        assert status == 202, task
        return task["id"]

    def wait_until_ended(self, task_id: int, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, task = self.api("GET", f"/api/tasks/{task_id}")
            if task["status"] in ("finished", "failed", "canceled"):
                return task
            time.sleep(0.2)
        pytest.fail(f"task {task_id} did not end within {timeout} s: {task}\n" + self.output())

    def output(self) -> str:
        return "".join(self.lines[-80:])

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)


@pytest.fixture
def feed_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


@pytest.fixture
def dev(tmp_path):
    instance = Dev(tmp_path, free_port())
    yield instance
    # whatever happened in the test: nothing it started may outlive it
    if instance.process is not None:
        try:
            instance.seen.extend(instance.processes())
        except psutil.Error:
            pass
        if instance.process.poll() is None:
            os.killpg(instance.process.pid, signal.SIGKILL)
            instance.process.wait()
        for process in instance.seen:
            try:
                process.kill()
            except psutil.Error:
                pass


def test_dev_runs_every_demo_task_on_embedded_services_and_stops_cleanly_on_ctrl_c(dev, tmp_path, feed_server):
    from PIL import Image

    (tmp_path / "media").mkdir()
    Image.new("RGB", (640, 480), "orange").save(tmp_path / "media" / "photo.jpg")

    ready_after = dev.start(RQLEDGER_FETCH_ALLOW_PRIVATE="1")  # the feed server is on 127.0.0.1
    assert ready_after < READY_WITHIN
    names = {p.name() for p in dev.processes()}
    assert "redis-server" in names  # the embedded one: nothing else was running for it

    unreachable = f"http://127.0.0.1:{free_port()}/gone"
    ids = {
        "example": dev.enqueue("example", 2),
        "count_words": dev.enqueue("count_words", text="the ledger keeps the tasks"),
        "count_words_unreachable": dev.enqueue("count_words", url=unreachable),
        "send_mail": dev.enqueue("send_mail", "Hello", ["ada@example.test"], "welcome", context={"name": "Ada"}),
        "create_image_set": dev.enqueue("create_image_set", "photo.jpg"),
        "fetch_rss": dev.enqueue("fetch_rss", feed_server),
    }
    ended = {key: dev.wait_until_ended(task_id) for key, task_id in ids.items()}

    assert {k: t["status"] for k, t in ended.items()} == {**dict.fromkeys(ids, "finished"),
                                                          "count_words_unreachable": "failed"}
    assert ended["example"]["result"] == {"slept": 2} and ended["example"]["progress"] == 100
    assert ended["count_words"]["result"]["words"] == 5
    assert f"FetchFailed: could not fetch {unreachable}: " in ended["count_words_unreachable"]["log"]
    [mail] = (tmp_path / "outbox").glob("*.eml")
    assert "Hello Ada," in mail.read_text()
    assert ended["send_mail"]["result"]["delivered_to"] == str(mail)
    thumbnail = ended["create_image_set"]["result"]["images"]["thumbnail"]
    assert (tmp_path / "media" / thumbnail["path"]).exists() and thumbnail["width"] == 128
    assert ended["fetch_rss"]["result"]["title"] == "Dev feed"
    assert ended["fetch_rss"]["result"]["items"][0]["title"] == "Hello"

    # the CLI in the same directory finds the dev service by itself
    cli = subprocess.run([*rqledger_command(), "enqueue", "example", "3", "--wait"], cwd=tmp_path,
                         env=user_environment(), capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "100%" in cli.stdout and '"slept": 3' in cli.stdout
    failing = subprocess.run([*rqledger_command(), "enqueue", "count_words", "--wait"], cwd=tmp_path,
                             env=user_environment(), capture_output=True, text=True, timeout=60)
    assert failing.returncode == 1
    assert "ValueError: give exactly one of 'text' or 'url'" in failing.stdout

    with urllib.request.urlopen(dev.url + "/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert 'rqledger_tasks{name="count_words",status="failed"} 2.0' in metrics
    assert 'rqledger_queue_depth{queue="default"} 0.0' in metrics

    purge = subprocess.run([*rqledger_command(), "purge", "--older-than", "0", "--status", "failed"], cwd=tmp_path,
                           env=user_environment(), capture_output=True, text=True, timeout=60)
    assert "Deleted 2 tasks and 0 runs" in purge.stdout, purge.stdout + purge.stderr
    assert dev.api("GET", f"/api/tasks/{ids['count_words_unreachable']}")[0] == 404

    # Ctrl-C with a task still running: everything it started is gone, and no row is left running
    busy = dev.enqueue("example", 60)
    deadline = time.monotonic() + 30
    while dev.api("GET", f"/api/tasks/{busy}")[1]["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    processes = dev.processes()
    dev.seen.extend(processes)
    assert len(processes) >= 7  # dev, redis, web, 2 workers (+ RQ's scheduler, a work-horse), scheduler
    dev.process.send_signal(signal.SIGINT)
    assert dev.process.wait(timeout=30) == 0, dev.output()
    gone, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == [], [p.pid for p in alive]
    assert "embedded Redis stopped" in dev.output()
    assert not (tmp_path / ".rqledger-dev.json").exists()
    import sqlite3

    with sqlite3.connect(tmp_path / "rqledger.db") as ledger:
        status, log = ledger.execute("SELECT status, log FROM rqledger_tasks WHERE id = ?", (busy,)).fetchone()
    assert status == "failed" and "shut down" in log, log


def test_dev_refuses_a_port_in_use_in_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*rqledger_command(), "dev", "--port", str(port), "--no-seed"], cwd=tmp_path,
                                env=user_environment(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "rqledger.db").exists()  # nothing was started


def test_dev_uses_the_redis_and_database_it_is_given(redis_url, postgres_url, dev):  # dev stops first
    dev.start(REDIS_URL=redis_url, DATABASE_URL=postgres_url)
    assert "redis-server" not in {p.name() for p in dev.processes()}
    task = dev.wait_until_ended(dev.enqueue("count_words", text="given services"))
    assert task["status"] == "finished"

    import redis
    import sqlalchemy as sa

    assert redis.Redis.from_url(redis_url).exists(f"rq:job:{task['id']}")
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT status FROM rqledger_tasks WHERE id = :id"), {"id": task["id"]}).scalar() \
            == "finished"
    engine.dispose()
    assert not (dev.folder / "rqledger.db").exists()
    dev.seen.extend(dev.processes())
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=30) == 0


def test_dev_runs_the_task_modules_of_its_directory_and_the_cli_beside_it_finds_them(dev, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "tasks.py").write_text(
        "from rqledger import task\n\n\n@task\ndef greet(name: str) -> dict:\n    return {'hello': name}\n")
    dev.start("--tasks", "app.tasks")  # the demo is left out: yours were given
    assert "task modules: app.tasks" in dev.output()
    assert dev.api("POST", "/api/tasks", {"name": "example", "args": [1]})[0] == 422
    assert dev.wait_until_ended(dev.enqueue("greet", "Ada"))["result"] == {"hello": "Ada"}

    # no RQLEDGER_TASK_MODULES here: the command takes dev's from its session file
    cli = subprocess.run([*rqledger_command(), "enqueue", "greet", "Bob", "--wait"], cwd=tmp_path,
                         env=user_environment(), capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert '"hello": "Bob"' in cli.stdout
    dev.seen.extend(dev.processes())
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=30) == 0
