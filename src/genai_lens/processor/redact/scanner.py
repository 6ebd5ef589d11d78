"""Finds every sensitive value in one string: all detectors, overlaps resolved, our own markers left alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from genai_lens.processor.redact.detectors import DIGIT_RUN, RUN_TABLE, SHAPE_TABLE, TOKEN_RUN, Detector


@dataclass(frozen=True, slots=True)
class Finding:
    """One sensitive value at ``text[start:end]``; ``type`` is its family, ``label`` names its placeholder."""

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


class Scanner:
    """Runs the configured detectors (and the optional recognizer) over a string."""

    def __init__(self, detectors: Sequence[Detector], recognizer: EntityRecognizer | None = None) -> None:
        self.detectors = tuple(detectors)
        self.recognizer = recognizer
        # Detectors share gate literals ("sk-", "000"); each literal is tested once per string.
        gates = list(dict.fromkeys((hot.literal, hot.on_shape) for d in self.detectors for hot in d.hots))
        self._gates = gates
        self._plan = [
            (rank, detector, tuple(gates.index((hot.literal, hot.on_shape)) for hot in detector.hots))
            for rank, detector in enumerate(self.detectors)
        ]
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
        met = {"": True, "digit_run": DIGIT_RUN in shape}
        candidates: list[tuple[int, int, int, Finding]] = []
        opened: list[bool | None] = [None] * len(self._gates)
        for rank, detector, gates in self._plan:
            prerequisite = detector.prerequisite
            ok = met.get(prerequisite)
            if ok is None:  # token_run: computed only when a credential detector is configured
                ok = met[prerequisite] = TOKEN_RUN in encoded.translate(RUN_TABLE)
            if not ok:
                continue
            if gates:  # inlined, each literal tested at most once: most strings open no gate
                for gate in gates:
                    is_open = opened[gate]
                    if is_open is None:
                        literal, on_shape = self._gates[gate]
                        is_open = opened[gate] = literal in (shape if on_shape else text)
                    if is_open:
                        break
                else:
                    continue
            for start, end in detector.find(text, shape):
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
