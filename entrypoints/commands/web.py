"""`rqledger web`: the HTTP API and the dashboard, served by waitress (a production WSGI server)."""

from __future__ import annotations

import logging

import click


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=32, show_default=True, type=click.IntRange(4, 512),
              help="Worker threads; each open dashboard holds one for its live event stream.")
def web(host: str, port: int, threads: int) -> None:
    """Serve the HTTP API (/api, /openapi.json) and the dashboard (/) with waitress."""
    from waitress import create_server

    from entrypoints.logs import apply_log_format
    from entrypoints.settings import load_settings
    from entrypoints.web import create_app
    from entrypoints.web.app import MAX_BODY

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # imported with the SQL adapter; its setup chatter
    apply_log_format(load_settings()["log_format"])
    # every open dashboard holds a thread for its event stream; a quarter of them stay for API calls
    app = create_app(RQLEDGER_MAX_STREAMS=max(threads - max(threads // 4, 2), 1))
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="rqledger",
                               # a browser's event stream sits idle between keep-alives; don't cut it
                               channel_timeout=120,
                               # a body no route may take is refused before it is read (waitress: 1 GiB);
                               # up to twice the API's limit it reaches Flask, which answers a JSON 413
                               max_request_body_size=2 * MAX_BODY)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"rqledger web: dashboard at http://{shown}:{port}/ , API at http://{shown}:{port}/api "
               f"({threads} threads)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


COMMANDS = [web]
