"""GET /metrics shows how many concurrency slots each limited task type holds (memory adapters)."""

from dependency_injector import providers

from rqledger.application.limits_gate import holder_of, pool_key
from rqledger.application.registry import TaskRegistry, task
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from tests.unit.test_metrics_endpoint import samples, scrape


def test_the_slots_in_use_of_each_limited_type_are_a_gauge():
    registry = TaskRegistry()
    task(registry=registry, name="export", concurrency=2)(lambda: None)
    task(registry=registry, name="report", concurrency_per_owner=1)(lambda: None)
    task(registry=registry, name="plain")(lambda: None)
    container = build_container(load_settings({"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory"}))
    container.registry.override(providers.Object(registry))
    container.limiter().acquire([(pool_key("export"), 2)], holder_of(1, 1), 30)

    metrics = scrape(container)

    assert samples(metrics["rqledger_concurrency_slots_in_use"]) == {(("name", "export"),): 1.0,
                                                                     (("name", "report"),): 0.0}
