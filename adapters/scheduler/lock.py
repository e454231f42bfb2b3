"""A Redis lock that only its holder releases: SET NX EX with a token, deleted by compare-and-delete."""

from __future__ import annotations

import uuid

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisLock:
    """Held by one process at a time across machines; expires after `ttl` seconds if its holder dies."""

    def __init__(self, connection, key: str, ttl: int, owner: str = ""):
        self.connection = connection
        self.key = key
        self.ttl = max(1, int(ttl))
        self.owner = owner
        self._token: str | None = None

    @property
    def held(self) -> bool:
        return self._token is not None

    def acquire(self) -> bool:
        token = f"{self.owner}:{uuid.uuid4().hex}"
        if self.connection.set(self.key, token, ex=self.ttl, nx=True):
            self._token = token
            return True
        return False

    def release(self) -> None:
        """Deletes the key if it still holds our token (after an expiry another process may hold it)."""
        token, self._token = self._token, None
        if token is not None:
            self.connection.eval(_RELEASE, 1, self.key, token)
