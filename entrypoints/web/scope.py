"""What one owner may see and do, enforced in this one place for every route, the dashboard and the event stream.

`context.container()` hands a request that acts for an owner (not an admin) a `Scoped` view of the
container instead of the container itself. The view has the same use cases under the same names, narrowed:
- lists show only the owner's tasks and schedules (a filter naming another owner finds nothing);
- reading, cancelling, retrying or deleting another owner's task, and reading, cancelling or deleting
  another owner's schedule or its runs, is TaskNotFound / ScheduleNotFound: a 404, as for an id that does
  not exist (ids are not an oracle);
- an enqueue or a schedule takes the owner (one naming another owner is refused: 403);
- the event stream carries only the owner's events.
An admin who is also a user (the Flask extension's admin_loader) gets a view that only fills in the owner of
what it enqueues; it sees and may change everything. Anything else on the container (settings, the registry)
is the container's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from apiflask import HTTPError

from rqledger.application.tasks import owner_text
from rqledger.domain.errors import ScheduleNotFound, TaskNotFound
from rqledger.entrypoints.web.access import Actor
from rqledger.application.ports import Page

FORBIDDEN_OWNER = "this request acts for owner {mine!r} and may not enqueue or schedule for owner {given!r}"


def scoped(services, actor: Actor) -> "Scoped":
    return Scoped(services, actor)


class Scoped:
    """The container as `actor` may use it (see the module's docstring)."""

    def __init__(self, services, actor: Actor):
        self._services = services
        self._actor = actor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._services, name)

    # -- tasks -----------------------------------------------------------------

    def enqueue_task(self, **overrides):
        return _OwnedEnqueue(self._services.enqueue_task(**overrides), self._own)

    def list_tasks(self):
        inner = self._services.list_tasks()
        if self._actor.admin:
            return inner
        return lambda query: inner(q) if (q := self._narrowed(query)) is not None else _empty(query)

    def get_task(self):
        return self._task_guarded(self._services.get_task())

    def chart_tasks(self):
        inner = self._services.chart_tasks()
        if self._actor.admin:
            return inner
        owner = self._actor.owner  # whatever a caller asks, the charts are of this owner's tasks (none: nothing)
        return lambda *args, **kwargs: inner(owner=owner) if owner is not None else inner.nothing()

    def cancel_task(self):
        return self._task_guarded(self._services.cancel_task())

    def retry_task(self):
        return self._task_guarded(self._services.retry_task())

    def delete_task(self):
        return self._task_guarded(self._services.delete_task())

    # -- schedules -------------------------------------------------------------

    def register_schedule(self):
        inner = self._services.register_schedule()
        return lambda request, *args, **kwargs: inner(self._own(request), *args, **kwargs)

    def list_schedules(self):
        inner = self._services.list_schedules()
        if self._actor.admin:
            return inner
        return lambda query: inner(q) if (q := self._narrowed(query)) is not None else _empty(query)

    def get_schedule(self):
        return self._schedule_guarded(self._services.get_schedule())

    def cancel_schedule(self):
        return self._schedule_guarded(self._services.cancel_schedule())

    def delete_schedule(self):
        return self._schedule_guarded(self._services.delete_schedule())

    def list_runs(self):
        return self._schedule_guarded(self._services.list_runs())

    # -- live events -----------------------------------------------------------

    def event_feed(self):
        feed = self._services.event_feed()
        return feed if self._actor.admin else _OwnedFeed(feed, self._actor.owner)

    # -- queues: shared by every owner, an admin's only ----------------------------

    def list_queues(self):
        return self._admin_only(self._services.list_queues)

    def pause_queue(self):
        return self._admin_only(self._services.pause_queue)

    def resume_queue(self):
        return self._admin_only(self._services.resume_queue)

    def workers(self):
        return self._admin_only(self._services.workers, "workers run every owner's tasks")

    # -- alerts: about every owner's tasks, an admin's only ---------------------------

    def list_alerts(self):
        return self._admin_only(self._services.list_alerts, "alerts are about every owner's tasks")

    def get_alert(self):
        return self._admin_only(self._services.get_alert, "alerts are about every owner's tasks")

    # -- the rules -------------------------------------------------------------

    def _admin_only(self, provider: Callable,
                    why: str = "queues are shared by every owner: only an admin (or the API token) may see or "
                               "pause them"):
        if not self._actor.admin:
            raise HTTPError(403, why if why.startswith("queues") else f"{why}: only an admin (or the API token) "
                                                                      f"may see them")
        return provider()

    def _own(self, request):
        """The request with this actor's owner; 403 when it names another (an admin may name anyone)."""
        given = owner_text(getattr(request, "owner", None))  # InvalidArguments: the 422 the API gives anyway
        if given is None:
            return dataclasses.replace(request, owner=self._actor.owner) if self._actor.owner is not None else request
        if given != self._actor.owner and not self._actor.admin:
            raise HTTPError(403, FORBIDDEN_OWNER.format(mine=self._actor.owner, given=given))
        return request

    def _narrowed(self, query):
        """The query limited to this owner's rows; None when it asks for another owner's (nothing to show)."""
        asked = getattr(query, "owner", None)
        if asked is not None and asked != self._actor.owner:
            return None
        if self._actor.owner is None:
            return None  # nobody: sees nothing
        return dataclasses.replace(query, owner=self._actor.owner)

    def _mine(self, owner: str | None) -> bool:
        return self._actor.admin or (self._actor.owner is not None and owner == self._actor.owner)

    def _task_guarded(self, use_case: Callable) -> Callable:
        return self._guarded(use_case, lambda uow, task_id: uow.tasks.get(task_id).owner, TaskNotFound)

    def _schedule_guarded(self, use_case: Callable) -> Callable:
        return self._guarded(use_case, lambda uow, schedule_id: uow.schedules.get(schedule_id).owner,
                             ScheduleNotFound)

    def _guarded(self, use_case: Callable, owner_of: Callable, not_found: type[Exception]) -> Callable:
        """`use_case(id, ...)` for a row of this actor's own; another owner's row is `not_found(id)`, as one
        that does not exist (owner_of raises that itself)."""
        if self._actor.admin:
            return use_case

        def guarded(row_id: int, *args, **kwargs):
            uow = self._services.uow()
            with uow:
                owner = owner_of(uow, row_id)
            if not self._mine(owner):
                raise not_found(row_id)
            return use_case(row_id, *args, **kwargs)

        return guarded


class _OwnedEnqueue:
    """EnqueueTask whose requests take the actor's owner (build, many and call; `built` takes built tasks)."""

    def __init__(self, inner, own: Callable):
        self._inner = inner
        self._own = own

    def __call__(self, request):
        return self._inner(self._own(request))

    def build(self, request):
        return self._inner.build(self._own(request))

    def many(self, requests):
        return self._inner.many([self._own(request) for request in requests])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _OwnedFeed:
    """The event feed, passing on only the events of one owner's tasks and runs."""

    def __init__(self, feed, owner: str | None):
        self._feed = feed
        self._owner = owner
        self._wrapped: dict[Callable, Callable] = {}

    def subscribe(self, callback: Callable[[dict], None]) -> None:
        def mine(event: dict) -> None:
            if event.get("kind") not in ("task", "run") or (self._owner is not None
                                                             and event.get("owner") == self._owner):
                callback(event)  # a resync is everyone's; a task's or run's change only its owner's

        self._wrapped[callback] = mine
        self._feed.subscribe(mine)

    def unsubscribe(self, callback: Callable[[dict], None]) -> None:
        mine = self._wrapped.pop(callback, None)
        if mine is not None:
            self._feed.unsubscribe(mine)


def _empty(query) -> Page:
    return Page(items=[], next_cursor=None)
