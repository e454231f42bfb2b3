"""Per-type limits (concurrency, per owner, rate) on the memory adapters, with a clock that moves when told."""

from dataclasses import dataclass

import pytest

from rqledger.adapters.memory import FixedClock, InMemoryEvents, InMemoryStore, InMemoryTaskQueue, InMemoryUnitOfWork
from rqledger.adapters.memory import InMemoryWorker
from rqledger.adapters.memory.limits import InMemoryLimiter
from rqledger.application.errors import QueueUnavailable
from rqledger.application.execution import RunTask, TaskExecution
from rqledger.application.limits_gate import AttemptGate, Rate, Wait, pool_key
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.tasks import EnqueueTask, TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus


# -- the in-memory Limiter ------------------------------------------------------------------------------

@pytest.fixture
def clock():
    return FixedClock()


class CountingLimiter(InMemoryLimiter):
    """Counts every call made to it."""

    calls = 0

    def __getattribute__(self, name):
        if name in ("acquire", "renew", "release", "take", "in_use"):
            object.__setattr__(self, "calls", object.__getattribute__(self, "calls") + 1)
        return super().__getattribute__(name)


@pytest.fixture
def limiter(clock):
    return CountingLimiter(clock)


def test_a_pool_gives_out_as_many_slots_as_its_size(limiter):
    assert limiter.acquire([("p", 2)], "1:1", 30) is None
    assert limiter.acquire([("p", 2)], "2:1", 30) is None

    assert limiter.acquire([("p", 2)], "3:1", 30) == ("p", 2)
    limiter.release(["p"], "1:1")
    assert limiter.acquire([("p", 2)], "3:1", 30) is None
    assert limiter.in_use(["p"]) == [2]


def test_slots_are_taken_in_every_pool_or_in_none(limiter):
    limiter.acquire([("owner-a", 1)], "1:1", 30)

    assert limiter.acquire([("all", 5), ("owner-a", 1)], "2:1", 30) == ("owner-a", 1)
    assert limiter.in_use(["all", "owner-a"]) == [0, 1]  # nothing held in the pool that had room


def test_a_holder_asking_again_keeps_its_one_slot(limiter):
    limiter.acquire([("p", 1)], "1:1", 30)
    assert limiter.acquire([("p", 1)], "1:1", 30) is None
    assert limiter.in_use(["p"]) == [1]


def test_an_unbounded_pool_only_counts(limiter):
    for holder in ("1:1", "2:1", "3:1"):
        assert limiter.acquire([("p", None)], holder, 30) is None
    assert limiter.in_use(["p"]) == [3]


def test_a_lease_not_renewed_runs_out_and_frees_its_slot(limiter, clock):
    limiter.acquire([("p", 1)], "dead:1", 10)
    clock.advance(9.5)
    assert limiter.acquire([("p", 1)], "2:1", 10) == ("p", 1)

    clock.advance(0.6)
    assert limiter.acquire([("p", 1)], "2:1", 10) is None


def test_a_renewed_lease_is_kept_past_its_first_expiry(limiter, clock):
    limiter.acquire([("p", 1)], "1:1", 10)
    clock.advance(8)
    limiter.renew(["p"], "1:1", 10)
    clock.advance(8)
    assert limiter.acquire([("p", 1)], "2:1", 10) == ("p", 1)


def test_a_rate_window_counts_starts_and_says_how_long_to_wait(limiter, clock):
    assert [limiter.take("r", 3, 5) for _ in range(3)] == [0, 0, 0]
    clock.advance(2)
    assert limiter.take("r", 3, 5) == pytest.approx(3)
    clock.advance(3)  # the first three starts leave the window
    assert [limiter.take("r", 3, 5) for _ in range(3)] == [0, 0, 0]
    clock.advance(1)
    assert limiter.take("r", 3, 5) == pytest.approx(4)


def test_a_limiter_switched_off_refuses_like_a_dead_redis(limiter):
    limiter.available = False
    with pytest.raises(QueueUnavailable, match="switched off"):
        limiter.acquire([("p", 1)], "1:1", 30)


# -- the rules: Rate, the @task options ----------------------------------------------------------------

@pytest.mark.parametrize("text, count, per", [("10/m", 10, 60), ("5/10s", 5, 10), ("1/s", 1, 1), ("100/h", 100, 3600),
                                              ("3 / 2m", 3, 120)])
def test_a_rate_reads_count_per_unit(text, count, per):
    rate = Rate.parse(text)
    assert (rate.count, rate.per) == (count, per)


@pytest.mark.parametrize("text", ["10", "10/d", "0/m", "x/m", "10/0s", "", None])
def test_a_rate_that_cannot_be_read_is_refused(text):
    with pytest.raises(ValueError, match="rate_limit"):
        Rate.parse(text)


@pytest.mark.parametrize("options", [{"concurrency": 0}, {"concurrency_per_owner": -1}, {"concurrency": True},
                                     {"concurrency": 1.5}, {"rate_limit": "often"}])
def test_the_decorator_refuses_limits_that_make_no_sense(options):
    with pytest.raises(ValueError, match="concurrency|rate_limit"):
        task(registry=TaskRegistry(), **options)(lambda: None)


# -- attempts under limits, through TaskExecution and RunTask (the memory worker's path) -----------------

@dataclass
class Service:
    clock: FixedClock
    limiter: InMemoryLimiter
    store: InMemoryStore
    queue: InMemoryTaskQueue
    execution: TaskExecution
    worker: InMemoryWorker
    enqueue_task: EnqueueTask

    def enqueue(self, name, *args, owner=None):
        return self.enqueue_task(TaskRequest(name, list(args), {}, owner=owner))

    def row(self, task_id):
        return self.store.tasks[task_id]


@pytest.fixture
def ran():
    return []


@pytest.fixture
def service(clock, limiter, ran):
    registry = TaskRegistry()

    @task(registry=registry, concurrency=1)
    def export(n: int) -> int:
        ran.append(("export", n))
        return n

    @task(registry=registry, concurrency_per_owner=1)
    def report(n: int) -> int:
        ran.append(("report", n))
        return n

    @task(registry=registry, rate_limit="3/5s")
    def call_api(n: int) -> int:
        ran.append(("call_api", n))
        return n

    @task(registry=registry, concurrency=1, retry=Retry(max=1, interval=10))
    def fails_once(n: int) -> int:
        raise RuntimeError("no")

    @task(registry=registry)
    def plain(n: int) -> int:
        ran.append(("plain", n))
        return n

    store = InMemoryStore()
    uow = InMemoryUnitOfWork(store)
    queue = InMemoryTaskQueue(clock)
    events = InMemoryEvents()
    execution = TaskExecution(uow, clock, events, gate=AttemptGate(limiter, registry, lease=30))
    worker = InMemoryWorker(queue, RunTask(execution, registry, queue, clock))
    return Service(clock, limiter, store, queue, execution, worker, EnqueueTask(uow, queue, registry, clock, events))


def test_a_task_finding_every_slot_taken_stays_queued_and_says_why_once(service):
    first, second = service.enqueue("export", 1), service.enqueue("export", 2)
    running = service.execution.start(first.id, "w1")
    assert running.status is TaskStatus.RUNNING

    waits = [service.execution.start(second.id, "w2") for _ in range(3)]

    assert all(isinstance(w, Wait) and w.retry_in > 0 for w in waits)
    waiting = service.row(second.id)
    assert waiting.status is TaskStatus.QUEUED and waiting.attempts == 0
    assert waiting.log.count("waiting for a concurrency slot: 1 of 1 running") == 1


def test_a_waiting_task_starts_once_the_running_one_ends(service, ran):
    first, second = service.enqueue("export", 1), service.enqueue("export", 2)
    running = service.execution.start(first.id, "w1")
    service.worker.work()  # second: no slot, put back for later
    assert ran == [] and service.row(second.id).status is TaskStatus.QUEUED and len(service.queue) == 1

    service.execution.finish(first.id, running.attempts, 1)
    service.clock.advance(1)
    service.worker.work()

    assert ran == [("export", 2)] and service.row(second.id).status is TaskStatus.FINISHED
    assert service.limiter.in_use([pool_key("export")]) == [0]


def test_a_failed_attempt_gives_its_slot_back_while_its_retry_waits(service, ran):
    failing, other = service.enqueue("fails_once", 1), service.enqueue("fails_once", 2)
    service.worker.work()
    assert service.row(failing.id).status is TaskStatus.QUEUED and service.row(failing.id).attempts == 1
    assert service.row(other.id).attempts == 1  # it got the slot the failed attempt gave back


def test_each_owner_has_its_own_slots(service, ran):
    service.enqueue("report", 1, owner="alice")
    service.enqueue("report", 2, owner="bob")
    late = service.enqueue("report", 3, owner="alice")
    held = service.execution.start(service.enqueue("report", 0, owner="alice").id, "w1")  # alice's slot taken

    service.worker.work()

    assert sorted(ran) == [("report", 2)]
    assert "waiting for a concurrency slot of owner 'alice': 1 of 1 running" in service.row(late.id).log
    service.execution.finish(held.id, held.attempts, 0)
    service.clock.advance(1)
    service.worker.work()
    assert sorted(ran) == [("report", 1), ("report", 2), ("report", 3)]


def test_tasks_of_no_owner_share_one_pool(service):
    service.execution.start(service.enqueue("report", 1).id, "w1")
    wait = service.execution.start(service.enqueue("report", 2).id, "w2")
    assert isinstance(wait, Wait) and wait.reason == "waiting for a concurrency slot of no owner: 1 of 1 running"


def test_a_rate_limited_type_starts_at_most_its_rate_and_the_rest_wait(service, ran):
    tasks = [service.enqueue("call_api", n) for n in range(5)]
    service.worker.work()
    assert ran == [("call_api", 0), ("call_api", 1), ("call_api", 2)]
    assert all("rate limit 3/5s reached" in service.row(t.id).log for t in tasks[3:])

    service.clock.advance(2)
    service.worker.work()
    assert len(ran) == 3  # still inside the window

    service.clock.advance(3)
    service.worker.work()
    assert len(ran) == 5
    assert all(service.row(t.id).log.count("rate limit 3/5s reached") == 1 for t in tasks[3:])


def test_other_types_run_while_a_limited_type_waits(service, ran):
    service.execution.start(service.enqueue("export", 1).id, "w1")
    service.enqueue("export", 2)
    service.enqueue("plain", 3)
    service.worker.work()
    assert ran == [("plain", 3)]


def test_a_type_without_limits_never_asks_the_limiter(service, ran):
    service.enqueue("plain", 1)
    service.worker.work()
    plain = service.enqueue("plain", 2)
    started = service.execution.start(plain.id, "w1")
    service.execution.fail(plain.id, started.attempts, "no", retry=False)
    assert ran == [("plain", 1)] and service.limiter.calls == 0


def test_a_task_waits_when_its_limits_cannot_be_checked(service, ran):
    task_ = service.enqueue("export", 1)
    service.limiter.available = False
    wait = service.execution.start(task_.id, "w1")
    assert isinstance(wait, Wait) and "the limits could not be checked" in wait.reason
    assert service.row(task_.id).status is TaskStatus.QUEUED


def test_a_worker_that_died_holding_a_slot_frees_it_when_its_lease_runs_out(service, ran):
    service.execution.start(service.enqueue("export", 1).id, "dead-worker")  # never ends, never renews
    waiting = service.enqueue("export", 2)
    service.clock.advance(29)
    assert isinstance(service.execution.start(waiting.id, "w2"), Wait)

    service.clock.advance(1.5)
    assert service.execution.start(waiting.id, "w2").status is TaskStatus.RUNNING
