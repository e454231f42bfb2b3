"""The Limiter on Redis: per-type concurrency slots and rate windows shared by every worker on that Redis.

A pool of slots is a sorted set `rqledger:limit:<key>`: member = holder (`<task id>:<attempt>`), score =
its lease's expiry (Redis's own clock, so the machines' clocks need not agree). Taking slots is one Lua
script over all the pools of an attempt: drop expired leases, count, and add the holder to every pool
only if each has room (all or none). A rate window is a sorted set of the start times of the last `per`
seconds (a sliding log: never more than `count` starts in any window of that length).

The keys expire on their own (a while after their last lease or start), so nothing stays behind. Without
persistence a Redis restart forgets every lease: running attempts take theirs again at their next renewal
(within a quarter of RQLEDGER_WORKER_TTL); until then a few more may start than the limit allows.
"""

from __future__ import annotations

import threading
from typing import Sequence

from rqledger.adapters.rq.connection import queue_errors

PREFIX = "rqledger:limit:"

# KEYS: the pools; ARGV: holder, lease (s), then each pool's size (0 = unbounded).
# Returns 0 when the holder got a slot in every pool, else {index (1-based) of the first full pool, its count}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local holder, lease = ARGV[1], tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local size = tonumber(ARGV[i + 2])
  if size > 0 and not redis.call('ZSCORE', key, holder) then
    local count = redis.call('ZCARD', key)
    if count >= size then return {i, count} end
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, holder)
  redis.call('PEXPIRE', key, math.ceil(lease * 2000))
end
return 0
"""

# KEYS: the pools; ARGV: holder, lease (s). Sets the holder's lease to end `lease` s from now.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2]) * 2000))
end
return 0
"""

# KEYS[1]: the window; ARGV: count, per (s). Returns '0' when a start was counted, else the seconds to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local count, per = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < count then
  redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. ':' .. redis.call('INCR', KEYS[1] .. ':n'))
  redis.call('PEXPIRE', KEYS[1], math.ceil(per * 1000) + 1000)
  redis.call('PEXPIRE', KEYS[1] .. ':n', math.ceil(per * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + per - now)
"""

# KEYS: the pools. The unexpired leases in each.
_IN_USE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local counts = {}
for i, key in ipairs(KEYS) do counts[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf') end
return counts
"""


class RedisLimiter:
    """rqledger.application.ports.Limiter on Redis (see the module's docstring); redis errors: QueueUnavailable."""

    def __init__(self, connection):
        self.connection = connection
        self._acquire = connection.register_script(_ACQUIRE)
        self._renew = connection.register_script(_RENEW)
        self._take = connection.register_script(_TAKE)
        self._in_use = connection.register_script(_IN_USE)

    def acquire(self, pools: Sequence[tuple[str, int | None]], holder: str, lease: float) -> tuple[str, int] | None:
        keys = [PREFIX + key for key, _ in pools]
        with queue_errors("take a concurrency slot"):
            answer = self._acquire(keys=keys, args=[holder, lease, *(size or 0 for _, size in pools)])
        if answer == 0:
            return None
        index, count = answer
        return pools[int(index) - 1][0], int(count)

    def renew(self, keys: Sequence[str], holder: str, lease: float) -> None:
        with queue_errors("renew a concurrency slot"):
            self._renew(keys=[PREFIX + key for key in keys], args=[holder, lease])

    def release(self, keys: Sequence[str], holder: str) -> None:
        with queue_errors("release a concurrency slot"):
            if len(keys) == 1:
                self.connection.zrem(PREFIX + keys[0], holder)
                return
            with self.connection.pipeline(transaction=False) as pipeline:
                for key in keys:
                    pipeline.zrem(PREFIX + key, holder)
                pipeline.execute()

    def take(self, key: str, count: int, per: float) -> float:
        with queue_errors("count a start against a rate limit"):
            answer = self._take(keys=[PREFIX + key], args=[count, per])
        return max(float(answer), 0.0)

    def in_use(self, keys: Sequence[str]) -> list[int]:
        if not keys:
            return []
        with queue_errors("count the concurrency slots in use"):
            return [int(n) for n in self._in_use(keys=[PREFIX + key for key in keys])]


class LeaseKeeper:
    """Renews a running attempt's slots every `every` seconds from a thread, until `stop()` (which waits for a
    renewal in flight, so none lands after the attempt's end has freed them). Errors are logged, never raised."""

    def __init__(self, renew, every: float, log, what: str):
        self._renew = renew
        self._every = every
        self._log = log
        self._what = what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{what}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self._every):
            try:
                self._renew()
                failing = False
            except Exception as exc:  # the lease may run out: the next renewal takes it again
                if not failing:
                    self._log.warning("%s: its concurrency slot not renewed (%s)", self._what, exc)
                failing = True
