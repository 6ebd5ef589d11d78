"""ChromaDB over HTTP: a real Chroma server (``chroma run``, shipped with chromadb) on a loopback port,
reached with ``AsyncHttpClient`` (``AsyncCollection``) and ``HttpClient`` (``Collection``)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
from conftest import check_captured_chroma_query, one, parent_of
from rag_langchain_chroma import HashingEmbeddingFunction

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV

TEXTS = {"a": "red socks with stripes", "b": "blue socks", "c": "tomato soup recipe"}
_START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"chroma server not up after {_START_TIMEOUT}s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A Chroma server on 127.0.0.1 (a port probed free just before; the CLI cannot bind port 0 itself)."""
    directory = tmp_path_factory.mktemp("chroma-server")
    log = directory / "server.log"
    cli = Path(sys.executable).with_name("chroma")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | {
        "ANONYMIZED_TELEMETRY": "False"
    }
    port = _free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(cli), "run", "--path", str(directory / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_until_up(process, port, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_async_http_client_collection_spans(instrument, spans, collection_name, chroma_port, tracer_provider):
    instrument("chromadb")
    tracer = tracer_provider.get_tracer("app")

    async def run() -> tuple[dict[str, Any], int]:
        client = await chromadb.AsyncHttpClient(host="127.0.0.1", port=chroma_port)
        collection = await client.create_collection(
            collection_name, embedding_function=HashingEmbeddingFunction()
        )
        with tracer.start_as_current_span("handle-request"):
            await collection.add(ids=list(TEXTS), documents=list(TEXTS.values()))
            result = await collection.query(query_texts=["striped socks"], n_results=2)
            assert len((await collection.get(ids=["a", "b"]))["ids"]) == 2
            await collection.delete(ids=["c"])
            count = await collection.count()
        await client.delete_collection(collection_name)
        return result, count

    result, count = asyncio.run(run())
    assert count == 2
    request = one(spans(), "handle-request")
    ours = [s for s in spans() if s is not request]
    assert sorted(s.name.split()[0] for s in ours) == ["add", "count", "delete", "get", "retrieval"]
    for span in ours:  # each call nests under the caller's span, across awaits
        assert span.kind.name == "CLIENT" and parent_of(spans(), span) is request
        assert span.attributes["db.system.name"] == "chromadb"
        assert span.attributes["db.collection.name"] == collection_name
    add = one(spans(), f"add {collection_name}")
    assert add.attributes["db.operation.batch.size"] == 3
    query = one(spans(), f"retrieval {collection_name}")
    assert query.attributes["gen_ai.operation.name"] == "retrieval"
    assert query.attributes["gen_ai.data_source.id"] == collection_name
    assert query.attributes["db.response.returned_rows"] == len(result["ids"][0]) == 2
    assert "gen_ai.retrieval.documents" not in query.attributes  # content off by default
    assert one(spans(), f"get {collection_name}").attributes["db.response.returned_rows"] == 2


def test_async_http_client_content_capture_and_errors(
    instrument, spans, collection_name, chroma_port, monkeypatch
):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    instrument("chromadb")

    async def run() -> tuple[dict[str, Any], BaseException]:
        client = await chromadb.AsyncHttpClient(host="127.0.0.1", port=chroma_port)
        collection = await client.create_collection(
            collection_name, embedding_function=HashingEmbeddingFunction()
        )
        await collection.add(ids=list(TEXTS), documents=list(TEXTS.values()))
        result = await collection.query(query_texts=["red socks"], n_results=2)
        try:
            await collection.get(where={"$bogus": 1})  # an unknown operator: the call fails
        except Exception as exc:
            error: BaseException = exc
        else:
            raise AssertionError("an invalid filter was accepted")
        await client.delete_collection(collection_name)
        return result, error

    result, error = asyncio.run(run())
    query = one(spans(), f"retrieval {collection_name}")
    check_captured_chroma_query(query, "red socks", result, TEXTS)
    failed = one(spans(), f"get {collection_name}")
    assert failed.status.status_code.name == "ERROR"
    assert failed.attributes["error.type"] == type(error).__qualname__


def test_http_client_sync_collection(instrument, spans, collection_name, chroma_port):
    instrument("chromadb")
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_port)
    collection = client.create_collection(collection_name, embedding_function=HashingEmbeddingFunction())
    collection.upsert(ids=list(TEXTS), documents=list(TEXTS.values()))
    hits = collection.query(query_texts=["tomato soup"], n_results=1)
    client.delete_collection(collection_name)
    assert hits["ids"][0] == ["c"]
    assert one(spans(), f"upsert {collection_name}").attributes["db.operation.batch.size"] == 3
    assert one(spans(), f"retrieval {collection_name}").attributes["db.response.returned_rows"] == 1
