"""Builders for OTLP requests and redact stages shared by the redact tests (a module, not a conftest, so its
name cannot clash with the other test folders' conftest modules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from genai_lens.processor.pipeline import Pipeline, span_views
from genai_lens.processor.redact import RedactStage
from genai_lens.processor.span_view import SpanView, python_to_any
from genai_lens.processor.stage import StageContext

HASH_KEY = "test-key-0123456789abcdef"


def build_request(
    attributes: Mapping[str, Any],
    events: list[tuple[str, Mapping[str, Any]]] = (),  # type: ignore[assignment]
    links: list[Mapping[str, Any]] = (),  # type: ignore[assignment]
    status_message: str = "",
) -> ExportTraceServiceRequest:
    """One request holding one span with the given attributes, events, link attributes and status."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    python_to_any("svc", resource_spans.resource.attributes.add(key="service.name").value)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "test"
    span = scope_spans.spans.add(name="chat gpt-4o", trace_id=bytes(range(16)), span_id=bytes(range(8)))
    span.kind = Span.SPAN_KIND_CLIENT
    for key, value in attributes.items():
        python_to_any(value, span.attributes.add(key=key).value)
    for name, event_attributes in events:
        event = span.events.add(name=name, time_unix_nano=1)
        for key, value in event_attributes.items():
            python_to_any(value, event.attributes.add(key=key).value)
    for link_attributes in links:
        link = span.links.add(trace_id=bytes(range(16, 32)), span_id=bytes(range(8, 16)))
        for key, value in link_attributes.items():
            python_to_any(value, link.attributes.add(key=key).value)
    if status_message:
        span.status.code = span.status.STATUS_CODE_ERROR
        span.status.message = status_message
    return request


class Redactor:
    """A real stage in a real pipeline, plus the context whose stats it writes."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.context = StageContext()
        self.stage = RedactStage.from_config(dict(config), self.context)
        self.pipeline = Pipeline([self.stage])

    def run(self, request: ExportTraceServiceRequest) -> SpanView:
        """Process the request in place through a serialize/parse round trip, as the receiver would."""
        request.CopyFrom(ExportTraceServiceRequest.FromString(request.SerializeToString()))
        self.pipeline.process(request)
        return span_views(request)[0]

    def span(self, attributes: Mapping[str, Any], **kwargs: Any) -> SpanView:
        return self.run(build_request(attributes, **kwargs))

    def text(self, value: str, key: str = "gen_ai.prompt.0.content") -> str:
        """Redact one string attribute and return what is left of it ('' when dropped)."""
        view = self.span({key: value})
        result = view.get(key, "")
        assert isinstance(result, str)
        return result
