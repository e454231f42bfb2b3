"""Fetching a URL for the demo tasks: http(s) only, with a timeout and a size cap."""

from __future__ import annotations

import codecs
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10  # seconds: a task must not hang on a server that never answers
MAX_BYTES = 5 * 1024 * 1024  # a demo task has no business downloading more
USER_AGENT = "rqledger-demo-tasks/0.1"


class FetchFailed(Exception):
    """The URL could not be fetched; the message says which URL and why, for the task's log."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str
    charset: str


def fetch(url: str, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """The body of an http(s) URL. Raises FetchFailed with a message a person can act on."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        # file:// and friends would let a request read the worker's own files
        raise FetchFailed(f"could not fetch {url!r}: only http and https URLs are accepted")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            headers = response.headers
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
