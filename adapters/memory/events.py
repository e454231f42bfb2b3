"""An event publisher that keeps what it was told, and hands it to subscribers in the same process."""

import threading
from collections import deque


class InMemoryEvents:
    def __init__(self, keep: int = 1000):
        self.published: deque[dict] = deque(maxlen=keep)
        self._subscribers: list = []
        self._lock = threading.Lock()

    def publish(self, event: dict) -> None:
        with self._lock:
            self.published.append(dict(event))
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(dict(event))
            except Exception:  # a broken listener must not break the task
                pass

    def publish_many(self, events) -> None:
        for event in events:
            self.publish(event)

    def subscribe(self, callback) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
