"""RAG with LlamaIndex (query engine -> retriever on in-memory Qdrant -> OpenAI chat), traced by genai-lens.

    OPENAI_BASE_URL=http://127.0.0.1:<port>/v1 OPENAI_API_KEY=x python examples/rag_llamaindex.py
    opentelemetry-instrument --traces_exporter otlp python examples/rag_llamaindex.py

Without ``OPENAI_BASE_URL`` the example serves the recorded cassette itself on a loopback port
(``genai_lens.replay``). The LLM is a small LlamaIndex ``CustomLLM`` over the official ``openai`` SDK (the
``llama-index-llms-openai`` package pins ``openai<3``); embeddings are a deterministic hashing function.
Under ``opentelemetry-instrument`` one trace per question: ``invoke_workflow RetrieverQueryEngine.query``
-> ``retrieval QdrantRetriever`` -> ``embeddings`` + ``retrieval paul-graham`` (Qdrant), then the
synthesizer -> ``chat gpt-3.5-turbo`` (LlamaIndex) -> ``chat gpt-3.5-turbo`` (OpenAI SDK, with the usage).
``build_query_engine(..., streaming=True)`` streams the answer instead (``stream_chat``; the provider
reports the usage in the last chunk). Shared offline setup: ``examples/_loopback.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import openai
from _loopback import DIMENSIONS, api_key, cassette, hashing_embedding, provider_base_url
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
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

CASSETTE = cassette("llamaindex/rag_query_chroma_openai.yaml")
QUESTION = "What did the author do growing up?"
COLLECTION = "paul-graham"
PASSAGES = [
    "Before college the two main things the author worked on were writing and programming.",
    "He wrote short stories as a teenager; they had hardly any plot.",
    "His first programs ran on an IBM 1401 in the basement of his junior high school.",
    "Later he founded Viaweb and then Y Combinator with friends.",
]


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

    def _messages(self, messages: Any) -> list[dict[str, str]]:
        return [{"role": m.role.value, "content": m.content or ""} for m in messages]

    @llm_chat_callback()
    def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        completion = self._client.chat.completions.create(model=self.model, messages=self._messages(messages))
        text = completion.choices[0].message.content or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=completion)

    @llm_chat_callback()
    def stream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseGen:
        """Stream the answer; the last chunk carries the usage (``include_usage``)."""

        def chunks() -> Iterator[ChatResponse]:
            stream = self._client.chat.completions.create(
                model=self.model,
                messages=self._messages(messages),
                stream=True,
                stream_options={"include_usage": True},
            )
            text = ""
            for chunk in stream:
                delta = (chunk.choices[0].delta.content or "") if chunk.choices else ""
                text += delta
                message = ChatMessage(role=MessageRole.ASSISTANT, content=text)
                yield ChatResponse(message=message, delta=delta, raw=chunk)

        return chunks()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
        return CompletionResponse(text=response.message.content or "", raw=response.raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def chunks() -> Iterator[CompletionResponse]:
            for response in self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)]):
                yield CompletionResponse(
                    text=response.message.content or "", delta=response.delta, raw=response.raw
                )

        return chunks()


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


def build_query_engine(
    base_url: str | None = None, *, model: str = "gpt-3.5-turbo", streaming: bool = False
) -> RetrieverQueryEngine:
    embed_model = HashingEmbedding()
    llm = OpenAIChatLLM(model=model, base_url=base_url, api_key=api_key())
    retriever = QdrantRetriever(build_store(embed_model), embed_model)
    return RetrieverQueryEngine.from_args(retriever, llm=llm, streaming=streaming)


def main(question: str = QUESTION) -> str:
    """Answer ``question`` with the query engine; prints and returns the answer."""
    with ExitStack() as stack:
        answer = str(build_query_engine(provider_base_url(stack, CASSETTE)).query(question))
    print(f"Q: {question}\nA: {answer}")
    return answer


if __name__ == "__main__":
    main()
