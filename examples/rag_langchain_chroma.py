"""RAG with ChromaDB + LangChain LCEL (retrieve -> prompt -> ChatOpenAI), traced by genai-lens.

    OPENAI_BASE_URL=http://127.0.0.1:<port>/v1 OPENAI_API_KEY=x python examples/rag_langchain_chroma.py
    opentelemetry-instrument --traces_exporter otlp python examples/rag_langchain_chroma.py

Without ``OPENAI_BASE_URL`` the example serves the recorded cassette itself on a loopback port
(``genai_lens.replay``), so it runs offline. Embeddings are a tiny deterministic hashing function (no model
download); both come from ``examples/_loopback.py``. Under ``opentelemetry-instrument`` the genai-lens
entry points produce one trace per question: ``invoke_workflow`` -> ``retrieval`` (LangChain) ->
``retrieval <collection>`` (Chroma), and ``chat gpt-4o-mini`` (LangChain) -> ``chat gpt-4o-mini`` (OpenAI
SDK, the only span with token usage).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import chromadb
from _loopback import DIMENSIONS, api_key, cassette, hashing_embedding, provider_base_url
from chromadb import Documents, EmbeddingFunction, Embeddings
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from langchain_openai import ChatOpenAI

CASSETTE = cassette("langchain/chatopenai_invoke_gpt4omini.yaml")
QUESTION = "What is OpenTelemetry and what problems does it solve?"
DOCUMENTS = {
    "otel-1": "OpenTelemetry is an open-source CNCF project: APIs, SDKs and tools for traces, metrics, logs.",
    "otel-2": "It was formed by merging OpenTracing and OpenCensus into one vendor-neutral standard.",
    "otel-3": "A trace is the journey of a request; a span is one operation within that journey.",
    "otel-4": "Exporters send telemetry to backends such as Jaeger, Prometheus or commercial tools.",
    "soup-1": "Tomato soup tastes best with basil and a little cream.",
}
SYSTEM_PROMPT = "You are a helpful assistant"


class HashingEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function over ``hashing_embedding`` (Chroma's default downloads an ONNX model)."""

    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (Chroma's parameter name)
        return [hashing_embedding(text, self.dimensions) for text in input]

    @staticmethod
    def name() -> str:
        return "genai-lens-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dimensions": self.dimensions}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbeddingFunction:
        return HashingEmbeddingFunction(config.get("dimensions", DIMENSIONS))


class ChromaRetriever(BaseRetriever):
    """A LangChain retriever over one Chroma collection."""

    collection: Any
    k: int = 2

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.collection.query(query_texts=[query], n_results=self.k)
        return [
            Document(id=doc_id, page_content=text, metadata={"score": distance})
            for doc_id, text, distance in zip(
                result["ids"][0], result["documents"][0], result["distances"][0], strict=False
            )
        ]


def build_collection(client: Any = None) -> Any:
    client = client or chromadb.EphemeralClient()
    collection = client.get_or_create_collection("otel-docs", embedding_function=HashingEmbeddingFunction())
    collection.upsert(ids=list(DOCUMENTS), documents=list(DOCUMENTS.values()))
    return collection


def build_chain(collection: Any, base_url: str | None = None, http_client: Any = None) -> Any:
    retriever = ChromaRetriever(collection=collection)
    prompt = ChatPromptTemplate.from_messages(
        [("system", SYSTEM_PROMPT), ("human", "Context:\n{context}\n\nQuestion: {question}")]
    )
    model = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=base_url,
        api_key=api_key(),
        max_retries=0,
        http_client=http_client,
    )

    def join(documents: list[Document]) -> str:
        return "\n".join(d.page_content for d in documents)

    return (
        {"context": retriever | join, "question": RunnablePassthrough()} | prompt | model | StrOutputParser()
    )


def main(question: str = QUESTION) -> str:
    """Answer ``question`` with retrieve -> prompt -> ChatOpenAI; prints and returns the answer."""
    with ExitStack() as stack:
        answer = build_chain(build_collection(), provider_base_url(stack, CASSETTE)).invoke(question)
    print(f"Q: {question}\nA: {answer[:200]}{'...' if len(answer) > 200 else ''}")
    return answer


if __name__ == "__main__":
    main()
