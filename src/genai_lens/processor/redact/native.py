"""The redact stage on the native core (``genai_lens_native``): same findings, markers and counts.

Runs what :class:`BatchRedactor` runs (built-in detectors, placeholder or hash mode) over a decoded
request in Rust. A JSON document whose findings cannot be rewritten in place (a finding in a key, a number
or next to an escape) is handed back to the Python ``ContentRedactor.redact_json``, so that rare path keeps
Python's own parser and serializer.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import Any

from genai_lens.processor.native_pipeline import native_module
from genai_lens.processor.redact.detectors import BUILTIN_DETECTORS
from genai_lens.processor.redact.keys import DEFAULT_ALLOW_KEYS, DEFAULT_DENY_KEYS
from genai_lens.processor.redact.scanner import Finding
from genai_lens.processor.redact.stage import ERRORS_METRIC, REDACTIONS_METRIC, RedactStage

log = logging.getLogger("genai_lens.processor.redact")

NATIVE_ERROR = "NativeScanError"
"""``error`` label of the errors metric for strings whose native scan failed (they are withheld)."""


@functools.cache
def python_char_classes() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Non-ASCII code point ranges of this Python's ``\\w`` and ``\\d`` (its Unicode version, not Rust's).

    The detectors' lookarounds hinge on "is the next character a word character"; a character assigned
    in a newer Unicode than Python's would otherwise decide differently. Computed once per process (~0.2 s).
    """
    text = "".join(map(chr, range(0x80, sys.maxunicode + 1)))

    def runs(pattern: str) -> list[tuple[int, int]]:
        return [(m.start() + 0x80, m.end() - 1 + 0x80) for m in re.finditer(pattern, text)]

    return runs(r"\w+"), runs(r"\d+")


class NativeRedact:
    """The :class:`~genai_lens.processor.stage.NativeStep` of the redact stage."""

    def __init__(self, stage: RedactStage, native: Any) -> None:
        config = stage.config
        content = stage.redactor.content

        def json_fallback(text: str, probe: str, hits: list[tuple[int, int, str, str]]) -> tuple[Any, list]:
            found: list[str] = []
            new = content.redact_json(text, probe, [Finding(*hit) for hit in hits], found)
            return (new if isinstance(new, str) else None), found

        self._stats = stage.stats
        self._redactor = native.Redactor(
            list(dict.fromkeys(d.type for d in config.detectors)),
            config.mode.value,
            config.hash_key,
            list(config.allow_keys),
            list(config.deny_keys),
            list(DEFAULT_ALLOW_KEYS) if config.default_keys else [],
            list(DEFAULT_DENY_KEYS) if config.default_keys else [],
            content.scanner._gate_index is not None,
            *python_char_classes(),
            json_fallback,
        )

    def run(self, batch: Any) -> None:
        """Redact every span of ``batch`` in place and count redactions by type, as the Python stage does."""
        counts, errors = batch.redact(self._redactor)
        for kind, n in counts:
            self._stats.add(REDACTIONS_METRIC, n, type=kind)
        if errors:
            log.warning("redact: %d native scan(s) failed; those values were withheld", errors)
            self._stats.add(ERRORS_METRIC, errors, error=NATIVE_ERROR)


def native_redact(stage: RedactStage) -> NativeRedact | None:
    """The native step for ``stage``, or ``None`` when the extension is missing (or built without the
    redact module) or a detector is not one of the built-ins (the native core only knows those)."""
    if not all(any(d is builtin for builtin in BUILTIN_DETECTORS) for d in stage.config.detectors):
        return None
    native = native_module("Redactor")
    if native is None:
        return None
    return NativeRedact(stage, native)
