"""Measuring both sides back to back, alternating which goes first, so that a noisy machine hits both alike."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def seconds(action: Callable[[], object]) -> float:
    """How long `action()` took, in seconds of wall-clock time."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def back_to_back(repeats: int, ledger: Callable[[], T], bare: Callable[[], T],
                 between: Callable[[], None] = lambda: None) -> list[tuple[T, T]]:
    """(rqledger, bare RQ) results of `repeats` rounds; odd rounds run bare RQ first. `between` runs after each."""
    pairs = []
    for round_number in range(repeats):
        order = [("ledger", ledger), ("bare", bare)]
        if round_number % 2:
            order.reverse()
        results = {}
        for name, measure in order:
            results[name] = measure()
            between()
        pairs.append((results["ledger"], results["bare"]))
    return pairs
