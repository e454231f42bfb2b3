"""The retry policy of a task type, with RQ's meaning."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Retry:
    """At most `max` more attempts after a failed one; `interval` seconds before each.

    `interval` is one number for every retry, or one per retry (the last one
    repeats when there are more retries than intervals), as in RQ.
    """

    max: int
    interval: float | tuple[float, ...] = 0
    _intervals: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.max, bool) or not isinstance(self.max, int) or self.max < 0:
            raise ValueError(f"Retry max must be a whole number >= 0, got {self.max!r}")
        raw = self.interval
        intervals = tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)
        if not intervals:
            intervals = (0,)
        for value in intervals:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
                raise ValueError(f"Retry interval must be seconds >= 0, got {value!r}")
        if isinstance(raw, list):
            object.__setattr__(self, "interval", tuple(raw))
        object.__setattr__(self, "_intervals", intervals)

    def delay_before(self, retry_number: int) -> float:
        """Seconds to wait before the `retry_number`-th retry (1-based)."""
        index = min(max(retry_number, 1), len(self._intervals)) - 1
        return float(self._intervals[index])

    def to_dict(self) -> dict:
        interval = list(self.interval) if isinstance(self.interval, tuple) else self.interval
        return {"max": self.max, "interval": interval}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Retry | None":
        if not data:
            return None
        return cls(max=data["max"], interval=data.get("interval", 0))
