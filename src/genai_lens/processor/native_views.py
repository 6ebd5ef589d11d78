"""Python stages on the spans the native core holds, through native span views.

``genai_lens_native.Batch.views()`` gives one ``NativeSpanView`` per span, with :class:`SpanView`'s
interface but each attribute read or write done in Rust on the decoded request. A stage whose logic stays
in Python (cost, anomaly) therefore runs its own ``process_batch`` on a native batch, unchanged: one
implementation, and no decode into upb messages between native stages.
"""

from __future__ import annotations

from typing import Any

from genai_lens.processor.native_pipeline import native_module
from genai_lens.processor.stage import NativeStep, Stage


class ViewStep:
    """A :class:`NativeStep` that runs a Python stage's ``process_batch`` over a native batch's views."""

    __slots__ = ("stage",)

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def run(self, batch: Any) -> None:
        self.stage.process_batch(batch.views())


def view_step(stage: Stage) -> NativeStep | None:
    """``stage`` as a native step over views, or ``None`` when ``genai_lens_native`` (with views and their
    bulk reads and writes) is not available: an older build keeps the stage in Python."""
    module = native_module("NativeSpanView")
    if module is None or not hasattr(module.Batch, "views"):
        return None
    if not all(hasattr(module.NativeSpanView, name) for name in ("get_many", "set_many", "read_present")):
        return None
    return ViewStep(stage)
