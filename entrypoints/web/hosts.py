"""DNS rebinding: a request whose Host header names a host this server does not answer to is refused (400).

A page on rebind.evil.example can make its own name resolve to 127.0.0.1; the browser
then sends that page's requests (same origin, as far as it knows: Origin and Host
agree) to a dashboard on localhost, and reads the answers. Only the Host header
still tells: it names the attacker's host. So every request's Host must be one this
server answers to: the names in RQLEDGER_ALLOWED_HOSTS, and always the loopback
names and the address it is bound to, with the port it listens on (such a Host
never comes from a rebinding: the attacker's page is on a name of its own).

Entries: `name` (any port), `name:port`, `.example.com` or `*.example.com` (that
domain and every name under it), `*` (any Host: no check). Unset, the server answers to the address
it is bound to (`rqledger web --host`) and the loopback names, with its port; bound
to every address (0.0.0.0, ::) it cannot know its public names and checks nothing
(`rqledger web` logs a warning). An app built without a bound address (tests,
embedding) answers to the loopback names on any port.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiflask import HTTPError
from flask import current_app, request

# Set by `rqledger web`: (host, port) the server listens on.
BOUND_KEY = "RQLEDGER_BOUND_TO"
KEY = "rqledger.allowed_hosts"
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
EVERY_ADDRESS = ("0.0.0.0", "::", "")
HTTP_PORT = 80


@dataclass(frozen=True)
class HostAllowList:
    """The Host names (and ports) a server answers to; `entries` empty with `open` set: any Host."""

    entries: tuple[tuple[str, int | None], ...]  # (name, port or None for any); a name starting with "." is a domain
    open: bool = False

    @classmethod
    def build(cls, allowed: list[str] | None, bound: tuple[str, int] | None) -> "HostAllowList":
        """The allow-list of RQLEDGER_ALLOWED_HOSTS (`allowed`) for a server bound to `bound` (None: unknown)."""
        allowed = [entry.strip().lower() for entry in allowed or () if entry.strip()]
        if "*" in allowed:
            return cls((), open=True)
        if bound is None:
            loopback = [(name, None) for name in LOOPBACK]
        else:
            host, port = bound
            if not allowed and host in EVERY_ADDRESS:
                return cls((), open=True)
            names = LOOPBACK if host in EVERY_ADDRESS else (*LOOPBACK, _bracketed(host.lower()))
            loopback = [(name, port) for name in names]
        allowed = ["." + entry[2:] if entry.startswith("*.") else entry for entry in allowed]
        entries = [parse_host(entry) for entry in allowed]
        if any(entry is None for entry in entries):
            bad = [entry for entry in allowed if parse_host(entry) is None]
            raise ValueError(f"RQLEDGER_ALLOWED_HOSTS: not a host name or host:port: {', '.join(bad)}")
        return cls(tuple(dict.fromkeys([*loopback, *entries])))

    def accepts(self, host_header: str) -> bool:
        if self.open:
            return True
        parsed = parse_host(host_header)
        if parsed is None:
            return False
        name, port = parsed
        for allowed_name, allowed_port in self.entries:
            if allowed_port is not None and (port or HTTP_PORT) != allowed_port:
                continue
            if name == allowed_name or (allowed_name.startswith(".") and
                                        (name == allowed_name[1:] or name.endswith(allowed_name))):
                return True
        return False

    def describe(self) -> str:
        if self.open:
            return "any host"
        return ", ".join(name if port is None else f"{name}:{port}" for name, port in self.entries)


def parse_host(text: str) -> tuple[str, int | None] | None:
    """`name`, `name:port`, `[v6]` or `[v6]:port`, lowercased, without a trailing dot; None when it is none."""
    text = text.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text.partition("]")
        name += bracket
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text = text.partition(":")
        if not colon:
            port_text = None
        name = name.rstrip(".")
    if not name or any(c.isspace() or c in "/?#@\\" for c in name):
        return None
    if port_text is None:
        return name, None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return name, int(port_text)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def install(app, container, open_by_default: bool = False) -> HostAllowList:
    """Builds `app`'s allow-list from the container's settings and app.config[BOUND_KEY] (ValueError: a bad entry).

    `open_by_default`: inside a host app (the Flask extension), which is reached by names only its deployment
    knows and signs its users in with cookies a rebound name never receives, RQLEDGER_ALLOWED_HOSTS unset means
    no check (Flask's own TRUSTED_HOSTS is the host app's tool for that)."""
    configured = container.config.allowed_hosts()
    if open_by_default and not configured:
        allowed = HostAllowList((), open=True)
        app.extensions[KEY] = allowed
        return allowed
    allowed = HostAllowList.build(configured, app.config.get(BOUND_KEY))
    app.extensions[KEY] = allowed
    return allowed


def refuse_unknown_hosts() -> None:
    """A before_request hook: 400 when the Host header names a host this server does not answer to.

    A request without a Host header (HTTP/1.0 clients) is not a browser's and is let through."""
    host = request.environ.get("HTTP_HOST")
    if host is None or current_app.extensions[KEY].accepts(host):
        return
    shown = host if len(host) <= 100 else host[:100] + "..."
    raise HTTPError(400, f"this server does not answer to the host name {shown!r} (a DNS rebinding is refused); "
                         f"an operator can allow it in RQLEDGER_ALLOWED_HOSTS")
