"""The anthropic SDK's own OpenTelemetry spans (anthropic >= 2): when they are on, and what we add to them.

anthropic 2.x starts a CLIENT span ``anthropic.messages.create`` (scope ``com.anthropic.sdk.python``) for
every API call when its client has a tracer: tracing is on unless the client was built with
``open_telemetry=False`` / ``{"traces": False}`` or ``ANTHROPIC_OPEN_TELEMETRY=false`` was set; the tracer
comes from the client's ``open_telemetry={"tracer_provider": ...}`` or the global provider. Its spans only
record when that provider is a real (SDK) one; with the API's default proxy/no-op provider they are dropped.
``native_tracing_active`` checks exactly those switches, per call, on the client being used.

The SDK span has usage (input incl. cache), ``cache_read``/``cache_write``, TTFC and stop reason under
``anthropic.message.stop_reason``, but no metrics, no ``gen_ai.response.finish_reasons``, no
``gen_ai.request.temperature/top_p/top_k`` and no ``gen_ai.usage.cache_creation.input_tokens`` (the name
the installed semconv uses). ``enrich_*`` add exactly those to the SDK span while it is still open, and
the content attributes when our content switch is on and the SDK's own content mode is off.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.trace import Span

from genai_lens.instrumentation._genai import Invocation, content, never_raise
from genai_lens.instrumentation._genai.content import to_json
from genai_lens.instrumentation.anthropic import extract

# module and function the SDK calls to record a finished call on its span (anthropic >= 2)
FINISH_MODULE = "anthropic._base_client"
FINISH_FUNCTION = "finish_api_call_span"
_MESSAGES_SPAN_NAME = "anthropic.messages.create"


class NativeStreamSpan:
    """The SDK's still-open span of a streamed call, and whether we may add content to it."""

    __slots__ = ("content", "span")

    def __init__(self, span: Span, content: bool) -> None:
        self.span = span
        self.content = content  # our switch is on and the SDK's own content mode is off


# SDK stream object -> its NativeStreamSpan; weak so streams are never kept alive
_stream_spans: weakref.WeakKeyDictionary[Any, NativeStreamSpan] = weakref.WeakKeyDictionary()


def _provider_records(provider: Any) -> bool:
    """False for the API's placeholder providers, whose spans are never recorded."""
    return provider is not None and not isinstance(
        provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    )


@never_raise(default=False)
def native_tracing_active(client: Any) -> bool:
    """Whether ``client`` (an anthropic client) records its own span for each API call."""
    options = getattr(client, "_open_telemetry", None)
    if not isinstance(options, Mapping):
        return False  # anthropic 0.x / 1.x: no native tracing
    traces = options.get("traces")
    if not isinstance(traces, Mapping) or not traces.get("enabled", False):
        return False
    if getattr(client, "_tracer", None) is None:  # the SDK's own verdict (disabled, or no provider loads)
        return False
    provider = options.get("tracer_provider") or trace.get_tracer_provider()
    return _provider_records(provider)


def _sdk_records_content(client: Any) -> bool:
    config = getattr(client, "_otel", None)
    return bool(getattr(config, "records_content", False))


def _set(span: Span, attributes: Mapping[str, Any]) -> None:
    if attributes:
        span.set_attributes(dict(attributes))


def _missing_response_attributes(invocation: Invocation) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if invocation.finish_reasons:
        attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] = invocation.finish_reasons
    if invocation.cache_creation_input_tokens is not None:
        attributes[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = invocation.cache_creation_input_tokens
    return attributes


@never_raise()
def enrich_from_stream(
    native: NativeStreamSpan, invocation: Invocation, output_parts: Callable[[], list[dict[str, Any]]]
) -> None:
    """At ``message_delta`` (every content block is complete, the SDK span is still open): finish reasons,
    the semconv cache-write name and, when allowed, the content (``output_parts()`` builds the parts)."""
    if not native.span.is_recording():
        return
    attributes = _missing_response_attributes(invocation)
    if native.content:
        reason = invocation.finish_reasons[0] if invocation.finish_reasons else None
        invocation.output_messages = [content.output_message(output_parts(), reason)]
        attributes.update(_content_attributes(invocation))
    _set(native.span, attributes)


def span_of_stream(stream: Any) -> NativeStreamSpan | None:
    """The SDK span of the call that returned ``stream`` (registered by ``finish_wrapper``)."""
    try:
        return _stream_spans.get(stream)
    except TypeError:
        return None


def make_finish_wrapper(capture_content: bool) -> Callable[..., Any]:
    """A wrapt wrapper for the SDK's ``finish_api_call_span(client, span, result)``.

    It runs just before the SDK records and ends its ``messages.create`` span, so attributes we add land on
    that span: request parameters, finish reasons and cache-write tokens for a complete Message, and, only
    when our content switch is on and the SDK's own content mode is off, the content attributes. A stream's
    span stays open after this; it is registered so the stream accumulator can add its finish reasons.
    """

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        _enrich_call(args, capture_content)
        return wrapped(*args, **kwargs)

    return wrapper


@never_raise()
def _enrich_call(args: tuple[Any, ...], capture_content: bool) -> None:
    if len(args) < 3:
        return
    client, span, result = args[0], args[1], args[2]
    options = getattr(result, "options", None)
    if getattr(options, "span_name", None) != _MESSAGES_SPAN_NAME or not span.is_recording():
        return
    body = getattr(options, "json_data", None)
    body = body if isinstance(body, Mapping) else {}
    _set(span, extract.request_attributes(body))
    if getattr(result, "error", None) is not None:
        return
    data = getattr(result, "data", None)
    if hasattr(data, "__next__") or hasattr(data, "__anext__"):
        _stream_spans[data] = NativeStreamSpan(span, capture_content and not _sdk_records_content(client))
        return
    if getattr(data, "type", None) != "message":
        return
    invocation = Invocation(provider=extract.PROVIDER, operation=extract.OPERATION)
    invocation.capture_content = capture_content and not _sdk_records_content(client)
    extract.apply_message(invocation, data)
    attributes = _missing_response_attributes(invocation)
    if invocation.capture_content:
        extract.request_content(invocation, body)
        attributes.update(_content_attributes(invocation))
    _set(span, attributes)


def _content_attributes(invocation: Invocation) -> dict[str, str]:
    attributes = {}
    if invocation.system_instructions:
        attributes[genai.GEN_AI_SYSTEM_INSTRUCTIONS] = to_json(invocation.system_instructions)
    if invocation.input_messages:
        attributes[genai.GEN_AI_INPUT_MESSAGES] = to_json(invocation.input_messages)
    if invocation.output_messages:
        attributes[genai.GEN_AI_OUTPUT_MESSAGES] = to_json(invocation.output_messages)
    return attributes
