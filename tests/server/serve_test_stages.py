"""Test-only processor stages with deterministic behavior, loaded by ``module:Class`` name in configs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import Stage, StageConfigError, StageContext, reject_unknown_keys


class ExplodingStage(Stage):
    """Tags the first span, then raises: the batch must still be forwarded and later stages still run."""

    name = "explode"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> Stage:
        reject_unknown_keys(cls.name, config, set())
        return cls()

    def process_batch(self, spans: Sequence[SpanView]) -> None:
        spans[0].set("test.exploding_stage_saw", True)
        raise RuntimeError("boom (test stage)")


class TagStage(Stage):
    """Sets ``test.tag`` to its configured ``value`` on every span and counts the spans it tagged."""

    name = "tag"

    def __init__(self, value: str, context: StageContext) -> None:
        self.value = value
        self.stats = context.stats
        self.stats.describe("genai_lens_test_tagged_total", "Spans tagged by the test stage.")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> Stage:
        reject_unknown_keys(cls.name, config, {"value"})
        value = config.get("value", "tagged")
        if not isinstance(value, str):
            raise StageConfigError(f"processor '{cls.name}': value must be a string")
        return cls(value, context)

    def process_span(self, span: SpanView) -> None:
        span.set("test.tag", self.value)
        self.stats.add("genai_lens_test_tagged_total", 1, tag=self.value)
