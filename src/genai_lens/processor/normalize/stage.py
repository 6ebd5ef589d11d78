"""The ``normalize`` stage: rewrite every GenAI span, whatever instrumented it, into current OTel GenAI names.

Runs first, so the later stages (cost, redaction, anomaly) read one vocabulary. Per span: detect the
dialect from marker keys (a non-GenAI span costs a few dictionary look-ups and is left byte-for-byte
unchanged), run that dialect's mapper, then one shared pass that fixes provider and finish-reason
values, names the span ``{operation} {model}`` and records the source dialect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import (
    anthropic_native,
    genai_otel,
    openinference,
    openlit,
    openllmetry,
    openllmetry_legacy,
    otel_genai,
    otel_genai_legacy,
    vercel_ai,
)
from genai_lens.processor.normalize import detect as d
from genai_lens.processor.normalize.mapping import (
    SpanEdit,
    as_str_list,
    normalize_finish_reason,
    normalize_finish_reasons,
    normalize_provider,
    set_span_name,
)
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import NativeStep, Stage, StageConfigError, StageContext, reject_unknown_keys
from genai_lens.processor.stats import Stats
from genai_lens.semconv import GENAI_LENS_NORMALIZE_SOURCE_DIALECT

Mapper = Callable[[SpanEdit], None]

MAPPERS: dict[str, Mapper] = {
    d.OPENLLMETRY: openllmetry.normalize,
    d.OPENLLMETRY_LEGACY: openllmetry_legacy.normalize,
    d.OPENINFERENCE: openinference.normalize,
    d.OPENLIT: openlit.normalize,
    d.OTEL_GENAI_LEGACY: otel_genai_legacy.normalize,
    d.OTEL_GENAI: otel_genai.normalize,
    d.GENAI_OTEL: genai_otel.normalize,
    d.VERCEL_AI: vercel_ai.normalize,
    d.ANTHROPIC_NATIVE: anthropic_native.normalize,
}

SPANS_METRIC = "genai_lens_normalize_spans_total"
FIXES_METRIC = "genai_lens_normalize_value_fixes_total"
ERRORS_METRIC = "genai_lens_normalize_errors_total"

logger = logging.getLogger(__name__)


class NormalizeStage(Stage):
    """Maps OpenLLMetry, OpenInference, OpenLIT, OTel-legacy, genai-otel, Vercel AI, Anthropic SDK spans."""

    name = "normalize"
    _ALLOWED = {"keep_original", "rename_spans", "dialects"}

    def __init__(
        self,
        *,
        keep_original: bool = True,
        rename_spans: bool = True,
        dialects: Sequence[str] | None = None,
        stats: Stats | None = None,
    ) -> None:
        self.keep_original = keep_original
        self.rename_spans = rename_spans
        enabled = d.ALL_DIALECTS if dialects is None else tuple(dialects)
        self._mappers = {name: MAPPERS[name] for name in enabled}
        self._stats = stats if stats is not None else Stats()
        self._stats.describe(
            SPANS_METRIC, "GenAI spans rewritten into current OTel GenAI names, by source dialect."
        )
        self._stats.describe(FIXES_METRIC, "Wrong-valued attributes the normalizer fixed, by kind of fix.")
        self._stats.describe(
            ERRORS_METRIC, "Spans the normalizer could not map (left as they were), by error."
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> NormalizeStage:
        reject_unknown_keys(cls.name, config, cls._ALLOWED)
        flags: dict[str, bool] = {}
        for key in ("keep_original", "rename_spans"):
            value = config.get(key, True)
            if not isinstance(value, bool):
                raise StageConfigError(f"processor '{cls.name}': {key} must be true or false, got {value!r}")
            flags[key] = value
        dialects = config.get("dialects")
        if dialects is not None:
            if isinstance(dialects, str) or not isinstance(dialects, Sequence):
                raise StageConfigError(
                    f"processor '{cls.name}': dialects must be a list of names, got {dialects!r}"
                )
            unknown = sorted({str(x) for x in dialects} - set(d.ALL_DIALECTS))
            if unknown or not all(isinstance(x, str) for x in dialects):
                raise StageConfigError(
                    f"processor '{cls.name}': unknown dialect(s) {', '.join(unknown) or repr(dialects)}; "
                    f"allowed: {', '.join(d.ALL_DIALECTS)}"
                )
        return cls(
            keep_original=flags["keep_original"],
            rename_spans=flags["rename_spans"],
            dialects=dialects,
            stats=context.stats,
        )

    # -- processing -------------------------------------------------------------------------------------
    def process_batch(self, spans: Sequence[SpanView]) -> None:
        counts: dict[str, int] = {}
        fixes: dict[str, int] = {}
        failures: dict[str, int] = {}
        for view in spans:
            try:
                done = self._normalize(view)
            except Exception as exc:  # a malformed span must not cost the rest of the batch
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                logger.debug(
                    "normalize: span %r left partly mapped after %s", view.span.name, type(exc).__name__
                )
                continue
            if done is not None:
                dialect, edit = done
                counts[dialect] = counts.get(dialect, 0) + 1
                for note in edit.notes:
                    fixes[note] = fixes.get(note, 0) + 1
        for dialect, count in counts.items():
            self._stats.add(SPANS_METRIC, float(count), dialect=dialect)
        for fix, count in fixes.items():
            self._stats.add(FIXES_METRIC, float(count), fix=fix)
        for error, count in failures.items():
            self._stats.add(ERRORS_METRIC, float(count), error=error)

    def process_span(self, span: SpanView) -> None:
        self.process_batch([span])

    def native_step(self) -> NativeStep | None:
        from genai_lens.processor.normalize.native import native_normalize

        return native_normalize(self, tuple(self._mappers), self._stats)

    def _normalize(self, view: SpanView) -> tuple[str, SpanEdit] | None:
        """Normalize one span in place; the dialect and what was done, or ``None`` if left untouched."""
        dialect = d.detect(view)
        if dialect is None:
            return None
        mapper = self._mappers.get(dialect)
        if mapper is None:
            return None  # dialect switched off in the config: leave the span as it came
        edit = SpanEdit(view)
        mapper(edit)
        if ga.GEN_AI_OPERATION_NAME not in view and ga.GEN_AI_PROVIDER_NAME not in view:
            if not edit.consumed and not edit.notes:
                return None  # e.g. an OpenInference CHAIN span: nothing GenAI about it
        fix_values(view, edit)
        if self.rename_spans:
            set_span_name(view, edit.read)
        if not self.keep_original and edit.consumed:
            view.delete_many(edit.consumed)
        view.set(GENAI_LENS_NORMALIZE_SOURCE_DIALECT, dialect)
        return dialect, edit


def fix_values(view: SpanView, edit: SpanEdit | None = None) -> None:
    """Current names with vendor values: map the provider vocabulary and finish reasons to OTel's.

    The provider is read through ``get`` (cached: the cost and anomaly stages read it too) and written
    only when it changes; finish reasons are fixed in place in the protobuf array. Values the mapper
    just wrote (``edit``) are checked without reading them back.
    """
    provider = view.get(ga.GEN_AI_PROVIDER_NAME) if edit is None else edit.read(ga.GEN_AI_PROVIDER_NAME)
    if isinstance(provider, str):
        normalized = normalize_provider(provider)
        if normalized and normalized != provider:
            view.set(ga.GEN_AI_PROVIDER_NAME, normalized)
    if edit is not None:
        written = edit.written.get(ga.GEN_AI_RESPONSE_FINISH_REASONS)
        if type(written) is list and all(type(r) is str and normalize_finish_reason(r) == r for r in written):
            return  # the mapper wrote them normalized
    if ga.GEN_AI_RESPONSE_FINISH_REASONS not in view:
        return
    if not view.map_array_strings(ga.GEN_AI_RESPONSE_FINISH_REASONS, normalize_finish_reason):
        # a scalar where OTel wants a string array
        values = normalize_finish_reasons(as_str_list(view.get(ga.GEN_AI_RESPONSE_FINISH_REASONS)))
        view.set(ga.GEN_AI_RESPONSE_FINISH_REASONS, values or [])
