"""RAG with LlamaIndex (query engine -> retriever on in-memory Qdrant -> OpenAI chat), traced by genai-lens.

    OPENAI_BASE_URL=http://127.0.0.1:<port>/v1 OPENAI_API_KEY=x python examples/rag_llamaindex.py
    opentelemetry-instrument --traces_exporter otlp python examples/rag_llamaindex.py

Without ``OPENAI_BASE_URL`` the example serves the recorded cassette itself on a loopback port
(``genai_lens.replay``). The LLM is a small LlamaIndex ``CustomLLM`` over the official ``openai`` SDK (the
``llama-index-llms-openai`` package pins ``openai<3``); embeddings are a deterministic hashing function.
Under ``opentelemetry-instrument`` one trace per question: ``invoke_workflow RetrieverQueryEngine.query``
-> ``retrieval QdrantRetriever`` -> ``embeddings`` + ``retrieval paul-graham`` (Qdrant), then the
synthesizer -> ``chat gpt-3.5-turbo`` (LlamaIndex) -> ``chat gpt-3.5-turbo`` (OpenAI SDK, with the usage).
"""

from __future__ import annotations

import hashlib
import math
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import openai
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr
from qdrant_client import QdrantClient, models

CASSETTE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "cassettes"
    / "llamaindex"
    / ("rag_query_chroma_openai.yaml")
)
QUESTION = "What did the author do growing up?"
COLLECTION = "paul-graham"
PASSAGES = [
    "Before college the two main things the author worked on were writing and programming.",
    "He wrote short stories as a teenager; they had hardly any plot.",
    "His first programs ran on an IBM 1401 in the basement of his junior high school.",
    "Later he founded Viaweb and then Y Combinator with friends.",
]
DIMENSIONS = 64


def hashing_embedding(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """A deterministic bag-of-words embedding: each word hashed into one of ``dimensions`` buckets."""
    vector = [0.0] * dimensions
    for word in text.lower().split():
        digest = hashlib.blake2b(word.strip(".,?!;:").encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "little") % dimensions] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class HashingEmbedding(BaseEmbedding):
    """LlamaIndex embedding model over ``hashing_embedding`` (no download, no network)."""

    model_name: str = "hashing-64"

    def _get_query_embedding(self, query: str) -> list[float]:
        return hashing_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hashing_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return hashing_embedding(text)


class OpenAIChatLLM(CustomLLM):
    """A minimal LlamaIndex chat LLM on the ``openai`` SDK (chat completions)."""

    model: str = "gpt-3.5-turbo"
    base_url: str | None = None
    api_key: str = "x"
    _client: Any = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, is_chat_model=True, context_window=16385, num_output=256)

    @llm_chat_callback()
    def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        completion = self._client.chat.completions.create(
            model=self.model,
            messages=[{"role": m.role.value, "content": m.content or ""} for m in messages],
        )
        text = completion.choices[0].message.content or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=completion)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
        return CompletionResponse(text=response.message.content or "", raw=response.raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        response = self.complete(prompt)
        yield CompletionResponse(text=response.text, delta=response.text, raw=response.raw)


class QdrantRetriever(BaseRetriever):
    """Top-k passages from one Qdrant collection."""

    def __init__(self, client: QdrantClient, embed_model: BaseEmbedding, k: int = 2) -> None:
        super().__init__()
        self._qdrant = client
        self._embed_model = embed_model
        self._k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = self._embed_model.get_query_embedding(query_bundle.query_str)
        hits = self._qdrant.query_points(COLLECTION, query=vector, limit=self._k, with_payload=True).points
        return [
            NodeWithScore(node=TextNode(id_=str(h.id), text=h.payload["text"]), score=h.score) for h in hits
        ]


def build_store(embed_model: BaseEmbedding) -> QdrantClient:
    client = QdrantClient(":memory:")
    client.create_collection(
        COLLECTION, vectors_config=models.VectorParams(size=DIMENSIONS, distance=models.Distance.COSINE)
    )
    vectors = embed_model.get_text_embedding_batch(PASSAGES)
    client.upsert(
        COLLECTION,
        points=[
            models.PointStruct(id=i, vector=vector, payload={"text": text})
            for i, (text, vector) in enumerate(zip(PASSAGES, vectors, strict=True))
        ],
    )
    return client


def build_query_engine(base_url: str | None = None) -> RetrieverQueryEngine:
    embed_model = HashingEmbedding()
    llm = OpenAIChatLLM(base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY", "x"))
    retriever = QdrantRetriever(build_store(embed_model), embed_model)
    return RetrieverQueryEngine.from_args(retriever, llm=llm)


def main(question: str = QUESTION) -> str:
    """Answer ``question`` with the query engine; prints and returns the answer."""
    with ExitStack() as stack:
        base_url = os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            from genai_lens.replay import ReplayServer

            server = stack.enter_context(ReplayServer([CASSETTE.resolve()]))
            base_url = server.base_url + "/v1"
        answer = str(build_query_engine(base_url).query(question))
    print(f"Q: {question}\nA: {answer}")
    return answer


if __name__ == "__main__":
    main()
