"""The one interface every processor stage implements, like a collector processor.

A stage gets the spans of one OTLP export request (as :class:`SpanView` objects, in request order) and
edits them in place. Each stage has its own config mapping, checked when the stage is built so a bad
config fails at start-up with a clear message rather than on the first span.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stats import Stats


class StageConfigError(ValueError):
    """A stage's configuration is wrong; the message names the stage and the offending key."""


@dataclass
class StageContext:
    """What a stage may use besides its own config: shared counters and a place to keep state."""

    stats: Stats = field(default_factory=Stats)
    state_dir: Path | None = None


class NativeStep(Protocol):
    """A stage's work done by the native core (``genai_lens_native``) on a decoded request, in place."""

    def run(self, batch: Any) -> None:
        """Process every span of ``batch`` (a ``genai_lens_native.Batch``); record stats like the stage."""


class Stage(ABC):
    """A processor stage: built once from its config, then called for every batch of spans."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> Stage:
        """Build the stage, raising :class:`StageConfigError` on unknown keys or bad values."""

    def process_batch(self, spans: Sequence[SpanView]) -> None:
        """Process one export request's spans; the default calls :meth:`process_span` for each."""
        for span in spans:
            self.process_span(span)

    def process_span(self, span: SpanView) -> None:  # noqa: B027 - optional hook
        """Process one span in place."""

    def native_step(self) -> NativeStep | None:
        """The native-core version of this stage, or ``None`` (no extension, or a config it cannot run).

        Its output must equal :meth:`process_batch`'s on the same spans (the ``*_native`` parity tests).
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources and persist state on shutdown."""


def reject_unknown_keys(stage: str, config: Mapping[str, Any], allowed: set[str]) -> None:
    """Fail fast on a typo in a stage's config instead of silently ignoring the key."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise StageConfigError(
            f"processor '{stage}': unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
