"""How each ChromaDB collection method maps to a span: what it asks (``describe``) and what came back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.semconv._incubating.attributes import db_attributes as db

from genai_lens.instrumentation._framework.retrieval import DbCall, RetrievedDocument

SYSTEM = "chromadb"  # no db.system.name enum member for Chroma in the installed semconv


def _collection_name(instance: Any) -> str | None:
    name = getattr(instance, "name", None)
    return name if isinstance(name, str) else None


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], name: str, position: int) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else None


def _batch_size(value: Any) -> int | None:
    if value is None or isinstance(value, str):
        return 1 if isinstance(value, str) else None
    try:
        return len(value)
    except TypeError:
        return None


def _describer(
    operation: str, ids_position: int | None
) -> Callable[[Any, tuple[Any, ...], dict[str, Any]], DbCall]:
    def describe(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DbCall:
        call = DbCall(SYSTEM, operation, _collection_name(instance))
        if ids_position is not None:
            size = _batch_size(_arg(args, kwargs, "ids", ids_position))
            if size and size > 1:
                call.request_attributes[db.DB_OPERATION_BATCH_SIZE] = size
        return call

    return describe


def describe_query(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DbCall:
    call = DbCall(SYSTEM, "query", _collection_name(instance), retrieval=True)
    texts = _arg(args, kwargs, "query_texts", 1)
    if isinstance(texts, str):
        call.query_text = texts
    elif isinstance(texts, (list, tuple)) and texts:
        call.query_text = "\n".join(str(t) for t in texts)
    return call


def read_query(call: DbCall, result: Any) -> None:
    """Chroma returns one list per query: ids[q][i], distances[q][i], documents[q][i]."""
    ids = result.get("ids") or []
    distances = result.get("distances") or []
    texts = result.get("documents") or []
    documents: list[RetrievedDocument] = []
    for q, row in enumerate(ids):
        for i, doc_id in enumerate(row):
            score = distances[q][i] if q < len(distances) and distances[q] is not None else None
            text = texts[q][i] if q < len(texts) and texts[q] is not None else None
            documents.append(RetrievedDocument(doc_id, float(score) if score is not None else None, text))
    call.documents = documents


def read_get(call: DbCall, result: Any) -> None:
    ids = result.get("ids") if hasattr(result, "get") else None
    if ids is not None:
        call.returned_rows = len(ids)


def read_count(call: DbCall, result: Any) -> None:
    if isinstance(result, int):
        call.returned_rows = 1


def read_nothing(call: DbCall, result: Any) -> None:
    return None


OPERATIONS: dict[str, tuple[Any, Any]] = {
    "query": (describe_query, read_query),
    "add": (_describer("add", 0), read_nothing),
    "upsert": (_describer("upsert", 0), read_nothing),
    "update": (_describer("update", 0), read_nothing),
    "delete": (_describer("delete", 0), read_nothing),
    "get": (_describer("get", 0), read_get),
    "peek": (_describer("peek", None), read_get),
    "count": (_describer("count", None), read_count),
}
