"""`rqledger dev`: the whole service on one machine with nothing installed but `rqledger[dev]`.

Redis: the embedded one (unless REDIS_URL is set). Database: SQLite in the
current directory (unless DATABASE_URL is set), migrated first. Task modules:
the demo's, unless it is given others (--tasks or RQLEDGER_TASK_MODULES) or
told --no-demo. Then `rqledger web`, `rqledger worker` (two, so a long task
does not hold up the rest) and `rqledger scheduler` as child processes, all
with the same task modules and RQLEDGER_PATH. Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rqledger.adapters.embedded_redis import EmbeddedRedis
from rqledger.entrypoints.dev_processes import Child, Output, die_with_parent, stop_all
from rqledger.entrypoints.dev_session import remove_session, write_session
from rqledger.entrypoints.settings import split_modules, split_path
from rqledger.entrypoints.task_modules import DEMO_MODULE, TaskModuleError, import_task_modules

READY_WITHIN = 20.0  # seconds for the dashboard to answer
# Runs the CLI in a child: the `rqledger` script may not be on PATH (a venv that was not activated).
CLI = "from rqledger.entrypoints.cli import main; main(prog_name='rqledger')"


class DevFailed(Exception):
    """`rqledger dev` could not start; the message says why."""


@dataclass
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    seed: bool = True
    grace: float = 10.0  # seconds a worker may take to finish its task on Ctrl-C
    tasks: str | None = None  # comma list of task modules (None: RQLEDGER_TASK_MODULES)
    demo: bool | None = None  # the demo tasks too (None: only when no task modules are given)


class DevServer:
    def __init__(self, options: DevOptions, environ: dict[str, str] | None = None, cwd: Path | None = None,
                 output: Output | None = None):
        self.options = options
        self.env = dict(os.environ if environ is None else environ)
        self.cwd = (cwd or Path.cwd()).resolve()
        self.output = output or Output()
        self.redis: EmbeddedRedis | None = None
        self.children: list[Child] = []
        self._stop = threading.Event()
        self._hurry = threading.Event()  # a second Ctrl-C: stop waiting for tasks to finish
        self._signal: int | None = None
        self.task_modules = dev_task_modules(options.tasks, options.demo, self.env)
        # absolute: the children and the commands beside dev (through the session file) search the same folders
        self.folders = [str(self.cwd / folder) for folder in split_path(self.env.get("RQLEDGER_PATH"))]

    def say(self, text: str) -> None:
        self.output.line("dev", text)

    @property
    def url(self) -> str:
        shown = "127.0.0.1" if self.options.host in ("0.0.0.0", "::", "") else self.options.host
        return f"http://{shown}:{self.options.port}/"

    def run(self) -> int:
        """Starts everything, waits for Ctrl-C/SIGTERM (or a child that dies), stops everything. The exit code."""
        # SIGHUP too: a closed terminal must stop the children as cleanly as Ctrl-C
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            try:
                self.start()
            except DevFailed as exc:
                self.say(f"error: {exc}")
                return 1
            if self._stop.is_set():
                return 0
            write_session(self.cwd, self.env["REDIS_URL"], self.env["DATABASE_URL"], self.url,
                          task_modules=self.task_modules, folders=self.folders)
            self.say(f"dashboard at {self.url}  (Ctrl-C stops everything)")
            if DEMO_MODULE in self.task_modules:
                self.say(f"try, in another terminal in {self.cwd}: rqledger enqueue example 3 --wait")
            return self._supervise()
        finally:
            remove_session(self.cwd)
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self) -> None:
        self._load_task_modules()
        self._check_port_free()
        self._prepare_redis()
        self._prepare_database()
        self._prepare_folders()
        if self.options.seed and DEMO_MODULE in self.task_modules:
            self._seed()
        for name, args in self._commands():
            child = Child(name, [sys.executable, "-c", CLI, *args], self._child_env(), self.output, str(self.cwd))
            child.start()
            self.children.append(child)
        self._wait_until_ready()

    def stop(self) -> None:
        if self.children:
            self.say("stopping web, workers and scheduler…")
            stop_all(self.children, self.options.grace, self.say, hurry=self._hurry)
            self.children = []
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
            self.say("embedded Redis stopped")

    # -- steps -----------------------------------------------------------

    def _load_task_modules(self) -> None:
        """Imports them here first: a module that cannot be imported is one line before anything starts."""
        try:
            import_task_modules(self.task_modules, self.folders)
        except TaskModuleError as exc:
            hint = " (or leave the demo out: rqledger dev --no-demo)" if exc.module == DEMO_MODULE else ""
            raise DevFailed(f"{exc}{hint}") from None
        if not self.task_modules:
            self.say("no task modules: name yours with --tasks MODULES (or RQLEDGER_TASK_MODULES)")
        elif DEMO_MODULE in self.task_modules:
            self.say(f"task modules: {', '.join(self.task_modules)} ({DEMO_MODULE} is the built-in demo; "
                     f"--no-demo leaves it out)")
        else:
            self.say(f"task modules: {', '.join(self.task_modules)}")

    def _check_port_free(self) -> None:
        with socket.socket() as sock:
            try:
                sock.bind((self.options.host, self.options.port))
            except OSError as exc:
                raise DevFailed(f"cannot listen on {self.options.host}:{self.options.port} ({exc.strerror or exc}); "
                                f"choose another with --port") from None

    def _prepare_redis(self) -> None:
        if self.env.get("REDIS_URL"):
            self._check_redis(self.env["REDIS_URL"])
            self.say(f"Redis: {self.env['REDIS_URL']} (REDIS_URL)")
            return
        self.redis = EmbeddedRedis(preexec_fn=die_with_parent)
        try:
            self.env["REDIS_URL"] = self.redis.start()
        except Exception as exc:
            self.redis = None
            raise DevFailed(str(exc)) from None
        self.say(f"Redis: embedded redis-server at {self.env['REDIS_URL']} (in memory only)")

    def _check_redis(self, url: str) -> None:
        from rqledger.adapters.rq import redis_connection

        client = redis_connection(url)
        try:
            client.ping()
        except Exception as exc:
            raise DevFailed(f"REDIS_URL={url} does not answer ({exc}); unset it to use the embedded Redis") from None
        finally:
            client.close()

    def _prepare_database(self) -> None:
        from rqledger.adapters.sqlalchemy import normalize_url, upgrade

        if not self.env.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = f"sqlite:///{self.cwd / 'rqledger.db'}"  # absolute: every child agrees
        url = self.env["DATABASE_URL"]
        shown = normalize_url(url).render_as_string(hide_password=True)
        try:
            before, after = upgrade(url, schema=self.env.get("RQLEDGER_DB_SCHEMA") or None)
        except Exception as exc:
            raise DevFailed(f"cannot prepare the database {shown}: {exc}") from None
        change = "up to date" if before == after else f"migrated to {after}"
        self.say(f"database: {shown} ({change})")

    def _prepare_folders(self) -> None:
        if not self.env.get("MAIL_SERVER") and not self.env.get("RQLEDGER_MAIL_OUTBOX"):
            self.env["RQLEDGER_MAIL_OUTBOX"] = str(self.cwd / "outbox")
            self.say(f"mail: no MAIL_SERVER, so send_mail writes .eml files to {self.env['RQLEDGER_MAIL_OUTBOX']}")
        media = Path(self.env.get("RQLEDGER_MEDIA_DIR") or "media")
        self.env["RQLEDGER_MEDIA_DIR"] = str(media if media.is_absolute() else self.cwd / media)

    def _seed(self) -> None:
        from rqledger.entrypoints.container import build_container
        from rqledger.entrypoints.dev_seed import seed_demo
        from rqledger.entrypoints.settings import load_settings

        try:
            seeded = seed_demo(build_container(load_settings(self._child_env())), Path(self.env["RQLEDGER_MEDIA_DIR"]))
        except Exception as exc:  # a demo that could not be seeded must not keep the service down
            self.say(f"could not seed the demo tasks: {exc}")
            return
        if seeded:
            self.say(f"seeded {seeded} demo tasks and a schedule (the ledger was empty; --no-seed skips this)")

    def _commands(self) -> list[tuple[str, list[str]]]:
        commands = [("web", ["web", "--host", self.options.host, "--port", str(self.options.port), "--workers", "1"])]
        for number in range(1, self.options.workers + 1):
            # one runs RQ's scheduler (interval retries, delayed jobs); more would only compete for its lock
            extra = [] if number == 1 else ["--without-scheduler"]
            extra += ["--concurrency", "1"]  # --workers counts the processes that run tasks
            commands.append((f"worker{number}" if self.options.workers > 1 else "worker", ["worker", *extra]))
        commands.append(("scheduler", ["scheduler"]))
        return commands

    def _child_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["RQLEDGER_TASK_MODULES"] = ",".join(self.task_modules)
        env["RQLEDGER_PATH"] = os.pathsep.join(self.folders)
        env["PYTHONUNBUFFERED"] = "1"  # lines reach the terminal as they are written
        return env

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline and not self._stop.is_set():
            for child in self.children:
                if child.exited() is not None:
                    raise DevFailed(f"{child.name} exited with code {child.exited()} while starting (see its lines above)")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            self._stop.wait(0.2)
        if not self._stop.is_set():
            raise DevFailed(f"the dashboard did not answer at {self.url} within {READY_WITHIN:g} s")

    def _supervise(self) -> int:
        while not self._stop.wait(0.5):
            for child in self.children:
                code = child.exited()
                if code is not None:
                    self.say(f"{child.name} exited with code {code}; stopping everything")
                    return 1
        self.say(f"{signal.Signals(self._signal).name} received")
        return 0

    def _on_signal(self, signum, frame) -> None:
        if self._stop.is_set():
            self._hurry.set()
            return
        self._signal = signum
        self._stop.set()


def dev_task_modules(tasks: str | None, demo: bool | None, env: dict[str, str]) -> list[str]:
    """The task modules of a dev: those given (--tasks, else RQLEDGER_TASK_MODULES), and the demo's when none
    are given or when told `demo` (--demo); --no-demo (`demo` False) leaves the demo out."""
    given = split_modules(tasks if tasks is not None else env.get("RQLEDGER_TASK_MODULES"))
    with_demo = not given if demo is None else demo
    return [*given, DEMO_MODULE] if with_demo and DEMO_MODULE not in given else given


def run_dev(options: DevOptions) -> int:
    return DevServer(options).run()
