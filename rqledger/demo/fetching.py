"""Fetching a URL for the demo tasks: http(s) only, public addresses only, with a timeout and a size cap.

A task's URL comes from whoever enqueues it: unchecked, it would reach the service's own API on 127.0.0.1, a
cloud's metadata endpoint (169.254.169.254) or the internal network. So each connection, redirects included,
goes only to the address its host name was checked at (no second DNS lookup that could answer otherwise);
loopback, link-local, private and other non-public addresses are refused unless `allow_private`.
"""

from __future__ import annotations

import codecs
import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10  # seconds: a task must not hang on a server that never answers
MAX_BYTES = 5 * 1024 * 1024  # a demo task has no business downloading more
USER_AGENT = "rqledger-demo-tasks/0.1"


class FetchFailed(Exception):
    """The URL could not be fetched; the message says which URL and why, for the task's log."""


class AddressRefused(FetchFailed):
    """The URL (or a redirect) leads to a loopback, link-local, private or otherwise non-public address."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str
    charset: str


def fetch(url: str, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES, *, allow_private: bool = False) -> Fetched:
    """The body of an http(s) URL. Raises FetchFailed with a message a person can act on.

    Without `allow_private` (RQLEDGER_FETCH_ALLOW_PRIVATE for the demo tasks) a URL whose host is, or resolves
    to, a non-public address is refused with AddressRefused, also when a redirect leads there; and no proxy from
    the environment is used, since a proxy would resolve and connect where this check cannot see.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        # file:// and friends would let a request read the worker's own files
        raise FetchFailed(f"could not fetch {url!r}: only http and https URLs are accepted")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener(allow_private).open(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            headers = response.headers
    except AddressRefused as exc:
        raise AddressRefused(f"could not fetch {url}: {exc}") from None
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"could not fetch {url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchFailed(f"could not fetch {url}: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise FetchFailed(f"could not fetch {url}: {exc or type(exc).__name__}") from None
    except ValueError as exc:  # a malformed URL
        raise FetchFailed(f"could not fetch {url!r}: {exc}") from None
    if len(body) > max_bytes:
        raise FetchFailed(f"could not fetch {url}: the body is larger than {max_bytes} bytes")
    return Fetched(body, headers.get_content_type(), _known_charset(headers.get_content_charset()))


def _known_charset(name: str | None) -> str:
    """The page's charset when Python knows it, else UTF-8 (decoding then replaces what does not fit)."""
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except LookupError:
        return "utf-8"


def _opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """http and https only, redirects followed (to http and https only: no ftp, file or data handler)."""
    opener = urllib.request.OpenerDirector()
    if allow_private:
        handlers = [urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler()]
    else:
        handlers = [urllib.request.ProxyHandler({}), _PublicHTTPHandler(), _PublicHTTPSHandler()]
    for handler in (*handlers, urllib.request.UnknownHandler(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def refusal(address: str) -> str | None:
    """Why a connection to this IP address is refused (its kind: "loopback", "private", ...), or None when it is
    a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def _public_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **_):
    """socket.create_connection for public addresses only: the host is resolved once, every address it has must
    be public, and the socket connects to one of those very addresses."""
    host, port = address
    resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in resolved:
        ip = sockaddr[0].split("%")[0]  # without an IPv6 scope (fe80::1%eth0)
        kind = refusal(ip)
        if kind is not None:
            what = f"{ip} is a {kind} address" if ip == host else f"{host} resolves to {ip}, a {kind} address"
            raise AddressRefused(f"{what}; fetching loopback, link-local and private addresses is off "
                                 f"(RQLEDGER_FETCH_ALLOW_PRIVATE=1 turns it on)")
    error: OSError | None = None
    for *_, sockaddr in resolved:
        try:
            return socket.create_connection((sockaddr[0], port), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError(f"{host} has no address")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):  # TLS still checks the certificate for the host name
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)
