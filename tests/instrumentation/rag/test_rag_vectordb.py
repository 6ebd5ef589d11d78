"""ChromaDB (EphemeralClient) and Qdrant (":memory:", sync and async) as real in-process stores."""

from __future__ import annotations

import asyncio
import json

import chromadb.api.models.Collection as chroma_collection
import pytest
from conftest import INSTRUMENTORS, check_captured_chroma_query, one
from langchain_core.callbacks.base import BaseCallbackManager
from llama_index.core.instrumentation import get_dispatcher
from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client import qdrant_client as qdrant_module
from rag_langchain_chroma import HashingEmbeddingFunction, hashing_embedding

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV

TEXTS = {"a": "red socks with stripes", "b": "blue socks", "c": "tomato soup recipe"}


@pytest.fixture
def chroma(chroma_client, collection_name):
    return chroma_client.get_or_create_collection(
        collection_name, embedding_function=HashingEmbeddingFunction()
    )


def test_chroma_operations_are_db_spans_and_query_is_retrieval(instrument, chroma, spans, metric_points):
    instrument("chromadb")
    name = chroma.name
    chroma.add(ids=list(TEXTS), documents=list(TEXTS.values()))
    chroma.upsert(ids=["d"], documents=["green socks"])
    assert len(chroma.get(ids=["a", "b"])["ids"]) == 2
    result = chroma.query(query_texts=["striped socks"], n_results=3)
    chroma.delete(ids=["c"])

    add = one(spans(), f"add {name}", "CLIENT")
    assert add.attributes["db.system.name"] == "chromadb"
    assert add.attributes["db.collection.name"] == name
    assert add.attributes["db.operation.name"] == "add"
    assert add.attributes["db.operation.batch.size"] == 3
    assert "gen_ai.operation.name" not in add.attributes
    assert one(spans(), f"get {name}").attributes["db.response.returned_rows"] == 2
    assert one(spans(), f"upsert {name}").attributes["db.operation.name"] == "upsert"
    assert one(spans(), f"delete {name}").attributes["db.operation.name"] == "delete"

    query = one(spans(), f"retrieval {name}", "CLIENT")
    assert query.attributes["gen_ai.operation.name"] == "retrieval"
    assert query.attributes["gen_ai.data_source.id"] == name
    assert query.attributes["db.operation.name"] == "query"
    assert query.attributes["db.response.returned_rows"] == len(result["ids"][0]) == 3
    # content off by default: no query text, no documents
    assert "gen_ai.retrieval.query.text" not in query.attributes
    assert "gen_ai.retrieval.documents" not in query.attributes
    durations = metric_points()["db.client.operation.duration"]
    assert len(durations) == 5 and all(p.count == 1 and p.sum > 0 for p in durations)


def test_chroma_content_capture(instrument, chroma, spans, monkeypatch):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    instrument("chromadb")
    chroma.add(ids=list(TEXTS), documents=list(TEXTS.values()))
    result = chroma.query(query_texts=["red socks"], n_results=2)
    query = one(spans(), f"retrieval {chroma.name}")
    check_captured_chroma_query(query, "red socks", result, TEXTS)


def test_chroma_error_is_recorded_and_raised(instrument, chroma, spans):
    instrument("chromadb")
    with pytest.raises(Exception) as raised:
        chroma.add(ids=["x", "x"], documents=["one", "two"])  # duplicate ids are rejected
    add = one(spans(), f"add {chroma.name}")
    assert add.status.status_code.name == "ERROR"
    assert add.attributes["error.type"] == type(raised.value).__qualname__


def _qdrant_points() -> list[models.PointStruct]:
    return [
        models.PointStruct(id=i, vector=hashing_embedding(text), payload={"text": text})
        for i, text in enumerate(TEXTS.values())
    ]


def test_qdrant_operations_and_retrieval(instrument, spans, collection_name):
    instrument("qdrant")
    client = QdrantClient(":memory:")
    client.create_collection(
        collection_name, vectors_config=models.VectorParams(size=64, distance=models.Distance.COSINE)
    )
    client.upsert(collection_name, points=_qdrant_points())
    hits = client.query_points(collection_name, query=hashing_embedding("red socks"), limit=2).points
    assert len(client.retrieve(collection_name, ids=[0, 1])) == 2
    records, _ = client.scroll(collection_name, limit=10)
    client.delete(collection_name, points_selector=models.PointIdsList(points=[2]))

    upsert = one(spans(), f"upsert {collection_name}", "CLIENT")
    assert upsert.attributes["db.system.name"] == "qdrant"
    assert upsert.attributes["db.operation.batch.size"] == 3
    query = one(spans(), f"retrieval {collection_name}", "CLIENT")
    assert query.attributes["gen_ai.operation.name"] == "retrieval"
    assert query.attributes["db.operation.name"] == "query_points"
    assert query.attributes["db.response.returned_rows"] == len(hits) == 2
    assert "gen_ai.retrieval.documents" not in query.attributes
    assert one(spans(), f"retrieve {collection_name}").attributes["db.response.returned_rows"] == 2
    assert one(spans(), f"scroll {collection_name}").attributes["db.response.returned_rows"] == len(records)
    assert one(spans(), f"delete {collection_name}").attributes["db.operation.name"] == "delete"
    # one span per call: the local backend the client delegates to is not instrumented twice
    assert len(spans()) == 5


def test_qdrant_async_with_content(instrument, spans, collection_name, monkeypatch):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    instrument("qdrant")

    async def run() -> list[models.ScoredPoint]:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection(
            collection_name, vectors_config=models.VectorParams(size=64, distance=models.Distance.COSINE)
        )
        await client.upsert(collection_name, points=_qdrant_points())
        response = await client.query_points(collection_name, query=hashing_embedding("blue socks"), limit=2)
        return response.points

    hits = asyncio.run(run())
    query = one(spans(), f"retrieval {collection_name}")
    documents = json.loads(query.attributes["gen_ai.retrieval.documents"])
    assert [d["id"] for d in documents] == [str(h.id) for h in hits]
    assert [d["score"] for d in documents] == pytest.approx([h.score for h in hits])
    assert documents[0]["content"] == "blue socks"


def test_uninstrument_restores_originals(instrument, spans, chroma):
    originals = (chroma_collection.Collection.query, qdrant_module.QdrantClient.query_points)
    instrumentors = instrument("chromadb", "qdrant")
    assert chroma_collection.Collection.query is not originals[0]
    for instrumentor in instrumentors:
        instrumentor.uninstrument()
    assert (chroma_collection.Collection.query, qdrant_module.QdrantClient.query_points) == originals
    chroma.add(ids=["z"], documents=["zebra"])
    assert spans() == []


def test_errors_inside_our_hooks_never_break_the_store(instrument, chroma, spans, monkeypatch, caplog):
    from genai_lens.instrumentation.chromadb import operations

    def broken(*args, **kwargs):
        raise RuntimeError("instrumentation bug")

    monkeypatch.setitem(operations.OPERATIONS, "query", (operations.describe_query, broken))
    monkeypatch.setitem(operations.OPERATIONS, "add", (broken, operations.read_nothing))
    instrument("chromadb")
    chroma.add(ids=list(TEXTS), documents=list(TEXTS.values()))  # describe fails: no span, call goes through
    result = chroma.query(query_texts=["red socks"], n_results=2)  # result reading fails: span still ends
    assert len(result["ids"][0]) == 2 and chroma.count() == 3
    assert [s.name for s in spans()] == [f"retrieval {chroma.name}", f"count {chroma.name}"]
    assert "genai-lens instrumentation error" in caplog.text


def test_a_new_instrumentor_object_uninstruments_what_an_earlier_one_instrumented(
    tracer_provider, chroma, spans
):
    """``BaseInstrumentor`` is a singleton whose ``__init__`` runs on every ``XInstrumentor()``."""
    rag = [INSTRUMENTORS[name] for name in ("chromadb", "qdrant", "langchain", "llama_index")]
    originals = (
        chroma_collection.Collection.query,
        qdrant_module.QdrantClient.query_points,
        BaseCallbackManager.__init__,
    )
    dispatcher = get_dispatcher()
    handlers = (list(dispatcher.span_handlers), list(dispatcher.event_handlers))
    for cls in rag:
        cls().instrument(tracer_provider=tracer_provider)
    try:
        assert chroma_collection.Collection.query is not originals[0]
        assert len(dispatcher.span_handlers) == len(handlers[0]) + 1
    finally:
        for cls in rag:
            cls().uninstrument()
    assert (
        chroma_collection.Collection.query,
        qdrant_module.QdrantClient.query_points,
        BaseCallbackManager.__init__,
    ) == originals
    assert (dispatcher.span_handlers, dispatcher.event_handlers) == handlers
    chroma.add(ids=["z"], documents=["zebra"])
    assert spans() == []
