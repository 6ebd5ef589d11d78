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

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        from genai_lens.instrumentation.chromadb.operations import OPERATIONS

        telemetry = DbTelemetry(
            __name__, __version__, kwargs.get("tracer_provider"), kwargs.get("meter_provider")
        )
        for method, (describe, read_result) in OPERATIONS.items():
            self._patches.wrap(
                _SYNC_MODULE, f"Collection.{method}", telemetry.sync_wrapper(describe, read_result)
            )
            self._patches.wrap(
                _ASYNC_MODULE, f"AsyncCollection.{method}", telemetry.async_wrapper(describe, read_result)
            )

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patches.unwrap_all()


__all__ = ["ChromaDBInstrumentor"]
