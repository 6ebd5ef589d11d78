"""OpenTelemetry instrumentation for qdrant-client (query/search as a GenAI retrieval, the rest as DB spans).

    from genai_lens.instrumentation.qdrant import QdrantInstrumentor
    QdrantInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Patches the public ``QdrantClient`` / ``AsyncQdrantClient`` methods only (not the local or remote
backends they delegate to), so one call makes one span for ``QdrantClient(":memory:")`` and for a server.
Entry point name: ``genai_lens_qdrant``.
"""

from __future__ import annotations

from genai_lens.instrumentation._framework.retrieval import VectorDbInstrumentor
from genai_lens.instrumentation.qdrant.operations import OPERATIONS


class QdrantInstrumentor(VectorDbInstrumentor):
    """Spans and ``db.client.operation.duration`` for Qdrant point operations."""

    _instruments = ("qdrant-client >= 1.10.0, < 2",)
    _targets = (
        ("qdrant_client.qdrant_client", "QdrantClient", False),
        ("qdrant_client.async_qdrant_client", "AsyncQdrantClient", True),
    )
    _operations = OPERATIONS


__all__ = ["QdrantInstrumentor"]
