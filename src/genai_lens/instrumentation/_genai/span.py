"""Turn an ``Invocation`` into a CLIENT span named ``{operation} {model}`` with ``gen_ai.*`` attributes."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes as error
from opentelemetry.semconv.attributes import server_attributes as server
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._genai.content import to_json
from genai_lens.instrumentation._genai.invocation import Invocation


def span_name(invocation: Invocation) -> str:
    if invocation.request_model:
        return f"{invocation.operation} {invocation.request_model}"
    return invocation.operation


def start_span(tracer: Tracer, invocation: Invocation) -> Span:
    """Start the span with the request attributes (given at start so samplers can see them)."""
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_OPERATION_NAME: invocation.operation,
        genai.GEN_AI_PROVIDER_NAME: invocation.provider,
    }
    if invocation.request_model:
        attributes[genai.GEN_AI_REQUEST_MODEL] = invocation.request_model
    if invocation.server_address:
        attributes[server.SERVER_ADDRESS] = invocation.server_address
    if invocation.server_port:
        attributes[server.SERVER_PORT] = invocation.server_port
    if invocation.stream:
        attributes[genai.GEN_AI_REQUEST_STREAM] = True
    if invocation.request_attributes:
        attributes.update(invocation.request_attributes)
    return tracer.start_span(span_name(invocation), kind=SpanKind.CLIENT, attributes=attributes)


def _json(value: Any) -> str:
    """Content as JSON; a provider may hand it over already serialized (a fast path for common shapes)."""
    return value if isinstance(value, str) else to_json(value)


def _response_attributes(invocation: Invocation) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    if invocation.response_id:
        attributes[genai.GEN_AI_RESPONSE_ID] = invocation.response_id
    if invocation.response_model:
        attributes[genai.GEN_AI_RESPONSE_MODEL] = invocation.response_model
    if invocation.finish_reasons:
        attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] = invocation.finish_reasons
    if invocation.input_tokens is not None:
        attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] = invocation.input_tokens
    if invocation.output_tokens is not None:
        attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] = invocation.output_tokens
    if invocation.cache_read_input_tokens is not None:
        attributes[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = invocation.cache_read_input_tokens
    if invocation.cache_creation_input_tokens is not None:
        attributes[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = invocation.cache_creation_input_tokens
    if invocation.reasoning_output_tokens is not None:
        attributes[genai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = invocation.reasoning_output_tokens
    if invocation.time_to_first_chunk is not None:
        attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = invocation.time_to_first_chunk
    if invocation.capture_content:
        if invocation.system_instructions:
            attributes[genai.GEN_AI_SYSTEM_INSTRUCTIONS] = _json(invocation.system_instructions)
        if invocation.input_messages:
            attributes[genai.GEN_AI_INPUT_MESSAGES] = _json(invocation.input_messages)
        if invocation.output_messages:
            attributes[genai.GEN_AI_OUTPUT_MESSAGES] = _json(invocation.output_messages)
    if invocation.response_attributes:
        attributes.update(invocation.response_attributes)
    return attributes


def end_span(span: Span, invocation: Invocation, error_type: str | None = None) -> None:
    """Set the response attributes (and error status when ``error_type`` is given), then end the span."""
    if span.is_recording():
        attributes = _response_attributes(invocation)
        if error_type:
            attributes[error.ERROR_TYPE] = error_type
            span.set_status(Status(StatusCode.ERROR, error_type))
        span.set_attributes(attributes)
    span.end()
