"""OpenTelemetry instrumentation for qdrant-client (query/search as a GenAI retrieval, the rest as DB spans).

    from genai_lens.instrumentation.qdrant import QdrantInstrumentor
    QdrantInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Patches the public ``QdrantClient`` / ``AsyncQdrantClient`` methods only (not the local or remote
backends they delegate to), so one call makes one span for ``QdrantClient(":memory:")`` and for a server.
Entry point name: ``genai_lens_qdrant``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens import __version__
from genai_lens.instrumentation._framework.lazy import Activation, when_imported
from genai_lens.instrumentation._framework.retrieval import DbTelemetry
from genai_lens.instrumentation._genai import Patches

_INSTRUMENTS = ("qdrant-client >= 1.10.0, < 2",)
_TARGETS = (
    ("qdrant_client.qdrant_client", "QdrantClient", False),
    ("qdrant_client.async_qdrant_client", "AsyncQdrantClient", True),
)


class QdrantInstrumentor(BaseInstrumentor):
    """Spans and ``db.client.operation.duration`` for Qdrant point operations."""

    def __init__(self) -> None:
        super().__init__()
        self._patches = Patches()
        self._activation = Activation()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        from genai_lens.instrumentation.qdrant.operations import OPERATIONS

        telemetry = DbTelemetry(
            __name__, __version__, kwargs.get("tracer_provider"), kwargs.get("meter_provider")
        )
        self._activation = activation = Activation()
        for module, cls, is_async in _TARGETS:
            make = telemetry.async_wrapper if is_async else telemetry.sync_wrapper

            def apply(module: str = module, cls: str = cls, make: Any = make) -> None:
                for method, (describe, read_result) in OPERATIONS.items():
                    self._patches.wrap(module, f"{cls}.{method}", make(describe, read_result))

            when_imported(module, activation, apply)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._activation.active = False
        self._patches.unwrap_all()


__all__ = ["QdrantInstrumentor"]
