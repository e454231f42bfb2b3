"""`rqledger web`: the HTTP API and the dashboard, served by waitress (one process) or gunicorn (--workers N)."""

from __future__ import annotations

import logging
import os

import click


def default_workers() -> int:
    """One server process per CPU, at most 4 (RQLEDGER_WEB_WORKERS overrides): a process tops out at a few
    hundred enqueues a second, and each holds a database pool and a share of the dashboards' streams."""
    configured = os.environ.get("RQLEDGER_WEB_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, min(os.cpu_count() or 1, 4))


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=32, show_default=True, type=click.IntRange(4, 512),
              help="Threads per process; each open dashboard holds one for its live event stream.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes behind the one port (gunicorn when more than 1; waitress for 1). "
                   "Default: the number of CPUs, at most 4 (RQLEDGER_WEB_WORKERS).")
def web(host: str, port: int, threads: int, workers: int | None) -> None:
    """Serve the HTTP API (/api, /openapi.json) and the dashboard (/): waitress, or gunicorn with --workers N."""
    from rqledger.entrypoints.logs import apply_log_format
    from rqledger.entrypoints.settings import load_settings
    from rqledger.entrypoints.task_modules import announce as announce_task_modules

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # imported with the SQL adapter; its setup chatter
    settings = load_settings()
    apply_log_format(settings["log_format"])
    log = logging.getLogger("rqledger.web")
    workers = default_workers() if workers is None else workers
    if workers > 1 and os.name != "posix":
        log.warning("--workers %d needs gunicorn, which runs on POSIX only: serving with one waitress process",
                    workers)
        workers = 1
    app = _app(settings, host, port, threads)  # in this process too: a bad setting stops here, with its message
    announce_task_modules(log, settings["task_modules"], app.extensions["rqledger.container"].registry())
    _announce_hosts(log, app, settings, host)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"rqledger web: dashboard at http://{shown}:{port}/ , API at http://{shown}:{port}/api "
               f"({workers} process{'es' if workers > 1 else ''} of {threads} threads)", err=True)
    if workers == 1:
        _serve_waitress(app, host, port, threads)
        return
    from rqledger.entrypoints.web.processes import Server

    _check_port(host, port)
    _dispose(app)  # each server process builds its own after the fork
    Server(lambda: _app(load_settings(), host, port, threads), host, port, workers, threads).run()


def _app(settings: dict, host: str, port: int, threads: int):
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.web import create_app
    from rqledger.entrypoints.web.hosts import BOUND_KEY

    container = build_container(settings)
    try:
        # every open dashboard holds a thread for its event stream; a quarter of them stay for API calls
        return create_app(container, RQLEDGER_MAX_STREAMS=max(threads - max(threads // 4, 2), 1),
                          **{BOUND_KEY: (host, port)})
    except ValueError as exc:  # a bad RQLEDGER_ALLOWED_HOSTS or RQLEDGER_API_TOKENS
        raise click.ClickException(str(exc)) from None


def _announce_hosts(log, app, settings: dict, host: str) -> None:
    from rqledger.entrypoints.web.hosts import KEY as HOSTS_KEY

    allowed_hosts = app.extensions[HOSTS_KEY]
    if not allowed_hosts.open:
        log.info("answering to the host names %s (RQLEDGER_ALLOWED_HOSTS adds more)", allowed_hosts.describe())
    elif not settings.get("allowed_hosts"):
        log.warning("listening on every address (%s) without RQLEDGER_ALLOWED_HOSTS: requests are not checked by "
                    "their Host name, so a web page can reach this server through a DNS rebinding; set "
                    "RQLEDGER_ALLOWED_HOSTS to the names it is reached by (e.g. rqledger.example.com)", host)


def _check_port(host: str, port: int) -> None:
    """A port in use is one clear line before gunicorn starts (it would retry for seconds, then say less)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _dispose(app) -> None:
    container = app.extensions["rqledger.container"]
    if container.config.storage() == "sqlalchemy":
        container.database_engine().dispose()


def _serve_waitress(app, host: str, port: int, threads: int) -> None:
    from waitress import create_server

    from rqledger.entrypoints.web.app import MAX_BODY
    from rqledger.entrypoints.web.server_errors import answer_errors_in_json

    socket_map: dict = {}
    try:
        server = create_server(app, map=socket_map, host=host, port=port, threads=threads, ident="rqledger",
                               # a browser's event stream sits idle between keep-alives; don't cut it
                               channel_timeout=120,
                               # keep reading while a request runs, so that an event stream sees its
                               # client leave at once (waitress.client_disconnected) and frees its slot
                               channel_request_lookahead=1,
                               # a body no route may take is refused before it is read (waitress: 1 GiB);
                               # up to twice the API's limit it reaches Flask, which answers a JSON 413
                               max_request_body_size=2 * MAX_BODY)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    answer_errors_in_json(socket_map)  # waitress' own 400/413/431/500 in the API's JSON error format
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


COMMANDS = [web]
