"""LlamaIndex query engine (retriever on in-memory Qdrant -> synthesizer -> LLM on the openai SDK) with real
llama-index-core, qdrant-client and openai over HTTP to a replay server: nesting, one trace, single counting.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import rag_llamaindex as example
from conftest import LLAMAINDEX_CASSETTE, ancestors, by_name, one, parent_of, served_usage, usage_sum
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.instrumentation import get_dispatcher

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV

WORKFLOW = "invoke_workflow RetrieverQueryEngine.query"
CHAT = "chat gpt-3.5-turbo"
ANSWER = "The author worked on writing and programming before college."


@pytest.fixture
def engine(replay):
    server = replay(LLAMAINDEX_CASSETTE)
    return example.build_query_engine(server.base_url + "/v1"), server


def query_trace(spans, workflow_name=WORKFLOW):
    workflow = one(spans(), workflow_name)
    return workflow, [s for s in spans() if s.context.trace_id == workflow.context.trace_id]


def test_all_instrumented_one_trace_nested_and_tokens_counted_once(instrument, engine, spans):
    instrument("llama_index", "openai", "qdrant")
    query_engine, server = engine
    assert str(query_engine.query(example.QUESTION)) == ANSWER
    workflow, trace_spans = query_trace(spans)
    assert workflow.parent is None and workflow.attributes["gen_ai.operation.name"] == "invoke_workflow"

    qdrant = one(trace_spans, f"retrieval {example.COLLECTION}", "CLIENT")
    assert ancestors(trace_spans, qdrant)[:2] == ["QdrantRetriever._retrieve", "retrieval QdrantRetriever"]
    assert qdrant.attributes["db.system.name"] == "qdrant"
    assert qdrant.attributes["db.operation.name"] == "query_points"
    assert qdrant.attributes["db.response.returned_rows"] == 2
    retriever = one(trace_spans, "retrieval QdrantRetriever")
    assert retriever.attributes["db.response.returned_rows"] == 2
    embeddings = [s for s in trace_spans if s.name == "embeddings hashing-64"]
    assert embeddings and all(s.attributes["gen_ai.operation.name"] == "embeddings" for s in embeddings)

    framework_llm = one(trace_spans, CHAT, "INTERNAL")
    provider_llm = one(trace_spans, CHAT, "CLIENT")
    assert parent_of(trace_spans, provider_llm) is framework_llm
    assert ancestors(trace_spans, framework_llm)[-1] == WORKFLOW
    assert framework_llm.attributes["genai_lens.usage.recorded_by"] == "provider_span"
    carriers = [s for s in trace_spans if "gen_ai.usage.input_tokens" in s.attributes]
    assert carriers == [provider_llm]
    assert usage_sum(trace_spans) == served_usage(server) == (2070, 10)


def test_framework_only_carries_usage_itself(instrument, engine, spans, metric_points):
    instrument("llama_index", "qdrant")
    query_engine, server = engine
    query_engine.query(example.QUESTION)
    _, trace_spans = query_trace(spans)
    assert by_name(trace_spans, CHAT, "CLIENT") == []
    llm = one(trace_spans, CHAT, "INTERNAL")
    assert llm.attributes["genai_lens.usage.recorded_by"] == "framework_span"
    assert llm.attributes["gen_ai.response.model"] == "gpt-3.5-turbo-0125"
    assert usage_sum(trace_spans) == served_usage(server) == (2070, 10)
    assert sorted(p.sum for p in metric_points()["gen_ai.client.token.usage"]) == [10, 2070]


def test_provider_only(instrument, engine, spans):
    instrument("openai")
    query_engine, server = engine
    query_engine.query(example.QUESTION)
    assert [(s.name, s.kind.name) for s in spans()] == [(CHAT, "CLIENT")]
    assert usage_sum(spans()) == served_usage(server)


def test_nested_framework_model_calls_count_once(instrument, engine, spans):
    """``complete`` calls ``chat`` on the same LLM: two framework model spans, one usage."""
    instrument("llama_index")
    query_engine, server = engine
    llm = query_engine._response_synthesizer._llm
    assert llm.complete(example.QUESTION).text == ANSWER
    complete = one(spans(), "text_completion gpt-3.5-turbo")
    chat = one(spans(), CHAT)
    assert parent_of(spans(), chat) is complete
    assert chat.attributes["genai_lens.usage.recorded_by"] == "framework_span"
    assert complete.attributes["genai_lens.usage.recorded_by"] == "nested_framework_span"
    assert usage_sum(spans()) == served_usage(server)


def test_async_query_keeps_nesting(instrument, engine, spans):
    instrument("llama_index", "openai", "qdrant")
    query_engine, server = engine
    assert str(asyncio.run(query_engine.aquery(example.QUESTION))) == ANSWER
    workflow, trace_spans = query_trace(spans, "invoke_workflow RetrieverQueryEngine.aquery")
    provider_llm = one(trace_spans, CHAT, "CLIENT")
    assert ancestors(trace_spans, provider_llm)[0] == CHAT
    assert ancestors(trace_spans, provider_llm)[-1] == workflow.name
    assert usage_sum(trace_spans) == served_usage(server)


def test_content_off_by_default(instrument, engine, spans):
    instrument("llama_index", "qdrant")
    engine[0].query(example.QUESTION)
    for span in spans():
        keys = [
            k for k in span.attributes if k.startswith(("gen_ai.retrieval.", "gen_ai.input", "gen_ai.output"))
        ]
        assert keys == [], span.name


def test_content_capture_records_query_documents_messages(instrument, engine, spans, monkeypatch):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")  # read at instrument() time
    instrument("llama_index", "qdrant")
    engine[0].query(example.QUESTION)
    qdrant = one(spans(), f"retrieval {example.COLLECTION}")
    documents = json.loads(qdrant.attributes["gen_ai.retrieval.documents"])
    assert len(documents) == 2 and documents[0]["content"] in example.PASSAGES
    assert documents[0]["score"] >= documents[1]["score"]
    retriever = one(spans(), "retrieval QdrantRetriever")
    assert retriever.attributes["gen_ai.retrieval.query.text"] == example.QUESTION
    llm = one(spans(), CHAT)
    assert json.loads(llm.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == ANSWER
    assert json.loads(llm.attributes["gen_ai.input.messages"])[0]["role"] == "system"


def test_errors_inside_our_handler_never_break_the_query(instrument, engine, spans, monkeypatch, caplog):
    from genai_lens.instrumentation.llama_index import extract

    def broken(*args, **kwargs):
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(extract, "model_invocation", broken)
    monkeypatch.setattr(extract, "retrieved_documents", broken)
    instrument("llama_index", "openai")
    query_engine, _ = engine
    with caplog.at_level(logging.WARNING, logger="genai_lens.instrumentation"):
        assert str(query_engine.query(example.QUESTION)) == ANSWER
    assert "genai-lens instrumentation error" in caplog.text
    workflow, trace_spans = query_trace(spans)
    assert ancestors(trace_spans, one(trace_spans, CHAT, "CLIENT"))[-1] == WORKFLOW


def test_uninstrument_restores(instrument, engine, spans):
    dispatcher = get_dispatcher()
    before = list(dispatcher.span_handlers)
    (instrumentor,) = instrument("llama_index")
    assert len(dispatcher.span_handlers) == len(before) + 1
    instrumentor.uninstrument()
    assert dispatcher.span_handlers == before
    engine[0].query(example.QUESTION)
    assert spans() == []


STREAM_CASSETTE = "openai/chat_streaming_include_usage_gpt4.yaml"  # SSE, the last chunk carries the usage
STREAM_CHAT = "chat gpt-4"
STREAM_TEXT = '"This is a test."'


@pytest.fixture
def streaming_llm(replay):
    server = replay(STREAM_CASSETTE)
    return example.OpenAIChatLLM(model="gpt-4", base_url=server.base_url + "/v1"), server


def _say_this_is_a_test() -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content="Say this is a test")]


def test_stream_chat_nests_the_provider_span_and_counts_tokens_once(instrument, streaming_llm, spans):
    instrument("llama_index", "openai")
    llm, server = streaming_llm
    stream = llm.stream_chat(_say_this_is_a_test())
    assert spans() == []  # nothing has been asked yet: the provider is called while the stream is read
    assert "".join(chunk.delta for chunk in stream) == STREAM_TEXT
    framework_llm = one(spans(), STREAM_CHAT, "INTERNAL")
    provider_llm = one(spans(), STREAM_CHAT, "CLIENT")
    assert parent_of(spans(), provider_llm) is framework_llm
    assert framework_llm.end_time >= provider_llm.end_time  # the framework span covers the whole stream
    assert framework_llm.attributes["gen_ai.request.stream"] is True
    assert framework_llm.attributes["genai_lens.usage.recorded_by"] == "provider_span"
    assert [s for s in spans() if "gen_ai.usage.input_tokens" in s.attributes] == [provider_llm]
    assert usage_sum(spans()) == served_usage(server) == (12, 5)
    assert server.requests[0].json["stream"] is True


def test_stream_chat_without_provider_instrumentor_counts_the_last_chunk_usage(
    instrument, streaming_llm, spans, metric_points
):
    instrument("llama_index")
    llm, server = streaming_llm
    assert "".join(chunk.delta for chunk in llm.stream_chat(_say_this_is_a_test())) == STREAM_TEXT
    framework_llm = one(spans(), STREAM_CHAT)
    assert framework_llm.attributes["genai_lens.usage.recorded_by"] == "framework_span"
    assert framework_llm.attributes["gen_ai.response.model"] == "gpt-4-0613"
    assert usage_sum(spans()) == served_usage(server) == (12, 5)
    assert sorted(p.sum for p in metric_points()["gen_ai.client.token.usage"]) == [5, 12]


def test_streaming_query_engine_one_trace_tokens_once(instrument, replay, spans):
    from opentelemetry import trace

    llama, *_ = instrument("llama_index", "openai", "qdrant")
    server = replay(STREAM_CASSETTE)
    query_engine = example.build_query_engine(server.base_url + "/v1", model="gpt-4", streaming=True)
    response = query_engine.query(example.QUESTION)
    assert not trace.get_current_span().get_span_context().is_valid  # the caller's context is back
    assert by_name(spans(), WORKFLOW) == []  # the query is still running: its answer is being streamed
    assert "".join(response.response_gen) == STREAM_TEXT

    workflow, trace_spans = query_trace(spans)
    framework_llm = one(trace_spans, STREAM_CHAT, "INTERNAL")
    provider_llm = one(trace_spans, STREAM_CHAT, "CLIENT")
    assert parent_of(trace_spans, provider_llm) is framework_llm
    assert ancestors(trace_spans, framework_llm)[-3:] == [
        "CompactAndRefine.synthesize",
        "RetrieverQueryEngine._query",
        WORKFLOW,
    ]
    assert (
        one(trace_spans, f"retrieval {example.COLLECTION}", "CLIENT").context.trace_id
        == workflow.context.trace_id
    )
    assert workflow.end_time >= provider_llm.end_time
    assert [s for s in trace_spans if "gen_ai.usage.input_tokens" in s.attributes] == [provider_llm]
    assert usage_sum(trace_spans) == served_usage(server) == (12, 5)
    assert _no_run_left(llama)


def test_abandoned_streams_end_their_spans_and_give_the_context_back(instrument, streaming_llm, spans):
    import gc

    llama, _ = instrument("llama_index", "openai")
    llm, _ = streaming_llm
    stream = llm.stream_chat(_say_this_is_a_test())
    assert next(stream).delta == ""  # the first chunk (role only); the consumer stops here
    stream.close()
    framework_llm = one(spans(), STREAM_CHAT, "INTERNAL")
    assert framework_llm.status.status_code.name == "UNSET"  # stopping early is not an error

    unread = llm.stream_chat(_say_this_is_a_test())  # never read: no request, and the span still ends
    del unread
    gc.collect()
    assert len(by_name(spans(), STREAM_CHAT, "INTERNAL")) == 2
    assert _no_run_left(llama)  # and the autouse fixture checks that no span of ours stays current


def _no_run_left(llama_index_instrumentor) -> bool:
    """Every run the span handler opened has ended and given its context back (none waits to detach)."""
    runs = llama_index_instrumentor._handlers[0]._runs
    return len(runs) == 0 and not runs._pending and not runs._kept


@pytest.mark.parametrize("provider_instrumented", [True, False], ids=["with-openai", "llama-index-only"])
def test_stream_complete_over_stream_chat_counts_once(
    instrument, streaming_llm, spans, provider_instrumented
):
    """``stream_complete`` starts ``stream_chat`` only while it is read: still its child, one usage."""
    llama, *_ = instrument("llama_index", *(["openai"] if provider_instrumented else []))
    llm, server = streaming_llm
    assert "".join(chunk.delta for chunk in llm.stream_complete("Say this is a test")) == STREAM_TEXT
    complete = one(spans(), "text_completion gpt-4")
    chat = one(spans(), STREAM_CHAT, "INTERNAL")
    assert parent_of(spans(), chat) is complete
    if provider_instrumented:
        assert parent_of(spans(), one(spans(), STREAM_CHAT, "CLIENT")) is chat
        assert chat.attributes["genai_lens.usage.recorded_by"] == "provider_span"
        assert complete.attributes["genai_lens.usage.recorded_by"] == "provider_span"
    else:
        assert chat.attributes["genai_lens.usage.recorded_by"] == "framework_span"
        assert complete.attributes["genai_lens.usage.recorded_by"] == "nested_framework_span"
    assert usage_sum(spans()) == served_usage(server) == (12, 5)
    assert _no_run_left(llama)


def test_async_stream_chat_nests_and_counts_once(instrument, streaming_llm, spans):
    llama, _ = instrument("llama_index", "openai")
    llm, server = streaming_llm

    async def consume() -> str:
        stream = await llm.astream_chat(_say_this_is_a_test())
        return "".join([chunk.delta async for chunk in stream])

    assert asyncio.run(consume()) == STREAM_TEXT
    provider_llm = one(spans(), STREAM_CHAT, "CLIENT")
    outer, inner = sorted(by_name(spans(), STREAM_CHAT, "INTERNAL"), key=lambda s: s.start_time)
    assert (
        parent_of(spans(), provider_llm) is inner and parent_of(spans(), inner) is outer
    )  # astream -> stream
    assert [s for s in spans() if "gen_ai.usage.input_tokens" in s.attributes] == [provider_llm]
    assert usage_sum(spans()) == served_usage(server) == (12, 5)
    assert _no_run_left(llama)
