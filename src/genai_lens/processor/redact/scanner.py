"""Finds every sensitive value in one string: all detectors, overlaps resolved, our own markers left alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from genai_lens.processor.redact.detectors import DIGIT_RUN, RUN_TABLE, SHAPE_TABLE, TOKEN_RUN, Detector
from genai_lens.processor.redact.gate_index import build_gate_index


class Finding(NamedTuple):
    """One sensitive value at ``text[start:end]``; ``type`` is its family, ``label`` names its placeholder.

    A named tuple, not a dataclass: a request yields thousands, and a tuple is built several times faster.
    """

    start: int
    end: int
    type: str
    label: str


class EntityRecognizer(Protocol):
    """A model-based finder (names, places) that runs beside the patterns; see ``ner.py``."""

    def find(self, text: str) -> list[Finding]: ...


MARKER = re.compile(r"<[A-Z][A-Z0-9_]*(?::hmac:[0-9a-f]{8,64})?>")
"""What a redaction leaves behind (``<EMAIL>``, ``<PHONE:hmac:1a2b3c4d5e6f>``); never redacted again."""

_SHORTEST_BUILTIN_MATCH = 6  # "a@b.co"; an IPv4 address needs 7
_INDEXED_LENGTH = 4096
"""From this length on, gates are found by the one-pass gate index (when installed), not one find each."""


def _prerequisite_holds(prerequisite: str, encoded: bytes, shape: bytes) -> bool:
    """The cheap whole-string check of a detector family (see ``Detector.prerequisite``)."""
    if prerequisite == "digit_run":
        return DIGIT_RUN in shape
    if prerequisite == "token_run":
        return len(encoded) >= len(TOKEN_RUN) and TOKEN_RUN in encoded.translate(RUN_TABLE)
    return True


class Scanner:
    """Runs the configured detectors (and the optional recognizer) over a string.

    ``use_gate_index=False`` forces the ``str.find`` gates even where Hyperscan is installed (tests compare
    the two).
    """

    def __init__(
        self,
        detectors: Sequence[Detector],
        recognizer: EntityRecognizer | None = None,
        use_gate_index: bool = True,
    ) -> None:
        self.detectors = tuple(detectors)
        self.recognizer = recognizer
        # Detectors share gate literals ("sk-", "000"); each literal is tested once per string.
        gates = list(
            dict.fromkeys((hot.literal, hot.regex, hot.on_shape) for d in self.detectors for hot in d.hots)
        )
        self._gates = gates
        self._gate_index = build_gate_index(gates) if use_gate_index else None
        # Grouped by prerequisite so one failed whole-string check skips a family (all credentials, say).
        groups: dict[str, list[tuple[int, Detector, tuple[int, ...]]]] = {}
        for rank, detector in enumerate(self.detectors):
            gate_ids = tuple(gates.index((hot.literal, hot.regex, hot.on_shape)) for hot in detector.hots)
            groups.setdefault(detector.prerequisite, []).append((rank, detector, gate_ids))
        self._groups = list(groups.items())
        self.hints_are_exact = recognizer is None and all(d.hots for d in self.detectors)
        """Only built-in detectors: a raw-JSON match lies verbatim inside one string leaf."""
        # User patterns and models may match anything; built-ins need a few characters.
        self._min_length = (
            1 if recognizer or any(not d.hots for d in self.detectors) else _SHORTEST_BUILTIN_MATCH
        )

    def scan(self, text: str) -> list[Finding]:
        """Non-overlapping findings in text order; on overlap the longer wins, then the earlier detector."""
        if len(text) < self._min_length:
            return []
        encoded = text.encode("ascii", "replace")  # one byte per character: offsets carry over
        shape = encoded.translate(SHAPE_TABLE)
        if self.hints_are_exact and len(text) < len(TOKEN_RUN) and not any(c in shape for c in b"0@:"):
            return []  # too short for a credential, and no digit, "@" or ":" for anything else
        indexed = (
            self._gate_index.hits(encoded, shape)
            if self._gate_index is not None and len(text) >= _INDEXED_LENGTH
            else None
        )
        # Per call: repeats within one request (a system prompt on every span) are common; across requests the
        # memo would mostly hold unique content, and would flatter a benchmark that replays the same requests.
        memo: dict[tuple[str, str, int], list[tuple[int, int]]] | None = {} if indexed is not None else None
        digits = shape.count(b"0")
        candidates: list[tuple[int, int, int, Finding]] = []
        opened: list[bool | None] = [None] * len(self._gates)
        source: str | bytes
        for prerequisite, members in self._groups:
            # With the index every gate is found already; the whole-string checks would cost a pass each.
            if indexed is None and not _prerequisite_holds(prerequisite, encoded, shape):
                continue
            for rank, detector, gates in members:
                if detector.min_digits > digits:
                    continue
                if not gates:  # a user pattern: the whole text
                    spans = detector.find(text, shape)
                else:
                    spans = []
                    windows: list[tuple[int, int]] = []
                    seen: set[tuple[int, int]] = set()
                    for gate in gates:  # each gate literal is tested at most once per string
                        if indexed is not None:
                            if indexed[gate]:
                                detector.around_indexed_hits(
                                    text,
                                    shape,
                                    indexed[gate],
                                    spans,
                                    windows,
                                    seen,
                                    memo,  # type: ignore[arg-type]
                                )
                            continue
                        is_open = opened[gate]
                        literal, regex, on_shape = self._gates[gate]
                        source = shape if on_shape else text
                        if is_open is None:
                            is_open = opened[gate] = literal in source
                        if is_open:
                            detector.around_hits(text, shape, source, literal, regex, spans, windows, seen)
                for start, end in spans:
                    candidates.append(
                        (start, start - end, rank, Finding(start, end, detector.type, detector.label))
                    )
        if self.recognizer is not None:
            rank = len(self.detectors)
            for finding in self.recognizer.find(text):
                candidates.append((finding.start, finding.start - finding.end, rank, finding))
        if not candidates:
            return []
        candidates.sort(key=lambda c: c[:3])
        blocked = [m.span() for m in MARKER.finditer(text)] if "<" in text else []
        findings: list[Finding] = []
        last_end = -1
        next_block = 0
        for start, _, _, finding in candidates:
            if start < last_end:
                continue
            # Candidates come in start order: skip markers that end before this one starts.
            while next_block < len(blocked) and blocked[next_block][1] <= start:
                next_block += 1
            if next_block < len(blocked) and blocked[next_block][0] < finding.end:
                continue  # overlaps one of our own markers
            findings.append(finding)
            last_end = finding.end
        return findings
