"""The ``normalize`` stage on the native core (``genai_lens_native``), with the Python stage as the fallback.

The extension maps every dialect in place on the decoded request. A span it does not reproduce exactly (a
repeated attribute key, a value Python would fail on or that the port does not model, such as ``str()`` of
a container) comes back untouched with its index; those spans go through the Python stage, one decoded
span each (with its scope name: the stage reads nothing else of scope or resource), and are written back.
Output and stats are the Python stage's either way (tests/processor/normalize/test_normalize_native.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from genai_lens.processor.native_pipeline import native_module
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stats import Stats

if TYPE_CHECKING:
    from genai_lens.processor.normalize.stage import NormalizeStage


class NativeNormalize:
    """``NormalizeStage`` as a :class:`~genai_lens.processor.stage.NativeStep`."""

    def __init__(self, stage: NormalizeStage, native: Any, dialects: Sequence[str], stats: Stats) -> None:
        self._stage = stage
        self._stats = stats
        self._normalizer = native.Normalizer(
            keep_original=stage.keep_original, rename_spans=stage.rename_spans, dialects=list(dialects)
        )

    def run(self, batch: Any) -> None:
        from genai_lens.processor.normalize.stage import FIXES_METRIC, SPANS_METRIC

        counts, fixes, fallback = batch.normalize(self._normalizer)
        for dialect, count in counts:
            self._stats.add(SPANS_METRIC, float(count), dialect=dialect)
        for fix, count in fixes:
            self._stats.add(FIXES_METRIC, float(count), fix=fix)
        if fallback:
            self._run_in_python(batch, fallback)

    def _run_in_python(self, batch: Any, indexes: Sequence[int]) -> None:
        """The spans the extension left alone, through the Python stage (it records their stats)."""
        views = []
        for index in indexes:
            data, scope_name = batch.normalize_span_bytes(index)
            span = Span.FromString(data)
            views.append(SpanView(span, Resource(), InstrumentationScope(name=scope_name)))
        self._stage.process_batch(views)
        for index, view in zip(indexes, views, strict=True):
            batch.normalize_replace_span(index, view.span.SerializeToString())


def native_normalize(stage: NormalizeStage, dialects: Sequence[str], stats: Stats) -> NativeNormalize | None:
    """The native step for ``stage``, or ``None`` without the extension."""
    native = native_module("Normalizer")
    if native is None:
        return None
    return NativeNormalize(stage, native, dialects, stats)
