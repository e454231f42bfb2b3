"""GET /metrics: Prometheus text, computed per request from the ledger and the queue.

A fresh CollectorRegistry per request (not prometheus-client's global one):
the numbers come from the shared database and Redis, so every web process
answers the same, and nothing accumulates in a process that may be restarted.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from rqledger.application.errors import QueueUnavailable
from rqledger.application.metrics import LedgerStatistics
from rqledger.entrypoints.web.context import container

log = logging.getLogger(__name__)

metrics_blueprint = Blueprint("metrics", __name__)


@metrics_blueprint.get("/metrics")
def metrics() -> Response:
    """Tasks by name and status, queue depth, attempt durations, schedules and runs, in Prometheus text."""
    services = container()
    statistics = services.read_ledger_statistics()()  # StorageUnavailable: the app's handler answers 503
    try:
        depth = services.queue_depth()()
    except QueueUnavailable as exc:
        log.warning("metrics without queue depth: %s", exc)
        depth = None
    try:
        slots = services.attempt_gate().slots_in_use()  # nothing is asked of Redis when no type has a limit
    except QueueUnavailable:
        slots = {}
    paused = set(services.queue_pauses().paused())  # StorageUnavailable: 503, as for the statistics
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(statistics, depth, slots, paused))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class LedgerCollector:
    """Turns one reading of the ledger (and the queue depth, None when Redis is down) into metric families."""

    def __init__(self, statistics: LedgerStatistics, depth: dict[str, int] | None,
                 slots: dict[str, tuple[int, int | None]] | None = None, paused: set[str] | None = None):
        self.statistics = statistics
        self.depth = depth
        self.slots = slots or {}  # per type with a concurrency limit: (slots in use, the limit or None)
        self.paused = paused or set()

    def collect(self):
        stats = self.statistics
        tasks = GaugeMetricFamily("rqledger_tasks", "Tasks in the ledger, by task name and status",
                                  labels=["name", "status"])
        for (name, status), count in sorted(stats.tasks.items()):
            tasks.add_metric([name, status], count)
        yield tasks

        durations = HistogramMetricFamily("rqledger_task_duration_seconds",
                                          "How long task attempts ran, by task name and outcome",
                                          labels=["name", "outcome"])
        for (name, outcome), histogram in sorted(stats.durations.items()):
            durations.add_metric([name, outcome], histogram.cumulative(), sum_value=histogram.sum)
        yield durations

        schedules = GaugeMetricFamily("rqledger_schedules", "Schedules (parents), by task name and status",
                                      labels=["name", "status"])
        for (name, status), count in sorted(stats.schedules.items()):
            schedules.add_metric([name, status], count)
        yield schedules

        runs = GaugeMetricFamily("rqledger_schedule_runs", "Runs of each schedule, by status",
                                 labels=["schedule_id", "name", "status"])
        for (schedule_id, name, status), count in sorted(stats.runs.items()):
            runs.add_metric([str(schedule_id), name, status], count)
        yield runs

        up = GaugeMetricFamily("rqledger_queue_up", "1 when the queue (Redis) answered this scrape, else 0")
        up.add_metric([], 0 if self.depth is None else 1)
        yield up
        if self.depth is not None:
            depth = GaugeMetricFamily("rqledger_queue_depth", "Jobs waiting in each queue", labels=["queue"])
            for queue, count in sorted(self.depth.items()):
                depth.add_metric([queue], count)
            yield depth
        queues = sorted(set(self.depth or ()) | self.paused)
        if queues:
            paused = GaugeMetricFamily("rqledger_queue_paused", "1 while the queue is paused (its tasks wait), else 0",
                                       labels=["queue"])
            for queue in queues:
                paused.add_metric([queue], 1 if queue in self.paused else 0)
            yield paused
        if self.slots:
            in_use = GaugeMetricFamily("rqledger_concurrency_slots_in_use",
                                       "Attempts holding a concurrency slot, by task name", labels=["name"])
            for name, (count, _) in sorted(self.slots.items()):
                in_use.add_metric([name], count)
            yield in_use
