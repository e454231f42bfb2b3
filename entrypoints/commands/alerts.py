"""`rqledger alerts`: what the scheduler's maintenance round opened and resolved, and where each was delivered."""

from __future__ import annotations

import click

from rqledger.application.alerts import alert_document
from rqledger.application.ports import AlertQuery
from rqledger.domain.alert import AlertKind, AlertStatus
from rqledger.entrypoints.command_errors import one_line_errors
from rqledger.entrypoints.commands.arguments import cursor
from rqledger.entrypoints.commands.context import console, container, echo_json
from rqledger.entrypoints.console import compact_table, print_table, short_time


@click.command("alerts")
@click.option("--status", "status", type=click.Choice([s.value for s in AlertStatus]), default=None,
              help="Only open (needing attention now) or resolved ones.")
@click.option("--kind", type=click.Choice([k.value for k in AlertKind]), default=None, help="Only this kind.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--cursor", "cursor_", default=None, metavar="C", help="next_cursor of the previous page.")
@click.option("--wide", is_flag=True, help="Show each summary whole instead of shortening it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (GET /api/alerts): items, next_cursor.")
@one_line_errors
def alerts(status: str | None, kind: str | None, limit: int, cursor_: str | None, wide: bool, as_json: bool) -> None:
    """Alerts, newest first: a task type failing, a schedule failing, missing firings or going silent (its
    dead-man check), a queue nobody takes from. `rqledger scheduler` opens and resolves them and sends them to
    RQLEDGER_ALERT_WEBHOOK."""
    query = AlertQuery(statuses=frozenset({AlertStatus(status)}) if status else frozenset(),
                       kind=AlertKind(kind) if kind else None, limit=limit, before_id=cursor(cursor_))
    page = container().list_alerts()(query)
    if as_json:
        echo_json({"items": [alert_document(a) for a in page.items],
                   "next_cursor": None if page.next_cursor is None else str(page.next_cursor)})
        return
    out = console()
    if not page.items:
        out.print("No alerts.")
        return
    table = compact_table("#", "Status", "Kind", "Since", "Summary", right=("#",))
    for alert in page.items:
        table.add_row(str(alert.id), alert.status.value, alert.kind.value, short_time(alert.created_at),
                      alert.summary)
    print_table(out, table, wide=wide)
    if page.next_cursor is not None:
        out.print(f"(more: --cursor {page.next_cursor})", style="dim")


COMMANDS = [alerts]
