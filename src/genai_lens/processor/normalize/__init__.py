"""Dialect normalization: GenAI spans from any instrumentation → current OTel GenAI conventions."""

from genai_lens.processor.normalize.stage import NormalizeStage

__all__ = ["NormalizeStage"]
