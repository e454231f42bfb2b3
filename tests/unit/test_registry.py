from typing import Optional

import pytest

from rqledger.application.registry import TaskRegistry, task
from rqledger.domain.errors import InvalidArguments, UnknownTaskType
from rqledger.domain.retry import Retry


@pytest.fixture
def typed(registry: TaskRegistry):
    @task(registry=registry, description="typed", unique=True, timeout=30, retry=Retry(max=2, interval=5))
    def typed_task(count: int, ratio: float, label: str, flag: bool, items: list, options: dict,
                   note: Optional[str] = None, extra: int | None = None):
        return count

    return registry.get("typed_task")


def test_the_decorator_registers_under_the_function_name_and_keeps_the_function_callable(registry):
    @task(registry=registry)
    def plain(x):
        """Does a plain thing.

        More words."""
        return x * 2

    assert plain(2) == 4
    assert registry.get("plain").description == "Does a plain thing."


def test_settings_are_kept(typed):
    assert (typed.unique, typed.timeout, typed.retry) == (True, 30, Retry(max=2, interval=5))


def test_fitting_arguments_pass(typed):
    typed.check_arguments([1, 2, "a", True, [], {}], {"note": None, "extra": 3})


def test_an_integer_is_accepted_for_a_float(typed):
    typed.check_arguments([1, 2, "a", False, [], {}], {})


@pytest.mark.parametrize("args,kwargs,message", [
    ([True, 1.0, "a", True, [], {}], {}, "'count' of typed_task must be an integer, got boolean true"),
    (["1", 1.0, "a", True, [], {}], {}, "'count' of typed_task must be an integer, got string '1'"),
    ([1, "x", "a", True, [], {}], {}, "'ratio' of typed_task must be a number"),
    ([1, 1.0, "a", 1, [], {}], {}, "'flag' of typed_task must be a boolean"),
    ([1, 1.0, "a", True, {}, {}], {}, "'items' of typed_task must be a list"),
    ([1, 1.0, "a", True, [], []], {}, "'options' of typed_task must be an object"),
    ([1, 1.0, "a", True, [], {}], {"note": 5}, "'note' of typed_task must be a string or null"),
    ([1, 1.0, "a", True, [], {}], {"extra": 1.5}, "'extra' of typed_task must be an integer or null"),
    ([1, 1.0, None, True, [], {}], {}, "'label' of typed_task must be a string, got null"),
    ([1], {}, "missing a required argument"),
    ([1, 1.0, "a", True, [], {}], {"nope": 1}, "unexpected keyword argument"),
])
def test_arguments_that_do_not_fit_are_refused_naming_the_field(typed, args, kwargs, message):
    with pytest.raises(InvalidArguments, match=message):
        typed.check_arguments(args, kwargs)


def test_an_unknown_name_is_refused_with_the_known_ones(registry, typed):
    with pytest.raises(UnknownTaskType, match="'os.system'.*typed_task"):
        registry.get("os.system")


def test_two_functions_cannot_share_a_name(registry):
    @task(registry=registry, name="same")
    def first():
        pass

    with pytest.raises(ValueError, match="already registered"):
        @task(registry=registry, name="same")
        def second():
            pass


def test_parameters_describe_the_signature(typed):
    described = {p["name"]: p for p in typed.to_dict()["parameters"]}
    assert described["count"] == {"name": "count", "type": "int", "required": True, "nullable": False}
    assert described["note"]["required"] is False and described["note"]["nullable"] is True


def test_set_progress_outside_a_task_does_nothing_and_inside_reaches_the_sink():
    from rqledger.application.progress import reporting_to, set_progress

    set_progress(50)  # a plain call in a user's own test

    class Sink:
        values = []

        def report(self, percent):
            self.values.append(percent)

    sink = Sink()
    with reporting_to(sink):
        set_progress(10)
        set_progress(120.7)
    assert sink.values == [10, 100]
    with pytest.raises(ValueError, match="progress"):
        set_progress("half")
