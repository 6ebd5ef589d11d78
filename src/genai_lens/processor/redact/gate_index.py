"""Finds every detector gate (``@``, ``sk-``, four digits in a row, ...) in one pass, with Hyperscan.

Without it each gate is its own ``str.find`` pass over the text: about twenty passes, which on a joined
export request (hundreds of kilobytes) cost more than everything the detectors do around their hits.
Hyperscan matches all the gates at once. It is a dependency where wheels exist (Linux x86_64); when it is
missing, or cannot compile a gate, :class:`Scanner` falls back to ``str.find`` with the same results.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("genai_lens.processor.redact")

Gate = tuple[bytes | str, re.Pattern[Any] | None, bool]
"""``(literal, confirming regex or None, searched in the shape rather than the text)``."""

try:  # pragma: no cover - depends on the install
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None


def _expression(literal: bytes | str, regex: re.Pattern[Any] | None) -> bytes:
    if regex is not None:
        pattern = regex.pattern
        return pattern if isinstance(pattern, bytes) else pattern.encode("ascii")
    raw = literal if isinstance(literal, bytes) else literal.encode("ascii")
    return re.escape(raw)


class GateIndex:
    """Two Hyperscan databases, one over the text's ASCII bytes and one over its shape."""

    def __init__(self, gates: Sequence[Gate]) -> None:
        if hyperscan is None:
            raise ImportError("hyperscan is not installed")
        self.size = len(gates)
        self._text_db = self._compile([(i, g) for i, g in enumerate(gates) if not g[2]])
        self._shape_db = self._compile([(i, g) for i, g in enumerate(gates) if g[2]])

    @staticmethod
    def _compile(numbered: list[tuple[int, Gate]]) -> Any:
        if not numbered:
            return None
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[_expression(literal, regex) for _, (literal, regex, _) in numbered],
            ids=[i for i, _ in numbered],
            elements=len(numbered),
            flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(numbered),
        )
        return database

    def hits(self, encoded: bytes, shape: bytes) -> list[list[tuple[int, int]]]:
        """For each gate, its ``(start, end)`` hits in start order (text gates in ``encoded``)."""
        found: list[list[tuple[int, int]]] = [[] for _ in range(self.size)]

        def on_match(gate: int, start: int, end: int, _flags: int, _context: Any) -> None:
            found[gate].append((start, end))

        if self._text_db is not None and encoded:
            self._text_db.scan(encoded, match_event_handler=on_match)
        if self._shape_db is not None and shape:
            self._shape_db.scan(shape, match_event_handler=on_match)
        for gate_hits in found:
            if len(gate_hits) > 1:
                gate_hits.sort()
        return found


def build_gate_index(gates: Sequence[Gate]) -> GateIndex | None:
    """A :class:`GateIndex`, or ``None`` (with a debug log) when Hyperscan cannot serve these gates."""
    if hyperscan is None:
        return None
    try:
        return GateIndex(gates)
    except Exception as exc:  # an unsupported construct: the str.find path handles every gate
        log.debug("redact: Hyperscan gate index unavailable (%s); using str.find", type(exc).__name__)
        return None
