"""RAG fixtures: pick which genai-lens instrumentors are on, the two examples, cassette usage, span trees.

chromadb is slow to import, so it is imported once per session (module-level import here), and one
in-process Chroma client is shared (each test uses its own collection name).
"""

from __future__ import annotations

import gzip
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from genai_lens.instrumentation.anthropic import AnthropicInstrumentor
from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
from genai_lens.instrumentation.langchain import LangChainInstrumentor
from genai_lens.instrumentation.llama_index import LlamaIndexInstrumentor
from genai_lens.instrumentation.openai import OpenAIInstrumentor
from genai_lens.instrumentation.qdrant import QdrantInstrumentor

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
sys.path.insert(0, str(EXAMPLES))

INSTRUMENTORS: dict[str, type[Any]] = {
    "langchain": LangChainInstrumentor,
    "llama_index": LlamaIndexInstrumentor,
    "chromadb": ChromaDBInstrumentor,
    "qdrant": QdrantInstrumentor,
    "openai": OpenAIInstrumentor,
    "anthropic": AnthropicInstrumentor,
}
LANGCHAIN_CASSETTE = "langchain/chatopenai_invoke_gpt4omini.yaml"
LANGCHAIN_STREAM_CASSETTE = "langchain/lcel_stream_gpt4.yaml"
LLAMAINDEX_CASSETTE = "llamaindex/rag_query_chroma_openai.yaml"


@pytest.fixture(scope="session")
def chroma_client() -> Any:
    return chromadb.EphemeralClient()


@pytest.fixture
def collection_name() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def instrument(
    tracer_provider: Any, meter_provider: Any, no_content_env: None
) -> Iterator[Callable[..., list[Any]]]:
    """``instrument("langchain", "openai")`` turns those instrumentors on; all are undone at teardown."""
    applied: list[Any] = []

    def apply(*names: str) -> list[Any]:
        instrumentors = []
        for name in names:
            instrumentor = INSTRUMENTORS[name]()
            instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
            applied.append(instrumentor)
            instrumentors.append(instrumentor)
        return instrumentors

    yield apply
    for instrumentor in reversed(applied):
        instrumentor.uninstrument()


def served_usage(server: Any) -> tuple[int, int]:
    """Sum of (prompt, completion) tokens in the chat responses (JSON or SSE) the replay server served."""
    prompt = completion = 0
    for request in server.requests:
        if request.matched is None or not request.path.endswith("/chat/completions"):
            continue
        body = request.matched.body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        for message in _response_messages(body):
            usage = message.get("usage") or {}
            prompt += usage.get("prompt_tokens", 0)
            completion += usage.get("completion_tokens", 0)
    return prompt, completion


def _response_messages(body: bytes) -> list[dict[str, Any]]:
    """A JSON response body, or the JSON events of a server-sent-event stream."""
    if not body.lstrip().startswith(b"data:"):
        return [json.loads(body)]
    events = [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
    return [json.loads(event) for event in events if event and event != b"[DONE]"]


def check_captured_chroma_query(
    span: ReadableSpan, query_text: str, result: Any, texts: dict[str, str]
) -> None:
    """With content capture on, a Chroma query span holds the query and every hit: id, distance, text."""
    assert span.attributes["gen_ai.retrieval.query.text"] == query_text
    documents = json.loads(span.attributes["gen_ai.retrieval.documents"])
    hit_ids = result["ids"][0]
    assert [d["id"] for d in documents] == hit_ids
    assert [d["score"] for d in documents] == pytest.approx(result["distances"][0])
    assert [d["content"] for d in documents] == [texts[i] for i in hit_ids]


def usage_sum(spans: list[ReadableSpan]) -> tuple[int, int]:
    return (
        sum(s.attributes.get("gen_ai.usage.input_tokens", 0) for s in spans),
        sum(s.attributes.get("gen_ai.usage.output_tokens", 0) for s in spans),
    )


def by_name(spans: list[ReadableSpan], name: str, kind: str | None = None) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name and (kind is None or s.kind.name == kind)]


def one(spans: list[ReadableSpan], name: str, kind: str | None = None) -> ReadableSpan:
    found = by_name(spans, name, kind)
    assert len(found) == 1, f"{name} ({kind}): {[s.name for s in spans]}"
    return found[0]


def parent_of(spans: list[ReadableSpan], span: ReadableSpan) -> ReadableSpan | None:
    if span.parent is None:
        return None
    for candidate in spans:
        if candidate.context.span_id == span.parent.span_id:
            return candidate
    return None


def ancestors(spans: list[ReadableSpan], span: ReadableSpan) -> list[str]:
    names = []
    current = parent_of(spans, span)
    while current is not None:
        names.append(current.name)
        current = parent_of(spans, current)
    return names


@pytest.fixture(autouse=True)
def context_is_restored() -> Iterator[None]:
    """Every run must give the OTel context back: no span of ours may stay current after a test."""
    from opentelemetry import trace

    assert not trace.get_current_span().get_span_context().is_valid, "a span leaked into this test"
    yield
    leaked = trace.get_current_span()
    assert not leaked.get_span_context().is_valid, f"span left current: {getattr(leaked, 'name', leaked)}"
