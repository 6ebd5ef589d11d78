"""OpenTelemetry instrumentation for ChromaDB collections: ``query`` is a GenAI retrieval, the rest DB spans.

    from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
    ChromaDBInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Patches ``Collection`` and ``AsyncCollection`` methods (works for the embedded ``EphemeralClient`` /
``PersistentClient`` and for ``HttpClient`` / ``AsyncHttpClient``). Entry point name: ``genai_lens_chromadb``.
"""

from __future__ import annotations

from genai_lens.instrumentation._framework.retrieval import VectorDbInstrumentor
from genai_lens.instrumentation.chromadb.operations import OPERATIONS


class ChromaDBInstrumentor(VectorDbInstrumentor):
    """Spans and ``db.client.operation.duration`` for ChromaDB collection operations."""

    _instruments = ("chromadb >= 0.5.0, < 2",)
    _targets = (
        ("chromadb.api.models.Collection", "Collection", False),
        ("chromadb.api.models.AsyncCollection", "AsyncCollection", True),
    )
    _operations = OPERATIONS


__all__ = ["ChromaDBInstrumentor"]
