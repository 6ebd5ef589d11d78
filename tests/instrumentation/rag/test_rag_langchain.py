"""LangChain LCEL (retriever over Chroma -> prompt -> ChatOpenAI) with real langchain-core, langchain-openai,
chromadb and the openai SDK over HTTP to a replay server: nesting, one trace, tokens counted once."""

from __future__ import annotations

import asyncio
import logging

import pytest
import rag_langchain_chroma as example
from conftest import (
    LANGCHAIN_CASSETTE,
    LANGCHAIN_STREAM_CASSETTE,
    ancestors,
    by_name,
    one,
    parent_of,
    served_usage,
    usage_sum,
)
from langchain_core.callbacks.base import BaseCallbackManager
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV

CHAT = "chat gpt-4o-mini"
WORKFLOW = "invoke_workflow RunnableSequence"


@pytest.fixture
def chain_factory(chroma_client, replay):
    def build(cassette: str = LANGCHAIN_CASSETTE):
        server = replay(cassette)
        return example.build_chain(example.build_collection(chroma_client), server.base_url + "/v1"), server

    return build


def test_all_instrumented_one_trace_nested_and_tokens_counted_once(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, server = chain_factory()
    span_exporter_before = len(spans())
    answer = chain.invoke(example.QUESTION)
    assert answer.startswith("### OpenTelemetry")
    trace_spans = spans()[span_exporter_before:]

    workflow = one(trace_spans, WORKFLOW)
    assert workflow.parent is None
    assert {s.context.trace_id for s in trace_spans} == {workflow.context.trace_id}  # one trace

    chroma = one(trace_spans, "retrieval otel-docs", "CLIENT")
    assert ancestors(trace_spans, chroma)[0] == "retrieval ChromaRetriever"
    assert ancestors(trace_spans, chroma)[-1] == WORKFLOW
    assert chroma.attributes["gen_ai.operation.name"] == "retrieval"
    assert chroma.attributes["db.system.name"] == "chromadb"
    assert chroma.attributes["db.collection.name"] == "otel-docs"
    assert chroma.attributes["db.operation.name"] == "query"
    assert chroma.attributes["gen_ai.data_source.id"] == "otel-docs"
    assert chroma.attributes["db.response.returned_rows"] == 2

    framework_llm = one(trace_spans, CHAT, "INTERNAL")
    provider_llm = one(trace_spans, CHAT, "CLIENT")
    assert parent_of(trace_spans, provider_llm) is framework_llm
    assert parent_of(trace_spans, framework_llm) is workflow
    assert framework_llm.attributes["gen_ai.provider.name"] == "openai"
    assert framework_llm.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"

    # exactly one span carries the call's usage, and the trace total is what the provider reported
    carriers = [s for s in trace_spans if "gen_ai.usage.input_tokens" in s.attributes]
    assert carriers == [provider_llm]  # the provider span carries usage, the framework span defers to it
    assert framework_llm.attributes["genai_lens.usage.recorded_by"] == "provider_span"
    assert usage_sum(trace_spans) == served_usage(server) == (1497, 1037)


def test_framework_only_carries_usage_itself(instrument, chain_factory, spans, metric_points):
    instrument("langchain", "chromadb")  # openai instrumentor off: nothing may be lost
    chain, server = chain_factory()
    chain.invoke(example.QUESTION)
    trace_spans = spans()
    assert by_name(trace_spans, CHAT, "CLIENT") == []
    llm = one(trace_spans, CHAT, "INTERNAL")
    assert llm.attributes["genai_lens.usage.recorded_by"] == "framework_span"
    assert usage_sum(trace_spans) == served_usage(server) == (1497, 1037)
    tokens = metric_points()["gen_ai.client.token.usage"]
    assert sorted(p.sum for p in tokens) == [1037, 1497]


def test_provider_only_makes_no_framework_spans(instrument, chain_factory, spans):
    instrument("openai")
    chain, _ = chain_factory()
    chain.invoke(example.QUESTION)
    trace_spans = spans()
    assert [s.name for s in trace_spans] == [CHAT]
    assert trace_spans[0].kind.name == "CLIENT" and trace_spans[0].parent is None


def test_async_invoke_keeps_nesting(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, server = chain_factory()
    answer = asyncio.run(chain.ainvoke(example.QUESTION))
    assert answer
    trace_spans = spans()
    workflow = one(trace_spans, WORKFLOW)
    provider_llm = one(trace_spans, CHAT, "CLIENT")
    assert parent_of(trace_spans, provider_llm) is one(trace_spans, CHAT, "INTERNAL")
    assert ancestors(trace_spans, one(trace_spans, "retrieval otel-docs"))[-1] == WORKFLOW
    assert {s.context.trace_id for s in trace_spans if s.name != "upsert otel-docs"} == {
        workflow.context.trace_id
    }
    assert usage_sum(trace_spans) == served_usage(server)


def test_batch_in_threads_one_trace_per_input(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, server = chain_factory()
    chain.batch([example.QUESTION, "What is a span?"], config={"max_concurrency": 2})
    trace_spans = [s for s in spans() if s.name != "upsert otel-docs"]
    workflows = by_name(trace_spans, WORKFLOW)
    assert len(workflows) == 2
    for workflow in workflows:
        in_trace = [s for s in trace_spans if s.context.trace_id == workflow.context.trace_id]
        provider_llm = one(in_trace, CHAT, "CLIENT")
        assert ancestors(in_trace, provider_llm) == [CHAT, WORKFLOW]
        assert ancestors(in_trace, one(in_trace, "retrieval otel-docs"))[-1] == WORKFLOW
    assert usage_sum(trace_spans) == served_usage(server)


def test_stream_keeps_nesting(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, _ = chain_factory(LANGCHAIN_STREAM_CASSETTE)
    text = "".join(chain.stream(example.QUESTION))
    assert text.startswith("Colorful socks")
    trace_spans = spans()
    provider_llm = one(trace_spans, CHAT, "CLIENT")
    assert provider_llm.attributes["genai_lens.stream.end_reason"] == "exhausted"
    assert ancestors(trace_spans, provider_llm) == [CHAT, WORKFLOW]


def test_user_span_is_the_parent_of_the_workflow(instrument, chain_factory, spans, tracer_provider):
    instrument("langchain", "openai")
    chain, _ = chain_factory()
    with tracer_provider.get_tracer("app").start_as_current_span("handle-request"):
        chain.invoke(example.QUESTION)
    trace_spans = spans()
    request = one(trace_spans, "handle-request")
    assert parent_of(trace_spans, one(trace_spans, WORKFLOW)) is request
    assert ancestors(trace_spans, one(trace_spans, CHAT, "CLIENT")) == [CHAT, WORKFLOW, "handle-request"]


def test_content_off_by_default(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, _ = chain_factory()
    chain.invoke(example.QUESTION)
    for span in spans():
        for key in span.attributes:
            assert not key.startswith(("gen_ai.retrieval.", "gen_ai.input", "gen_ai.output")), (
                span.name,
                key,
            )


def test_content_capture_records_query_and_documents(tracer_provider, chain_factory, spans, monkeypatch):
    import json

    from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
    from genai_lens.instrumentation.langchain import LangChainInstrumentor

    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    instrumentors = [LangChainInstrumentor(), ChromaDBInstrumentor()]
    for instrumentor in instrumentors:
        instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        chain, _ = chain_factory()
        chain.invoke(example.QUESTION)
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
    trace_spans = spans()
    chroma = one(trace_spans, "retrieval otel-docs", "CLIENT")
    assert chroma.attributes["gen_ai.retrieval.query.text"] == example.QUESTION
    documents = json.loads(chroma.attributes["gen_ai.retrieval.documents"])
    assert [d["id"] for d in documents] and all(isinstance(d["score"], float) for d in documents)
    assert documents[0]["content"] in example.DOCUMENTS.values()
    retriever = one(trace_spans, "retrieval ChromaRetriever")
    assert json.loads(retriever.attributes["gen_ai.retrieval.documents"])[0]["id"] == documents[0]["id"]
    llm = one(trace_spans, CHAT, "INTERNAL")
    messages = json.loads(llm.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in messages] == ["system", "user"]
    assert json.loads(llm.attributes["gen_ai.output.messages"])[0]["finish_reason"] == "stop"


def test_tool_and_failed_step_spans(instrument, spans):
    instrument("langchain")

    @tool
    def word_count(text: str) -> int:
        """Count the words in a text."""
        return len(text.split())

    assert word_count.invoke({"text": "one two three"}) == 3
    tool_span = one(spans(), "execute_tool word_count")
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "word_count"
    assert "gen_ai.tool.call.arguments" not in tool_span.attributes  # content off

    def explode(_: str) -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        (RunnableLambda(lambda x: x) | RunnableLambda(explode)).invoke("x")
    failed = one(spans(), "explode")
    assert failed.status.status_code.name == "ERROR"
    assert failed.attributes["error.type"] == "ValueError"
    assert one(spans(), "invoke_workflow RunnableSequence").attributes["error.type"] == "ValueError"


def test_errors_inside_our_handler_never_break_the_chain(
    instrument, chain_factory, spans, monkeypatch, caplog
):
    from genai_lens.instrumentation.langchain import extract

    def broken(*args, **kwargs):
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(extract, "model_invocation", broken)
    monkeypatch.setattr(extract, "retrieved_documents", broken)
    instrument("langchain", "openai", "chromadb")
    chain, _ = chain_factory()
    with caplog.at_level(logging.DEBUG, logger="genai_lens.instrumentation"):
        answer = chain.invoke(example.QUESTION)
    assert answer.startswith("### OpenTelemetry")
    assert "genai-lens instrumentation error" in caplog.text
    assert "instrumentation bug" not in caplog.text  # only the exception type is logged
    names = [s.name for s in spans()]
    assert WORKFLOW in names and "retrieval ChromaRetriever" in names and "chat gpt-4o-mini" in names


def test_uninstrument_restores(instrument, chain_factory, spans):
    original_init = BaseCallbackManager.__init__
    import chromadb.api.models.Collection as chroma_collection

    original_query = chroma_collection.Collection.query
    instrumentors = instrument("langchain", "chromadb")
    assert BaseCallbackManager.__init__ is not original_init
    for instrumentor in instrumentors:
        instrumentor.uninstrument()
    assert BaseCallbackManager.__init__ is original_init
    assert chroma_collection.Collection.query is original_query
    chain, _ = chain_factory()
    chain.invoke(example.QUESTION)
    assert spans() == []


def test_abandoned_stream_gives_the_context_back(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, _ = chain_factory(LANGCHAIN_STREAM_CASSETTE)
    stream = chain.stream(example.QUESTION)
    assert next(stream) == ""  # the first chunk (role only); the consumer stops here
    stream.close()
    # the autouse fixture checks that no span stays current; every span we started has ended
    names = [s.name for s in spans()]
    assert WORKFLOW in names and "chat gpt-4o-mini" in names
    workflow = one(spans(), WORKFLOW)
    assert workflow.end_time is not None
    assert workflow.status.status_code.name == "UNSET"  # stopping early is not an error


def test_async_stream_keeps_nesting(instrument, chain_factory, spans):
    instrument("langchain", "openai", "chromadb")
    chain, _ = chain_factory(LANGCHAIN_STREAM_CASSETTE)

    async def consume() -> str:
        return "".join([chunk async for chunk in chain.astream(example.QUESTION)])

    assert asyncio.run(consume()).startswith("Colorful socks")
    trace_spans = spans()
    assert ancestors(trace_spans, one(trace_spans, CHAT, "CLIENT")) == [CHAT, WORKFLOW]
    assert ancestors(trace_spans, one(trace_spans, "retrieval otel-docs"))[-1] == WORKFLOW
