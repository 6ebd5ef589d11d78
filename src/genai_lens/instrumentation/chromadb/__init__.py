"""OpenTelemetry instrumentation for ChromaDB collections: ``query`` is a GenAI retrieval, the rest DB spans.

    from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
    ChromaDBInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Patches ``Collection`` and ``AsyncCollection`` methods (works for the embedded ``EphemeralClient`` /
``PersistentClient`` and for ``HttpClient``). Entry point name: ``genai_lens_chromadb``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens import __version__
from genai_lens.instrumentation._framework.lazy import Activation, when_imported
from genai_lens.instrumentation._framework.retrieval import DbTelemetry
from genai_lens.instrumentation._genai import Patches

_INSTRUMENTS = ("chromadb >= 0.5.0, < 2",)
_SYNC_MODULE = "chromadb.api.models.Collection"
_ASYNC_MODULE = "chromadb.api.models.AsyncCollection"


class ChromaDBInstrumentor(BaseInstrumentor):
    """Spans and ``db.client.operation.duration`` for ChromaDB collection operations."""

    def __init__(self) -> None:
        super().__init__()
        self._patches = Patches()
        self._activation = Activation()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        from genai_lens.instrumentation.chromadb.operations import OPERATIONS

        telemetry = DbTelemetry(
            __name__, __version__, kwargs.get("tracer_provider"), kwargs.get("meter_provider")
        )
        self._activation = activation = Activation()
        for module, cls, make in (
            (_SYNC_MODULE, "Collection", telemetry.sync_wrapper),
            (_ASYNC_MODULE, "AsyncCollection", telemetry.async_wrapper),
        ):

            def apply(module: str = module, cls: str = cls, make: Any = make) -> None:
                for method, (describe, read_result) in OPERATIONS.items():
                    self._patches.wrap(module, f"{cls}.{method}", make(describe, read_result))

            when_imported(module, activation, apply)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._activation.active = False
        self._patches.unwrap_all()


__all__ = ["ChromaDBInstrumentor"]
