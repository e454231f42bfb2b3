"""The in-memory Limiter: slot leases and rate windows in dictionaries, timed by a Clock (a FixedClock in tests)."""

from __future__ import annotations

import threading
from typing import Sequence

from rqledger.application.errors import QueueUnavailable
from rqledger.application.ports import Clock


class InMemoryLimiter:
    """Same rules as the Redis one (rqledger.adapters.rq.limits); `available = False` refuses like a dead Redis.

    `pools[key]` maps holder -> lease expiry (epoch seconds); `windows[key]` lists the start times counted."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.pools: dict[str, dict[str, float]] = {}
        self.windows: dict[str, list[float]] = {}
        self.available = True
        self._lock = threading.Lock()

    def acquire(self, pools: Sequence[tuple[str, int | None]], holder: str, lease: float) -> tuple[str, int] | None:
        now = self._now()
        with self._lock:
            for key, size in pools:
                leases = self._live(key, now)
                if size is not None and holder not in leases and len(leases) >= size:
                    return key, len(leases)
            for key, _ in pools:
                self.pools[key][holder] = now + lease
        return None

    def renew(self, keys: Sequence[str], holder: str, lease: float) -> None:
        now = self._now()
        with self._lock:
            for key in keys:
                self.pools.setdefault(key, {})[holder] = now + lease

    def release(self, keys: Sequence[str], holder: str) -> None:
        self._now()
        with self._lock:
            for key in keys:
                self.pools.get(key, {}).pop(holder, None)

    def take(self, key: str, count: int, per: float) -> float:
        now = self._now()
        with self._lock:
            window = [t for t in self.windows.get(key, []) if t > now - per]
            self.windows[key] = window
            if len(window) < count:
                window.append(now)
                return 0.0
            return window[0] + per - now

    def in_use(self, keys: Sequence[str]) -> list[int]:
        now = self._now()
        with self._lock:
            return [len(self._live(key, now)) for key in keys]

    def reset(self) -> None:
        with self._lock:
            self.pools.clear()
            self.windows.clear()

    def _live(self, key: str, now: float) -> dict[str, float]:
        leases = {h: until for h, until in self.pools.get(key, {}).items() if until > now}
        self.pools[key] = leases
        return leases

    def _now(self) -> float:
        if not self.available:
            raise QueueUnavailable("the in-memory limiter is switched off")
        return self.clock.now().timestamp()
