"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import os
from typing import Mapping

DEFAULT_TASK_MODULES = "demo_tasks"


def load_settings(environ: Mapping[str, str] | None = None) -> dict:
    """The container's configuration as a plain dict."""
    env = os.environ if environ is None else environ
    if environ is None:
        env = _with_dev_session(env)
    queues = [q.strip() for q in env.get("RQLEDGER_QUEUES", "default").split(",") if q.strip()]
    return {
        # "memory" keeps everything in this process: only for tests and single-process embedding
        "storage": env.get("RQLEDGER_STORAGE", "sqlalchemy"),
        "database_url": env.get("DATABASE_URL", "sqlite:///rqledger.db"),
        "queue_backend": env.get("RQLEDGER_QUEUE_BACKEND", "rq"),
        "redis_url": env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "api_token": env.get("RQLEDGER_API_TOKEN") or None,
        "task_modules": [m.strip() for m in env.get("RQLEDGER_TASK_MODULES", DEFAULT_TASK_MODULES).split(",")
                         if m.strip()],
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
    }


DURABILITY_MODES = ("durable", "fast")


def _durability(value: str) -> str:
    mode = value.strip().lower()
    if mode not in DURABILITY_MODES:
        raise ValueError(f"RQLEDGER_DURABILITY must be one of {', '.join(DURABILITY_MODES)}, not {value!r}")
    return mode


def _with_dev_session(env: Mapping[str, str]) -> Mapping[str, str]:
    """The environment, plus the Redis and database of a `rqledger dev` running in this directory (if any)."""
    if env.get("REDIS_URL"):
        return env  # told where Redis is: no guessing
    from entrypoints.dev_session import read_session

    session = read_session()
    if session is None:
        return env
    merged = dict(env)
    merged["REDIS_URL"] = session["redis_url"]
    if not merged.get("DATABASE_URL"):
        merged["DATABASE_URL"] = session["database_url"]
    return merged
