"""What a client may ask for: the service's configured ceilings."""

from __future__ import annotations

from dataclasses import dataclass, field

from rqledger.domain.errors import InvalidArguments
from rqledger.domain.retry import Retry


@dataclass(frozen=True)
class Limits:
    default_timeout: int = 180
    max_timeout: int = 24 * 3600
    max_retries: int = 10
    max_retry_interval: float = 24 * 3600
    max_page_size: int = 500
    queues: frozenset[str] = field(default_factory=lambda: frozenset({"default"}))

    def check(self, queue: str | None, timeout: int | None, retry: Retry | None) -> None:
        if queue is not None and queue not in self.queues:
            known = ", ".join(sorted(self.queues))
            raise InvalidArguments(f"queue {queue!r} is not served here (queues: {known})", field="queue")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)
                                    or not 1 <= timeout <= self.max_timeout):
            raise InvalidArguments(f"'timeout' must be whole seconds from 1 to {self.max_timeout}", field="timeout")
        if retry is not None:
            if retry.max > self.max_retries:
                raise InvalidArguments(f"'retry.max' must be at most {self.max_retries}", field="retry.max")
            intervals = retry.interval if isinstance(retry.interval, tuple) else (retry.interval,)
            if any(i > self.max_retry_interval for i in intervals):
                raise InvalidArguments(
                    f"'retry.interval' must be at most {self.max_retry_interval:g} s", field="retry.interval")

    def check_page(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= self.max_page_size:
            raise InvalidArguments(f"'limit' must be from 1 to {self.max_page_size}", field="limit")
