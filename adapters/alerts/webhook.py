"""The AlertSender port over HTTP: one POST per delivery attempt, acknowledged by any 2xx answer."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from rqledger.application.errors import DeliveryFailed


def check_targets(targets) -> tuple[str, ...]:
    """The webhook URLs of RQLEDGER_ALERT_WEBHOOK; ValueError naming one that is not http(s)://host/..."""
    checked = []
    for target in targets:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"RQLEDGER_ALERT_WEBHOOK: {target!r} is not an http:// or https:// URL")
        checked.append(target)
    return tuple(checked)


class WebhookSender:
    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout

    def send(self, target: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")
        try:
            with _NO_REDIRECTS.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            text = exc.read(200).decode("utf-8", "replace").strip()
            raise DeliveryFailed(f"HTTP {exc.code}" + (f": {text}" if text else "")) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryFailed(f"could not reach it: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A signed alert goes where it was configured to, not where an answer points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


class RecordingSender:
    """Keeps what it is given; `answers` (a list of None or error texts) decides each attempt's outcome."""

    def __init__(self, answers: list[str | None] | None = None):
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.answers = list(answers or [])
        self._lock = threading.Lock()

    def send(self, target: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.sent.append((target, body, dict(headers)))
            error = self.answers.pop(0) if self.answers else None
        if error is not None:
            raise DeliveryFailed(error)
