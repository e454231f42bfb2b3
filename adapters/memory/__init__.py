"""In-memory implementations of every port: for unit tests, users' own tests and embedded runs."""

from rqledger.adapters.memory.clock import FixedClock, SystemClock
from rqledger.adapters.memory.events import InMemoryEvents
from rqledger.adapters.memory.limits import InMemoryLimiter
from rqledger.adapters.memory.queue import InMemoryTaskQueue, InMemoryWorker
from rqledger.adapters.memory.repositories import InMemoryStore, InMemoryUnitOfWork
from rqledger.adapters.memory.scheduler import InMemoryScheduler

__all__ = [
    "FixedClock", "SystemClock", "InMemoryEvents", "InMemoryLimiter", "InMemoryTaskQueue", "InMemoryWorker",
    "InMemoryStore", "InMemoryUnitOfWork", "InMemoryScheduler",
]
