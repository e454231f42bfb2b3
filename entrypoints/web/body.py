"""Strict JSON request bodies, checked before apiflask validates them against their schema.

Python's json module accepts NaN and Infinity (and reads 1e999 as infinity), nesting deep enough to exhaust
the stack and unpaired surrogates that no database can store; a JSON API must
refuse all of them with a 4xx, never fail later with a 500.
"""

from __future__ import annotations

import json
import math

from apiflask import HTTPError
from flask import current_app, request

MAX_DEPTH = 64
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def check_json_body() -> None:
    """A before_request hook for views that take a JSON body: 415 for another type, 400 for bad JSON."""
    if request.method not in BODY_METHODS:  # OPTIONS (answered by Flask), HEAD, GET: no body to judge
        return
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or not _takes_json_body(view):
        return
    if getattr(view, "body_optional", False) and not request.get_data(cache=True).strip() and not request.mimetype:
        return  # nothing sent at all: the schema's defaults
    if not request.is_json:
        raise HTTPError(415, f"send the body as JSON with 'Content-Type: application/json' "
                             f"(got {request.mimetype or 'no content type'})")
    data = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413
    if not data.strip():
        raise HTTPError(400, "the body is empty: send a JSON object")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise HTTPError(400, "the body is not UTF-8 encoded JSON") from None
    except RecursionError:
        raise HTTPError(400, f"the JSON body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise HTTPError(400, f"the body is not valid JSON: {exc}") from None
    _check_values(document)


def optional_body(view):
    """Marks a view whose JSON body may be left out altogether (no body, no content type): e.g. a pause."""
    view.body_optional = True
    return view


def _takes_json_body(view) -> bool:
    # apiflask's @input(location="json") records the body schema in the view's _spec.
    spec = getattr(view, "_spec", None) or {}
    return bool(spec.get("body")) and spec.get("content_type") == "application/json"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (use null or a finite number)")


def _finite_float(text: str) -> float:
    # json reads a literal too large for a float (1e999) as inf without asking parse_constant
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a finite number")
    return value


def _check_values(document) -> None:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise HTTPError(400, f"the JSON body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPError(400, "the JSON body contains an unpaired surrogate (\\ud800-\\udfff) in a string") from None
