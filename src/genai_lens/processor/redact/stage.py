"""The ``redact`` processor stage: removes personal data and credentials from spans before export."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from genai_lens.processor.redact.batch_redactor import BatchRedactor
from genai_lens.processor.redact.clean_cache import CleanCache
from genai_lens.processor.redact.config import RedactConfig, parse_config
from genai_lens.processor.redact.content import ContentRedactor
from genai_lens.processor.redact.keys import KeyPolicy
from genai_lens.processor.redact.modes import Replacer
from genai_lens.processor.redact.ner import NerUnavailable, build_recognizer
from genai_lens.processor.redact.scanner import EntityRecognizer, Scanner
from genai_lens.processor.redact.span_redactor import SpanRedactor
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import NativeStep, Stage, StageConfigError, StageContext
from genai_lens.semconv import GENAI_LENS_REDACTION_COUNT, GENAI_LENS_REDACTION_TYPES
from genai_lens.semconv import GenaiLensRedactionTypesValues as RedactionType

REDACTIONS_METRIC = "genai_lens_redactions_total"
ERRORS_METRIC = "genai_lens_redaction_errors_total"
WITHHELD_TYPE = "withheld"
"""Stats label for values replaced wholesale after an internal error (fail closed)."""

log = logging.getLogger("genai_lens.processor.redact")


class RedactStage(Stage):
    """Scans every string a span carries and replaces what the detectors find (see ``config.py`` for keys).

    Adds ``genai_lens.redaction.count`` and ``genai_lens.redaction.types`` to spans it changed and counts
    redactions by type in ``genai_lens_redactions_total``. Never logs values.
    """

    name = "redact"

    def __init__(
        self, config: RedactConfig, context: StageContext, recognizer: EntityRecognizer | None = None
    ):
        self.config = config
        self.stats = context.stats
        scanner = Scanner(config.detectors, recognizer)
        cache = CleanCache(capacity=config.clean_cache_size)
        content = ContentRedactor(scanner, Replacer(config.mode, config.hash_key), cache)
        policy = KeyPolicy(config.allow_keys, config.deny_keys, config.default_keys)
        self.redactor = SpanRedactor(content, policy)
        batch = BatchRedactor(self.redactor)
        self.batch = batch if batch.usable else None
        self.stats.describe(REDACTIONS_METRIC, "Values redacted from spans, by kind of sensitive data.")
        self.stats.describe(
            ERRORS_METRIC, "Spans whose scan failed; their content was withheld (fail closed)."
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> RedactStage:
        parsed = parse_config(config)
        recognizer = None
        if parsed.ner.enabled:
            try:
                recognizer = build_recognizer(
                    parsed.ner.engine, parsed.ner.language, parsed.ner.score_threshold
                )
            except NerUnavailable as exc:
                raise StageConfigError(f"processor '{cls.name}': {exc}") from exc
        return cls(parsed, context, recognizer)

    def process_batch(self, spans: Sequence[SpanView]) -> None:
        """One scan over the whole request when the configuration allows it (see ``batch_redactor.py``)."""
        if self.batch is None:
            super().process_batch(spans)
            return
        try:
            results = self.batch.redact(spans)
        except Exception as exc:
            # Rescan span by span: what the batch already replaced are markers, never redacted twice.
            log.warning("redact: the batch scan failed (%s); scanning span by span", type(exc).__name__)
            self.stats.add(ERRORS_METRIC, 1, error=type(exc).__name__)
            super().process_batch(spans)
            return
        totals: Counter[str] = Counter()
        for span, found in zip(spans, results, strict=True):
            if found:
                self._annotate(span, found)
                totals.update(found)
        for kind, n in totals.items():
            self.stats.add(REDACTIONS_METRIC, n, type=kind)

    def native_step(self) -> NativeStep | None:
        """The native-core step, for the configurations the batch path serves (else ``None``)."""
        if self.batch is None:  # user patterns, NER or drop mode: only the Python stage
            return None
        from genai_lens.processor.redact.native import native_redact

        return native_redact(self)

    def process_span(self, span: SpanView) -> None:
        try:
            found = self.redactor.redact(span)
        except Exception as exc:
            # Never forward a half-scanned span: withhold every value that is not on the allow list. The log
            # names the error type only; its message could quote span content.
            log.warning("redact: scanning a span failed (%s); its content was withheld", type(exc).__name__)
            self.stats.add(ERRORS_METRIC, 1, error=type(exc).__name__)
            found = [RedactionType.CUSTOM.value] * self.redactor.withhold(span)
            if not found:
                return
            self.stats.add(REDACTIONS_METRIC, len(found), type=WITHHELD_TYPE)
            self._annotate(span, found)
            return
        if not found:
            return
        self._annotate(span, found)
        for kind, n in Counter(found).items():
            self.stats.add(REDACTIONS_METRIC, n, type=kind)

    @staticmethod
    def _annotate(span: SpanView, found: list[str]) -> None:
        previous_count = span.get(GENAI_LENS_REDACTION_COUNT, 0)
        previous_types = span.get(GENAI_LENS_REDACTION_TYPES, [])
        count = (previous_count if isinstance(previous_count, int) else 0) + len(found)
        types = set(found) | {t for t in previous_types or [] if isinstance(t, str)}  # type: ignore[union-attr]
        span.set(GENAI_LENS_REDACTION_COUNT, count)
        span.set(GENAI_LENS_REDACTION_TYPES, sorted(types))
