"""In-memory implementations of every port: for unit tests, users' own tests and embedded runs."""

from adapters.memory.clock import FixedClock, SystemClock
from adapters.memory.events import InMemoryEvents
from adapters.memory.queue import InMemoryTaskQueue, InMemoryWorker
from adapters.memory.repositories import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.scheduler import InMemoryScheduler

__all__ = [
    "FixedClock", "SystemClock", "InMemoryEvents", "InMemoryTaskQueue", "InMemoryWorker",
    "InMemoryStore", "InMemoryUnitOfWork", "InMemoryScheduler",
]
