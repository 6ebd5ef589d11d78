"""Counters and sums the processor keeps about itself, rendered by the admin endpoint as Prometheus text.

Stages count what they did (redactions by type, anomalies by flag, cost by model) without knowing how
the numbers are served. Thread-safe: receivers and the pipeline may run on several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

LabelSet = tuple[tuple[str, str], ...]


class Stats:
    """A registry of monotonically increasing counters keyed by metric name and labels."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[LabelSet, float]] = {}
        self._help: dict[str, tuple[str, str]] = {}

    def describe(self, metric: str, help_text: str, kind: str = "counter") -> None:
        """Name what ``metric`` measures; ``kind`` is its Prometheus type (counter or gauge)."""
        self._help[metric] = (kind, help_text)

    def set(self, metric: str, value: float, **labels: str) -> None:
        """Set a gauge to ``value`` (a queue's size, say)."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values.setdefault(metric, {})[key] = value

    def add(self, metric: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._values.setdefault(metric, {})
            series[key] = series.get(key, 0.0) + value

    def get(self, metric: str, **labels: str) -> float:
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._values.get(metric, {}).get(key, 0.0)

    def snapshot(self) -> Iterator[tuple[str, str, str, LabelSet, float]]:
        """Yield ``(metric, kind, help, labels, value)`` for every series, sorted for stable output."""
        with self._lock:
            items = [(m, dict(s)) for m, s in self._values.items()]
        for metric, series in sorted(items):
            kind, help_text = self._help.get(metric, ("counter", ""))
            for labels, value in sorted(series.items()):
                yield metric, kind, help_text, labels, value
