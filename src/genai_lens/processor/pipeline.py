"""Runs the configured stages, in order, over one OTLP export request's spans."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import Stage


def span_views(request: ExportTraceServiceRequest) -> list[SpanView]:
    """One view per span in the request, in request order."""
    views: list[SpanView] = []
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            views.extend(SpanView(span, resource, scope) for span in scope_spans.spans)
    return views


class Pipeline:
    """An ordered list of stages; the request is edited in place."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    def process(self, request: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
        views = span_views(request)
        if views:
            for stage in self.stages:
                stage.process_batch(views)
        return request

    def close(self) -> None:
        for stage in self.stages:
            stage.close()
