"""How each Qdrant client method maps to a span: what it asks (``describe``) and what came back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.semconv._incubating.attributes import db_attributes as db

from genai_lens.instrumentation._framework.retrieval import DbCall, RetrievedDocument

SYSTEM = "qdrant"  # no db.system.name enum member for Qdrant in the installed semconv
_TEXT_PAYLOAD_KEYS = ("document", "text", "page_content", "content")

Describe = Callable[[Any, tuple[Any, ...], dict[str, Any]], DbCall]


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], name: str, position: int) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else None


def _collection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    name = _arg(args, kwargs, "collection_name", 0)
    return name if isinstance(name, str) else None


def _query_text(query: Any) -> str | None:
    if isinstance(query, str):
        return query
    text = getattr(query, "text", None)  # models.Document(text=..., model=...) for server-side inference
    return text if isinstance(text, str) else None


def _payload_text(payload: Any) -> str | None:
    if isinstance(payload, dict):
        for key in _TEXT_PAYLOAD_KEYS:
            value = payload.get(key)
            if isinstance(value, str):
                return value
    return None


def _scored(points: Any) -> list[RetrievedDocument]:
    return [
        RetrievedDocument(
            getattr(p, "id", None), getattr(p, "score", None), _payload_text(getattr(p, "payload", None))
        )
        for p in points or ()
    ]


def _describer(operation: str, retrieval: bool = False, batch_arg: tuple[str, int] | None = None) -> Describe:
    def describe(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> DbCall:
        call = DbCall(SYSTEM, operation, _collection(args, kwargs), retrieval=retrieval)
        if retrieval:
            call.query_text = _query_text(_arg(args, kwargs, "query", 1))
        if batch_arg is not None:
            items = _arg(args, kwargs, *batch_arg)
            if isinstance(items, (list, tuple)) and len(items) > 1:
                call.request_attributes[db.DB_OPERATION_BATCH_SIZE] = len(items)
        return call

    return describe


def read_query_points(call: DbCall, result: Any) -> None:
    call.documents = _scored(getattr(result, "points", None))


def read_query_batch(call: DbCall, result: Any) -> None:
    documents: list[RetrievedDocument] = []
    for response in result or ():
        documents.extend(_scored(getattr(response, "points", None)))
    call.documents = documents


def read_records(call: DbCall, result: Any) -> None:
    records = result[0] if isinstance(result, tuple) else result  # scroll returns (records, next_offset)
    if isinstance(records, list):
        call.returned_rows = len(records)


def read_count(call: DbCall, result: Any) -> None:
    return None


OPERATIONS: dict[str, tuple[Describe, Callable[[DbCall, Any], None]]] = {
    "query_points": (_describer("query_points", retrieval=True), read_query_points),
    "query_batch_points": (
        _describer("query_batch_points", retrieval=True, batch_arg=("requests", 1)),
        read_query_batch,
    ),
    "upsert": (_describer("upsert", batch_arg=("points", 1)), read_count),
    "upload_points": (_describer("upload_points", batch_arg=("points", 1)), read_count),
    "retrieve": (_describer("retrieve", batch_arg=("ids", 1)), read_records),
    "scroll": (_describer("scroll"), read_records),
    "delete": (_describer("delete"), read_count),
    "count": (_describer("count"), read_count),
}
