"""Current OTel GenAI conventions: nothing to rename; the stage's shared pass still normalizes provider
and finish-reason values (contrib passes raw provider values such as ``tool_calls``) and the span name."""

from __future__ import annotations

from genai_lens.processor.normalize.mapping import SpanEdit


def normalize(edit: SpanEdit) -> None:
    del edit  # the shared pass in the stage does all there is to do
