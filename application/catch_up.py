"""Missed firings: which of a schedule's firings nobody fired, and what its catch-up policy makes of them.

A scheduler's trigger (real or in memory) points at the next firing it has not fired. A live scheduler fires
it within one pass; when it is overdue by more than a grace (every scheduler was down, Redis lost the trigger),
every firing from it up to now was missed. The firings are walked with `firing_after` (the one grid rule of
the trigger and the ledger); only the newest `max_missed` are kept as rows, the rest only counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rqledger.application.ports import CronCalendar
from rqledger.application.schedules import firing_after
from rqledger.domain.schedule import CatchUp, Timing

DEFAULT_MAX_MISSED = 10
DEFAULT_GRACE = 2.0  # seconds a firing may be late and still be an ordinary firing (a live scheduler's pass)


def catch_up_grace(pass_interval: float) -> float:
    """How late a firing may be before it counts as missed: a few of the scheduler's passes, 2 s at least."""
    return max(DEFAULT_GRACE, 3 * pass_interval)


@dataclass(frozen=True)
class CatchUpPlan:
    """What to do with the firings a trigger missed: record `missed` as missed runs, count `uncounted` older
    ones in the parent's log only, fire `run` now (late), and go on with `following` (None: used up)."""

    policy: CatchUp
    missed: list[datetime]
    run: list[datetime]
    uncounted: int
    following: datetime | None
    first: datetime  # the oldest firing missed (recorded or not)
    fired_already: int = 0  # firings of the plan found enqueued after all (see `without`)

    @property
    def consumed(self) -> int:
        """Firings used up by the plan: the trigger's count moves on by this many."""
        return len(self.missed) + len(self.run) + self.uncounted + self.fired_already

    def without(self, fired: set[datetime]) -> "CatchUpPlan":
        """The plan less the firings that were handed to the queue after all (a scheduler killed before it moved
        its trigger on): they are neither missed nor fired again, but they still count as used."""
        missed = [slot for slot in self.missed if slot not in fired]
        run = [slot for slot in self.run if slot not in fired]
        gone = len(self.missed) + len(self.run) - len(missed) - len(run)
        return replace(self, missed=missed, run=run, fired_already=self.fired_already + gone)


def plan_catch_up(timing: Timing, policy: CatchUp, next_at: datetime, fired: int, calendar: CronCalendar,
                  now: datetime, grace: float = DEFAULT_GRACE, max_missed: int = DEFAULT_MAX_MISSED,
                  ) -> CatchUpPlan | None:
    """The plan for a trigger due at `next_at` after `fired` firings, at `now`; None when it is not behind
    (not due, or late by `grace` seconds at most: an ordinary firing)."""
    if now - next_at <= timedelta(seconds=grace):
        return None
    newest: deque[datetime] = deque(maxlen=max(0, max_missed) + 1)
    count, slot = 0, next_at
    while slot is not None and slot <= now:
        newest.append(slot)
        count += 1
        slot = firing_after(timing, slot, fired + count, calendar, slot)  # `now` = the slot: the plain grid
    due = list(newest)
    if policy is CatchUp.LATEST:
        run, missed = due[-1:], (due[:-1][-max_missed:] if max_missed > 0 else [])
    elif policy is CatchUp.ALL:
        run, missed = (due[-max_missed:] if max_missed > 0 else []), []
    else:
        run, missed = [], (due[-max_missed:] if max_missed > 0 else [])
    return CatchUpPlan(policy=policy, missed=missed, run=run, uncounted=count - len(missed) - len(run),
                       following=slot, first=next_at)


def late_note(scheduled_at: datetime, started_at: datetime) -> str:
    """The line of a run fired late by a catch-up: how late it started, and why."""
    seconds = (started_at - scheduled_at).total_seconds()
    return f"ran {seconds:.0f} s after its time, after the scheduler was down"
