"""The stages run on the native core (``genai_lens_native``) when it is installed: one decode, one encode.

The native core holds a decoded request (a ``genai_lens_native.Batch``). The stages at the head of the
pipeline that have a native step (:meth:`Stage.native_step`) run on it in order; from the first stage
without one, the request is decoded by upb and the remaining stages run in Python as usual. A config the
native core cannot run therefore still works, only slower. ``GENAI_LENS_NATIVE=off`` turns the native core
off (the Python stages are the reference implementation; the ``*_native`` tests hold both to one output).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from genai_lens.processor.stage import NativeStep, Stage

SWITCH = "GENAI_LENS_NATIVE"


def native_module(*required: str) -> ModuleType | None:
    """The extension module, or ``None`` when it is not installed, switched off, or lacks one of the
    ``required`` names (a build from before that stage was ported)."""
    if os.environ.get(SWITCH, "").strip().lower() in ("0", "off", "false", "no"):
        return None
    try:
        module = importlib.import_module("genai_lens_native")
    except ImportError:
        return None
    return module if all(hasattr(module, name) for name in required) else None


@dataclass(frozen=True)
class NativePlan:
    """Which stages run natively (a prefix of the pipeline) and which then run in Python."""

    module: ModuleType
    native: list[tuple[str, NativeStep]]
    python: list[tuple[str, Stage]]

    @classmethod
    def build(cls, names: Sequence[str], stages: Sequence[Stage]) -> NativePlan | None:
        """The plan for these stages, or ``None`` when no stage can start natively (all-Python is cheaper)."""
        module = native_module()
        if module is None or not stages:
            return None
        native: list[tuple[str, NativeStep]] = []
        for name, stage in zip(names, stages, strict=True):
            step = stage.native_step()
            if step is None:
                break
            native.append((name, step))
        if not native:
            return None
        python = list(zip(names[len(native) :], stages[len(native) :], strict=True))
        return cls(module, native, python)

    def decode(self, data: bytes) -> Any:
        """A ``Batch`` of OTLP/protobuf bytes; ``ValueError`` with the decoder's message when malformed."""
        return self.module.Batch(data)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.native] + [name for name, _ in self.python]
