"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import os
from typing import Mapping


def load_settings(environ: Mapping[str, str] | None = None) -> dict:
    """The container's configuration as a plain dict."""
    env = os.environ if environ is None else environ
    if environ is None:
        env = _with_dev_session(env)
    queues = [q.strip() for q in env.get("RQLEDGER_QUEUES", "default").split(",") if q.strip()]
    reserved = [q for q in queues if q.endswith((":high", ":low"))]
    if reserved:  # the RQ queues of a queue's high and low tasks are named so (rqledger.adapters.rq.queue)
        raise ValueError(f"RQLEDGER_QUEUES: a queue name may not end in ':high' or ':low' ({', '.join(reserved)})")
    return {
        # "memory" keeps everything in this process: only for tests and single-process embedding
        "storage": env.get("RQLEDGER_STORAGE", "sqlalchemy"),
        "database_url": env.get("DATABASE_URL", "sqlite:///rqledger.db"),
        # PostgreSQL only: the schema the ledger's tables (and their history) live in; unset: the default one
        "db_schema": env.get("RQLEDGER_DB_SCHEMA") or None,
        "queue_backend": env.get("RQLEDGER_QUEUE_BACKEND", "rq"),
        "redis_url": env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "api_token": env.get("RQLEDGER_API_TOKEN") or None,
        # tokens that act for one owner each (entrypoints/web/access.py): `token:owner,...` or a file of them
        "api_tokens": env.get("RQLEDGER_API_TOKENS") or None,
        # comma list of Host names the web app answers to (entrypoints/web/hosts.py); unset: its bound address
        "allowed_hosts": [h.strip() for h in env.get("RQLEDGER_ALLOWED_HOSTS", "").split(",") if h.strip()],
        # no default: a process runs only the task modules it is given (`rqledger dev` gives the demo's)
        "task_modules": split_modules(env.get("RQLEDGER_TASK_MODULES")),
        # folders searched for them before the installed packages (the CLI adds --path and the current directory)
        "task_path": split_path(env.get("RQLEDGER_PATH")),
        "queues": queues,
        "timezone": env.get("RQLEDGER_TIMEZONE", "UTC"),
        "limits": {
            "default_timeout": int(env.get("RQLEDGER_DEFAULT_TIMEOUT", "180")),
            "max_timeout": int(env.get("RQLEDGER_MAX_TIMEOUT", str(24 * 3600))),
            "max_retries": int(env.get("RQLEDGER_MAX_RETRIES", "10")),
            # seconds a client may ask a retry to wait (the API's schema caps it at a day in any case)
            "max_retry_interval": float(env.get("RQLEDGER_MAX_RETRY_INTERVAL", str(24 * 3600))),
            "queues": queues,
        },
        "log_format": env.get("RQLEDGER_LOG_FORMAT", "text"),  # or "json": one object per log line
        "progress_interval": float(env.get("RQLEDGER_PROGRESS_INTERVAL", "2")),
        # seconds between `rqledger scheduler` passes: how late a firing may be
        "scheduler_interval": float(env.get("RQLEDGER_SCHEDULER_INTERVAL", "1")),
        # seconds without a heartbeat after which a worker counts as dead (its running tasks are then ended
        # or retried by the reconciler); workers heartbeat four times per period
        "worker_ttl": float(env.get("RQLEDGER_WORKER_TTL", "30")),
        # missed firings of a schedule (every scheduler down) recorded as `missed` runs, the newest first; the older
        # ones are only counted in the schedule's log. `catch_up: all` runs at most this many late
        "max_missed_runs": int(env.get("RQLEDGER_MAX_MISSED_RUNS", "10")),
        # seconds between the scheduler's maintenance rounds (task reconciler, triggers, stuck runs)
        "reconcile_every": float(env.get("RQLEDGER_RECONCILE_EVERY", "15")),
        # seconds a queued row may go without a job before the reconciler re-enqueues it (an enqueue in flight)
        "reconcile_grace": float(env.get("RQLEDGER_RECONCILE_GRACE", "10")),
        # seconds a worker keeps retrying a task's outcome while the database is unreachable
        "outcome_patience": float(env.get("RQLEDGER_OUTCOME_PATIENCE", "30")),
        # "durable" (default): every ledger commit waits for the database's disk flush; "fast": PostgreSQL
        # commits with synchronous_commit off and SQLite with synchronous=OFF (a database crash can lose the
        # last commits; the reconciler repairs rows from RQ's view). See benchmarks/README.md.
        "durability": _durability(env.get("RQLEDGER_DURABILITY", "durable")),
        # SMTP for send_mail; without MAIL_SERVER, RQLEDGER_MAIL_OUTBOX names a folder of .eml files (dev sets it)
        "mail": {
            "server": env.get("MAIL_SERVER") or None,
            "port": int(env.get("MAIL_PORT") or 0),  # 0: 587 with MAIL_USE_TLS, else 25
            "username": env.get("MAIL_USERNAME") or None,
            "password": env.get("MAIL_PASSWORD") or None,
            "use_tls": env.get("MAIL_USE_TLS", "").strip().lower() in ("1", "true", "yes", "on"),
            "sender": env.get("MAIL_SENDER") or "rqledger@localhost",
            "outbox": env.get("RQLEDGER_MAIL_OUTBOX") or None,
        },
        # the folder create_image_set reads images from and writes thumbnails to
        "media_dir": env.get("RQLEDGER_MEDIA_DIR", "media"),
        # whether count_words and fetch_rss may fetch loopback, link-local and private addresses (off: a task's URL
        # must not reach the service's own API, a cloud metadata endpoint or the internal network)
        "fetch_allow_private":
            env.get("RQLEDGER_FETCH_ALLOW_PRIVATE", "").strip().lower() in ("1", "true", "yes", "on"),
        # alerts (rqledger.application.alerts), evaluated and delivered by the scheduler's maintenance round
        "alerts": {
            "webhooks": _webhooks(env.get("RQLEDGER_ALERT_WEBHOOK", "")),
            "secret": env.get("RQLEDGER_ALERT_SECRET") or None,  # signs each body (HMAC-SHA256)
            "window": float(env.get("RQLEDGER_ALERT_WINDOW", "3600")),  # task.failed: one alert per type per window
            "stalled_after": float(env.get("RQLEDGER_ALERT_QUEUE_STALLED", "600")),  # queue.stalled threshold
            "retry_first": float(env.get("RQLEDGER_ALERT_RETRY_FIRST", "1")),  # seconds; doubled per failed attempt
            "give_up": float(env.get("RQLEDGER_ALERT_GIVE_UP", str(24 * 3600))),  # seconds after the first attempt
        },
    }


DURABILITY_MODES = ("durable", "fast")


def split_modules(value: str | None) -> list[str]:
    """RQLEDGER_TASK_MODULES's modules: a comma list, blanks left out."""
    return [module.strip() for module in (value or "").split(",") if module.strip()]


def split_path(value: str | None) -> list[str]:
    """RQLEDGER_PATH's folders: os.pathsep-separated (":" on Unix, ";" on Windows), blanks left out."""
    return [folder.strip() for folder in (value or "").split(os.pathsep) if folder.strip()]


def _webhooks(value: str) -> list[str]:
    from rqledger.adapters.alerts.webhook import check_targets

    return list(check_targets(u.strip() for u in value.split(",") if u.strip()))


def _durability(value: str) -> str:
    mode = value.strip().lower()
    if mode not in DURABILITY_MODES:
        raise ValueError(f"RQLEDGER_DURABILITY must be one of {', '.join(DURABILITY_MODES)}, not {value!r}")
    return mode


def _with_dev_session(env: Mapping[str, str]) -> Mapping[str, str]:
    """The environment, plus the Redis, database and task modules of a `rqledger dev` running in this directory.

    Its task modules (and the folders they are found in) only when RQLEDGER_TASK_MODULES does not name any:
    a command beside dev must know the task types dev's workers run, or it would refuse to enqueue them.
    """
    if env.get("REDIS_URL"):
        return env  # told where Redis is: no guessing
    from rqledger.entrypoints.dev_session import read_session

    session = read_session()
    if session is None:
        return env
    merged = dict(env)
    merged["REDIS_URL"] = session["redis_url"]
    if not merged.get("DATABASE_URL"):
        merged["DATABASE_URL"] = session["database_url"]
    if not split_modules(env.get("RQLEDGER_TASK_MODULES")) and "task_modules" in session:
        merged["RQLEDGER_TASK_MODULES"] = ",".join(session["task_modules"])
        merged["RQLEDGER_PATH"] = os.pathsep.join(dict.fromkeys([*split_path(env.get("RQLEDGER_PATH")),
                                                                  *session.get("path", [])]))
    return merged
