"""Enqueueing through the HTTP API of a real `rqledger web` process, with 1 and 8 concurrent clients.

The server is a `rqledger web` subprocess (waitress) on a free port, with the run's
environment; it is started once for the section and always stopped. The load comes
from another subprocess (`python -m benchmarks.http_load`), so neither the server
nor the clients share a GIL with this process: each client is a thread with one
keep-alive http.client connection. Bare RQ's baseline runs in the same layout: the
same subprocess, whose threads call Queue.enqueue (or enqueue_many) on one Redis
client. The load process lives for the section, reads one JSON spec per line and
answers each with the seconds from the moment every client was connected and ready
to the last answer.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from benchmarks.burst import BenchmarkFailed
from benchmarks.report import Row, compared, single
from benchmarks.subjects import API_BATCH_LIMIT, QUEUE, Pair, ledger_env, process_env, script
from benchmarks.timing import back_to_back

SECTION = "http"
CLIENTS = (1, 8)


def measure(pair: Pair, tasks: int, batch_tasks: int, repeats: int, logs: Path) -> list[Row]:
    redis_url = pair.ledger.redis_url
    env = ledger_env(redis_url, pair.ledger.env["DATABASE_URL"])
    rows = []
    with web_server(env, logs / "web.log") as (base_url, server), LoadGenerator() as run_load:
        for spec in ({"kind": "post", "url": base_url, "clients": 1, "tasks": 10},
                     {"kind": "batch", "url": base_url, "tasks": 10, "size": 10},
                     {"kind": "enqueue", "redis_url": redis_url, "clients": 1, "tasks": 10}):
            run_load(spec)  # warm-up: the server's first requests import and compile, the client's imports
        pair.flush()
        for clients in CLIENTS:
            cpu: list[float] = []  # the server's CPU per request, ms: what bounds it once the GIL is the limit

            def posts() -> float:
                before = cpu_seconds(server.pid)
                rate = tasks / run_load({"kind": "post", "url": base_url, "clients": clients, "tasks": tasks})
                cpu.append((cpu_seconds(server.pid) - before) / tasks * 1000)
                return rate

            pairs = back_to_back(
                repeats,
                posts,
                lambda: tasks / run_load({"kind": "enqueue", "redis_url": redis_url, "clients": clients,
                                          "tasks": tasks}),
                pair.flush)
            rows.append(compared(SECTION, f"{tasks} x POST /api/tasks, {clients} client(s) vs Queue.enqueue, "
                                          f"{clients} thread(s)", "tasks/s", pairs,
                                 note="real `rqledger web`; throughput: ratio < 1 is slower"))
            rows.append(single(SECTION, "  the web process's CPU time per request", "ms", cpu,
                               note=f"1000 / this = the most one process can serve ({os.cpu_count()} CPUs here)"))
        size = min(API_BATCH_LIMIT, batch_tasks)
        pairs = back_to_back(
            repeats,
            lambda: batch_tasks / run_load({"kind": "batch", "url": base_url, "tasks": batch_tasks, "size": size}),
            lambda: batch_tasks / run_load({"kind": "enqueue_many", "redis_url": redis_url, "tasks": batch_tasks,
                                            "size": size}),
            pair.flush)
        rows.append(compared(SECTION, f"{batch_tasks} via POST /api/tasks/batch vs Queue.enqueue_many, "
                                      f"{size:,} per call", "tasks/s", pairs,
                             note="real `rqledger web`, 1 client; ratio < 1 is slower"))
    return rows


@contextmanager
def web_server(env: dict, log_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `rqledger web` process on a free port (no API token): its base URL and process. Always stopped."""
    port = free_port()
    command = [*script("rqledger"), "web", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=process_env({**env, "RQLEDGER_API_TOKEN": ""}), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_healthy(base_url, process, log_path)
            yield base_url, process
        finally:
            stop(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM to the process's session (it was started with one of its own), then SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # a child left in the group (a work-horse) goes too
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_healthy(base_url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    address = urlsplit(base_url)
    while True:
        if process.poll() is not None:
            raise BenchmarkFailed(f"`rqledger web` exited with {process.returncode} (log: {log_path})")
        try:
            conn = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"`rqledger web` was not healthy within {timeout:.0f} s (log: {log_path})")
        time.sleep(0.1)


class LoadGenerator:
    """The load-generating subprocess: `generator(spec)` is the seconds the load of `spec` took, timed there."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.http_load"], env=process_env({}),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        start_new_session=True)
        return self

    def __call__(self, spec: dict) -> float:
        self.process.stdin.write(json.dumps(spec) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise BenchmarkFailed(f"the load generator exited with {self.process.wait(10)} ({spec['kind']})")
        answer = json.loads(line)
        if "error" in answer:
            raise BenchmarkFailed(f"the load generator failed ({spec['kind']}):\n{answer['error']}")
        return answer["seconds"]

    def __exit__(self, *exc_info):
        try:
            self.process.stdin.close()
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        stop(self.process)
        self.process.stdout.close()


# ---- the load-generating subprocess ----


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _concurrently(workers: list) -> float:
    """Runs each prepared `work()` in a thread of its own, all released at once; seconds to the last one's end."""
    ready = threading.Barrier(len(workers) + 1)
    errors: list[BaseException] = []

    def body(work):
        ready.wait()
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return elapsed


def _http_worker(url: str, path: str, bodies: list[bytes]):
    address = urlsplit(url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    conn.connect()
    headers = {"Content-Type": "application/json"}

    def work():
        try:
            for body in bodies:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                if response.status != 202:
                    raise RuntimeError(f"POST {path} answered {response.status}: {answer[:300]!r}")
        finally:
            conn.close()

    return work


def _load(spec: dict) -> float:
    kind = spec["kind"]
    if kind == "post":
        body = json.dumps({"name": "noop"}).encode()
        return _concurrently([_http_worker(spec["url"], "/api/tasks", [body] * share)
                              for share in _shares(spec["tasks"], spec["clients"]) if share])
    if kind == "batch":
        bodies = [json.dumps({"tasks": [{"name": "noop"}] * size}).encode()
                  for size in _chunks(spec["tasks"], spec["size"])]
        return _concurrently([_http_worker(spec["url"], "/api/tasks/batch", bodies)])
    import redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from benchmarks import jobs

    connection = redis.Redis.from_url(spec["redis_url"])
    connection.ping()
    queue = Queue(QUEUE, connection=connection, serializer=JSONSerializer)
    if kind == "enqueue":
        shares = [s for s in _shares(spec["tasks"], spec["clients"]) if s]
        # one pooled connection per thread, made before the clock starts
        pool_warm = [connection.connection_pool.get_connection() for _ in shares]
        for made in pool_warm:
            connection.connection_pool.release(made)

        def one_by_one(count: int):
            return lambda: [queue.enqueue(jobs.noop) for _ in range(count)]

        return _concurrently([one_by_one(share) for share in shares])
    if kind == "enqueue_many":
        def many():
            for size in _chunks(spec["tasks"], spec["size"]):
                queue.enqueue_many([Queue.prepare_data(jobs.noop) for _ in range(size)])

        return _concurrently([many])
    raise ValueError(f"unknown load kind {kind!r}")


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


def _serve() -> None:
    import traceback

    for line in sys.stdin:
        try:
            answer = {"seconds": _load(json.loads(line))}
        except Exception:  # told to the parent, which fails the section
            answer = {"error": traceback.format_exc()[-3000:]}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve()
