"""The task registry and the `@task` decorator: only registered functions can ever be run."""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from rqledger.application.calls import TaskCall
from rqledger.application.limits_gate import NO_LIMITS, Rate, TypeLimits
from rqledger.domain.errors import InvalidArguments, UnknownTaskType
from rqledger.domain.retry import Retry
from rqledger.domain.task import Priority

_SIMPLE = (int, float, str, bool, list, dict)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str | None  # "int", "float", "str", "bool", "list", "dict", or None when not checked
    required: bool
    default: Any = None
    optional: bool = False  # None is accepted

    def to_dict(self) -> dict:
        data = {"name": self.name, "type": self.type, "required": self.required, "nullable": self.optional}
        if not self.required:
            data["default"] = self.default if _json_safe(self.default) else repr(self.default)
        return data


@dataclass(frozen=True)
class TaskType:
    """A registered task function and its settings."""

    name: str
    func: Callable
    description: str = ""
    unique: bool = False
    timeout: int | None = None
    retry: Retry | None = None
    queue: str = "default"
    priority: Priority = Priority.NORMAL
    parameters: tuple[Parameter, ...] = field(default=())
    # attempts at once (all workers, per owner) and starts per time: rqledger.application.limits_gate
    limits: TypeLimits = NO_LIMITS

    def check_arguments(self, args: list, kwargs: dict) -> None:
        """Raises InvalidArguments when args/kwargs do not fit the function's signature and simple type hints."""
        if not isinstance(args, (list, tuple)):
            raise InvalidArguments("'args' must be a list", field="args")
        if not isinstance(kwargs, dict):
            raise InvalidArguments("'kwargs' must be an object", field="kwargs")
        signature = inspect.signature(self.func)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidArguments(f"arguments do not fit {self.name}{signature}: {exc}", field="args") from None
        by_name = {p.name: p for p in self.parameters}
        for name, value in bound.arguments.items():
            parameter = by_name.get(name)
            if parameter is None or parameter.type is None:
                continue
            kind = signature.parameters[name].kind
            values = value if kind is inspect.Parameter.VAR_POSITIONAL else (
                value.values() if kind is inspect.Parameter.VAR_KEYWORD else (value,))
            for item in values:
                if not _fits(item, parameter):
                    raise InvalidArguments(
                        f"argument {name!r} of {self.name} must be {_describe(parameter)}, got {_json_type(item)}",
                        field=name,
                    )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "unique": self.unique,
            "timeout": self.timeout,
            "retry": self.retry.to_dict() if self.retry else None,
            "queue": self.queue,
            "priority": self.priority.value,
            "limits": self.limits.to_dict(),
            "parameters": [p.to_dict() for p in self.parameters],
        }


class TaskRegistry:
    """Name -> TaskType. The worker checks it again before running anything."""

    def __init__(self):
        self._types: dict[str, TaskType] = {}

    def register(self, task_type: TaskType) -> TaskType:
        existing = self._types.get(task_type.name)
        if existing is not None and existing.func is not task_type.func and _origin(existing.func) != _origin(task_type.func):
            raise ValueError(f"a task type named {task_type.name!r} is already registered ({_origin(existing.func)})")
        self._types[task_type.name] = task_type
        return task_type

    def get(self, name: str) -> TaskType:
        if not isinstance(name, str) or name not in self._types:
            raise UnknownTaskType(str(name), self._types)
        return self._types[name]

    def __contains__(self, name) -> bool:
        return name in self._types

    def __iter__(self):
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._types)

    def unregister(self, name: str) -> None:
        self._types.pop(name, None)


default_registry = TaskRegistry()


def task(func=None, *, name: str | None = None, description: str | None = None, unique: bool = False,
         timeout: int | None = None, retry: Retry | None = None, queue: str = "default",
         priority: str = "normal", concurrency: int | None = None, concurrency_per_owner: int | None = None, rate_limit: str | None = None,
         registry: TaskRegistry | None = None):
    """Registers a function as a task type: `@task` or `@task(description=..., unique=..., timeout=..., retry=...)`.

    Limits, checked by the worker when an attempt would start (a task over a limit stays queued and
    is delivered again shortly, without holding the worker): `concurrency=2` attempts at once across
    every worker, `concurrency_per_owner=1` at once per owner (tasks of no owner share one), and
    `rate_limit="10/m"` starts per second (s), minute (m) or hour (h), or per N of them ("5/10s").
    `priority` ("high", "normal", "low"): its tasks' level unless an enqueue says otherwise; a worker takes
    every waiting high task of its queues before any normal one, and normal before low.

    The function itself is returned, still a plain function to call directly, with two additions:
    `f.enqueue(*args, **kwargs)` enqueues it on the default ledger, and `f.using(owner=..., ...)`
    binds enqueue's options first (see rqledger.application.calls).
    """

    def register(f: Callable) -> Callable:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
            raise ValueError(f"timeout must be whole seconds >= 1, got {timeout!r}")
        try:
            level = Priority.parse(priority)
        except InvalidArguments as exc:
            raise ValueError(str(exc)) from None
        limits = TypeLimits(concurrency, concurrency_per_owner,
                            Rate.parse(rate_limit) if rate_limit is not None else None)
        doc = inspect.getdoc(f) or ""
        task_type = TaskType(
            name=name or f.__name__,
            func=f,
            description=description if description is not None else doc.split("\n\n")[0].strip(),
            unique=unique,
            timeout=timeout,
            retry=retry,
            queue=queue,
            priority=level,
            parameters=describe_parameters(f),
            limits=limits,
        )
        (registry if registry is not None else default_registry).register(task_type)
        f.task_type = task_type
        call = TaskCall(task_type)
        f.enqueue = call.enqueue  # on the default ledger
        f.using = call.using      # enqueue's options bound: owner, description, queue, timeout, retry, ...
        return f

    return register(func) if func is not None else register


def describe_parameters(func: Callable) -> tuple[Parameter, ...]:
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable annotations: check the signature only
        hints = {}
    parameters = []
    for p in inspect.signature(func).parameters.values():
        type_name, optional = _simple_type(hints.get(p.name))
        required = p.default is inspect.Parameter.empty and p.kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        default = None if p.default is inspect.Parameter.empty else p.default
        if default is None and not required and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            optional = True  # a None default means None is a fine value
        parameters.append(Parameter(p.name, type_name, required, default, optional))
    return tuple(parameters)


def _simple_type(hint) -> tuple[str | None, bool]:
    if hint is None:
        return None, False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        if len(members) == 1:
            name, _ = _simple_type(members[0])
            return name, optional
        return None, optional
    base = origin or hint
    if base in _SIMPLE:
        return base.__name__, False
    return None, False


def _fits(value, parameter: Parameter) -> bool:
    if value is None:
        return parameter.optional
    expected = parameter.type
    if expected == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False  # a bool is not an int (nor a float)
    if expected == "int":
        return isinstance(value, int)
    if expected == "float":
        return isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, {"str": str, "list": (list, tuple), "dict": dict}[expected])


def _describe(parameter: Parameter) -> str:
    word = {"int": "integer", "float": "number", "str": "string", "bool": "boolean (true/false)",
            "list": "list", "dict": "object"}[parameter.type]
    text = ("an " if word[0] in "aeiou" else "a ") + word
    return text + " or null" if parameter.optional else text


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return "string " + (repr(value) if len(value) <= 40 else repr(value[:40] + "..."))
    return {list: "list", tuple: "list", dict: "object"}.get(type(value), type(value).__name__)


def _json_safe(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _origin(func) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
