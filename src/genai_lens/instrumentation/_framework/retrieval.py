"""Vector-database and retrieval spans: ``db.*`` for every operation, ``gen_ai.retrieval.*`` for queries.

A query/search is a GenAI ``retrieval`` operation (span ``retrieval {collection}``) that also carries the
database attributes; add/upsert/get/delete are plain database spans (``{operation} {collection}``). All are
CLIENT spans with ``db.response.returned_rows`` where the result has a count, and a
``db.client.operation.duration`` histogram. Query text and retrieved documents (ids, scores, text) are
recorded only with content capture on (the shared GenAI content switch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from timeit import default_timer
from typing import Any

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.semconv._incubating.attributes import db_attributes as db
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.metrics import db_metrics
from opentelemetry.semconv.attributes import error_attributes as error
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from genai_lens import __version__
from genai_lens.instrumentation._framework.lazy import LazyInstrumentor
from genai_lens.instrumentation._genai import (
    capture_content_enabled,
    error_type_of,
    instrumentation_suppressed,
    report_internal_error,
)
from genai_lens.instrumentation._genai.content import to_json

RETRIEVAL = genai.GenAiOperationNameValues.RETRIEVAL.value
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"


@dataclass(slots=True)
class RetrievedDocument:
    """One retrieved item; ``score`` is the store's own value (Chroma: a distance, Qdrant: a similarity)."""

    id: Any
    score: float | None = None
    content: str | None = None


def documents_json(documents: Sequence[RetrievedDocument], with_text: bool = True) -> str:
    """The ``gen_ai.retrieval.documents`` value: ``[{"id", "score", "content"?}]``."""
    items: list[dict[str, Any]] = []
    for doc in documents:
        item: dict[str, Any] = {"id": str(doc.id) if doc.id is not None else None}
        if doc.score is not None:
            item["score"] = doc.score
        if with_text and doc.content is not None:
            item["content"] = doc.content
        items.append(item)
    return to_json(items)


def retrieval_result_attributes(
    documents: Sequence[RetrievedDocument], capture_content: bool
) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {db.DB_RESPONSE_RETURNED_ROWS: len(documents)}
    if capture_content:
        attributes[genai.GEN_AI_RETRIEVAL_DOCUMENTS] = documents_json(documents)
    return attributes


@dataclass(slots=True, eq=False)
class DbCall:
    """One vector-database call, filled by a store-specific ``describe`` and ``read_result``."""

    system: str
    operation: str
    collection: str | None
    retrieval: bool = False
    query_text: str | None = None
    request_attributes: dict[str, AttributeValue] = field(default_factory=dict)
    returned_rows: int | None = None
    documents: list[RetrievedDocument] | None = None

    def span_name(self) -> str:
        first = RETRIEVAL if self.retrieval else self.operation
        return f"{first} {self.collection}" if self.collection else first

    def start_attributes(self, capture_content: bool) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            db.DB_SYSTEM_NAME: self.system,
            db.DB_OPERATION_NAME: self.operation,
        }
        if self.collection:
            attributes[db.DB_COLLECTION_NAME] = self.collection
        if self.retrieval:
            attributes[genai.GEN_AI_OPERATION_NAME] = RETRIEVAL
            if self.collection:
                attributes[genai.GEN_AI_DATA_SOURCE_ID] = self.collection
            if capture_content and self.query_text:
                attributes[genai.GEN_AI_RETRIEVAL_QUERY_TEXT] = self.query_text
        attributes.update(self.request_attributes)
        return attributes

    def end_attributes(self, capture_content: bool) -> dict[str, AttributeValue]:
        if self.documents is not None:
            attributes = retrieval_result_attributes(self.documents, capture_content and self.retrieval)
        else:
            attributes = {}
        if self.returned_rows is not None:
            attributes[db.DB_RESPONSE_RETURNED_ROWS] = self.returned_rows
        return attributes


Describe = Callable[[Any, tuple[Any, ...], dict[str, Any]], DbCall | None]
ReadResult = Callable[[DbCall, Any], None]


class DbTelemetry:
    """Tracer, duration histogram and content switch of one vector-database instrumentor."""

    __slots__ = ("capture_content", "duration", "tracer")

    def __init__(self, scope_name: str, version: str, tracer_provider: Any, meter_provider: Any) -> None:
        self.tracer = otel_trace.get_tracer(scope_name, version, tracer_provider, schema_url=_SCHEMA_URL)
        meter = otel_metrics.get_meter(scope_name, version, meter_provider, schema_url=_SCHEMA_URL)
        self.duration = meter.create_histogram(
            name=db_metrics.DB_CLIENT_OPERATION_DURATION,
            unit="s",
            description="Duration of database client operations.",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self.capture_content = capture_content_enabled()

    def _begin(self, describe: Describe, instance: Any, args: Any, kwargs: Any) -> tuple[Any, DbCall] | None:
        try:
            call = describe(instance, args, kwargs)
            if call is None:
                return None
            span = self.tracer.start_span(
                call.span_name(), kind=SpanKind.CLIENT, attributes=call.start_attributes(self.capture_content)
            )
            return span, call
        except Exception as exc:
            report_internal_error(f"{getattr(describe, '__qualname__', 'describe')}", exc)
            return None

    def _end(
        self, span: Any, call: DbCall, start: float, read_result: ReadResult, result: Any, exc: Any
    ) -> None:
        try:
            error_type = error_type_of(exc) if exc is not None else None
            if exc is None:
                read_result(call, result)
            if span.is_recording():
                span.set_attributes(call.end_attributes(self.capture_content))
                if error_type:
                    span.set_attribute(error.ERROR_TYPE, error_type)
                    span.set_status(Status(StatusCode.ERROR, error_type))
            span.end()
            metric_attributes: dict[str, AttributeValue] = {
                db.DB_SYSTEM_NAME: call.system,
                db.DB_OPERATION_NAME: call.operation,
            }
            if call.collection:
                metric_attributes[db.DB_COLLECTION_NAME] = call.collection
            if error_type:
                metric_attributes[error.ERROR_TYPE] = error_type
            self.duration.record(default_timer() - start, metric_attributes)
        except Exception as internal:
            report_internal_error(f"{getattr(read_result, '__qualname__', 'read_result')}", internal)
            span.end()

    def wrappers(
        self, cls: str, operations: Mapping[str, tuple[Describe, ReadResult]], is_async: bool
    ) -> dict[str, Callable[..., Any]]:
        """``{"Class.method": wrapper}`` for every operation of one (sync or async) client class."""
        make = self.async_wrapper if is_async else self.sync_wrapper
        return {f"{cls}.{method}": make(describe, read) for method, (describe, read) in operations.items()}

    def sync_wrapper(self, describe: Describe, read_result: ReadResult) -> Callable[..., Any]:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            if instrumentation_suppressed():
                return wrapped(*args, **kwargs)
            begun = self._begin(describe, instance, args, kwargs)
            if begun is None:
                return wrapped(*args, **kwargs)
            span, call = begun
            start = default_timer()
            with otel_trace.use_span(
                span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                try:
                    result = wrapped(*args, **kwargs)
                except BaseException as exc:
                    self._end(span, call, start, read_result, None, exc)
                    raise
            self._end(span, call, start, read_result, result, None)
            return result

        return wrapper

    def async_wrapper(self, describe: Describe, read_result: ReadResult) -> Callable[..., Any]:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            async def call_async() -> Any:
                if instrumentation_suppressed():
                    return await wrapped(*args, **kwargs)
                begun = self._begin(describe, instance, args, kwargs)
                if begun is None:
                    return await wrapped(*args, **kwargs)
                span, call = begun
                start = default_timer()
                with otel_trace.use_span(
                    span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    try:
                        result = await wrapped(*args, **kwargs)
                    except BaseException as exc:
                        self._end(span, call, start, read_result, None, exc)
                        raise
                self._end(span, call, start, read_result, result, None)
                return result

            return call_async()

        return wrapper


class VectorDbInstrumentor(LazyInstrumentor):
    """A vector-database instrumentor: the ``_operations`` of each ``(module, class, is_async)`` target."""

    _targets: tuple[tuple[str, str, bool], ...] = ()
    _operations: Mapping[str, tuple[Describe, ReadResult]] = {}

    def _start(self, **kwargs: Any) -> None:
        telemetry = DbTelemetry(
            type(self).__module__, __version__, kwargs.get("tracer_provider"), kwargs.get("meter_provider")
        )
        for module, cls, is_async in self._targets:
            self.wrap_when_imported(module, telemetry.wrappers(cls, self._operations, is_async))
