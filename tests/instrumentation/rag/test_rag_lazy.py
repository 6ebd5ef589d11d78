"""Zero-code instrumentation must not import the libraries it instruments: patches apply on first import.

Runs in a fresh interpreter (this test session has already imported them all).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
    from genai_lens.instrumentation.langchain import LangChainInstrumentor
    from genai_lens.instrumentation.llama_index import LlamaIndexInstrumentor
    from genai_lens.instrumentation.qdrant import QdrantInstrumentor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentors = [
        LangChainInstrumentor(), LlamaIndexInstrumentor(), ChromaDBInstrumentor(), QdrantInstrumentor()
    ]
    for instrumentor in instrumentors:
        instrumentor.instrument(tracer_provider=provider)
    heavy = ("chromadb", "qdrant_client", "langchain_core", "llama_index.core", "anthropic")
    print("loaded:", sorted(m for m in heavy if m in sys.modules))

    from qdrant_client import QdrantClient, models  # patched now, on import
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("c", points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    from langchain_core.runnables import RunnableLambda
    RunnableLambda(lambda x: x).invoke(1)
    print("spans:", sorted(s.name for s in exporter.get_finished_spans()))

    for instrumentor in instrumentors:
        instrumentor.uninstrument()
    import chromadb.api.models.Collection  # imported after uninstrument: the pending hook does nothing
    print("after:", type(chromadb.api.models.Collection.Collection.query).__name__)
    """
)


ENV = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | {"ANONYMIZED_TELEMETRY": "False"}


def test_instrument_imports_nothing_and_patches_on_import():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["loaded"] == "[]"
    assert lines["spans"] == "['invoke_workflow RunnableLambda', 'upsert c']"
    assert lines["after"] == "function"
