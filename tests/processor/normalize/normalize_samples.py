"""Turns the JSON span dumps in ../shared/span-samples into OTLP protobuf requests for the normalizer tests.

Three dump shapes exist (see span-samples/PROVENANCE.md and dialects/README.md): the locally generated
``dialects/<anchor>/<scenario>.json`` files (Python SDK spans: ``name``, ``kind`` like ``SpanKind.CLIENT``,
``instrumentation_scope``, ``attributes``, ``events``), the Vercel AI SDK InMemorySpanExporter dumps (a list
of JS spans with ``spanContext`` and ``[seconds, nanos]`` times) and flat attribute maps
(``openinference-genai/``). All become ``ExportTraceServiceRequest`` messages so the stage runs on exactly
what an OTLP receiver would hand it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.span_view import SpanView, python_to_any
from genai_lens.semconv import GEN_AI_USAGE_COST

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.path.normpath(REPO_ROOT / ".." / "shared"))
SAMPLES = SHARED / "span-samples"
CASSETTES = SHARED / "cassettes"
SCHEMAS = SAMPLES / "otel-genai-schemas"

_KINDS = {
    "SpanKind.INTERNAL": Span.SPAN_KIND_INTERNAL,
    "SpanKind.CLIENT": Span.SPAN_KIND_CLIENT,
    "SpanKind.SERVER": Span.SPAN_KIND_SERVER,
    "SpanKind.PRODUCER": Span.SPAN_KIND_PRODUCER,
    "SpanKind.CONSUMER": Span.SPAN_KIND_CONSUMER,
}
_STATUS = {
    "StatusCode.UNSET": Status.STATUS_CODE_UNSET,
    "StatusCode.OK": Status.STATUS_CODE_OK,
    "StatusCode.ERROR": Status.STATUS_CODE_ERROR,
}


def set_attributes(target: Any, attributes: Mapping[str, Any]) -> None:
    for key, value in attributes.items():
        kv: KeyValue = target.add(key=key)
        python_to_any(value, kv.value)


def python_span(dump: Mapping[str, Any], index: int) -> tuple[Span, InstrumentationScope]:
    """One span of a ``dialects/`` dump (the Python SDK's ReadableSpan fields)."""
    span = Span(
        trace_id=bytes([1 + index]) * 16,
        span_id=bytes([1 + index]) * 8,
        name=dump["name"],
        kind=_KINDS[dump["kind"]],
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_000_000_000,
    )
    span.status.code = _STATUS[dump["status"]["code"]]
    set_attributes(span.attributes, dump["attributes"])
    for event in dump.get("events", []):
        ev = span.events.add(name=event["name"], time_unix_nano=1_700_000_000_500_000_000)
        set_attributes(ev.attributes, event.get("attributes", {}))
    scope = dump["instrumentation_scope"]
    return span, InstrumentationScope(name=scope["name"], version=scope.get("version") or "")


def _nanos(pair: list[int]) -> int:
    return pair[0] * 1_000_000_000 + pair[1]


def js_span(dump: Mapping[str, Any]) -> tuple[Span, InstrumentationScope]:
    """One span of a Vercel AI SDK dump (the JS SDK's ReadableSpan as JSON)."""
    context = dump["spanContext"]
    span = Span(
        trace_id=bytes.fromhex(context["traceId"]),
        span_id=bytes.fromhex(context["spanId"]),
        name=dump["name"],
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=_nanos(dump["startTime"]),
        end_time_unix_nano=_nanos(dump["endTime"]),
    )
    span.status.code = dump["status"]["code"]
    set_attributes(span.attributes, dump["attributes"])
    for event in dump.get("events", []):
        ev = span.events.add(name=event["name"], time_unix_nano=_nanos(event["time"]))
        set_attributes(ev.attributes, event.get("attributes", {}))
    return span, InstrumentationScope(name="ai", version="6.0.68")


def flat_span(
    name: str, attributes: Mapping[str, Any], scope: str = "test"
) -> tuple[Span, InstrumentationScope]:
    """A span from a bare attribute map (the openinference-genai fixtures and hand-built samples)."""
    span = Span(
        trace_id=b"\x07" * 16,
        span_id=b"\x07" * 8,
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_000_000_000,
    )
    set_attributes(span.attributes, attributes)
    return span, InstrumentationScope(name=scope)


def request_of(spans: Iterable[tuple[Span, InstrumentationScope]]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    set_attributes(resource_spans.resource.attributes, {"service.name": "normalize-test"})
    for span, scope in spans:
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.CopyFrom(scope)
        scope_spans.spans.add().CopyFrom(span)
    return request


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def dialect_dump(anchor: str, scenario: str) -> dict[str, Any]:
    return load_json(SAMPLES / "dialects" / anchor / f"{scenario}.json")


def dialect_request(anchor: str, scenario: str) -> ExportTraceServiceRequest:
    dump = dialect_dump(anchor, scenario)
    return request_of(python_span(span, i) for i, span in enumerate(dump["spans"]))


def vercel_request(file_name: str) -> ExportTraceServiceRequest:
    return request_of(js_span(span) for span in load_json(SAMPLES / "vercel-ai-sdk-v6" / file_name))


def dump_requests() -> list[bytes]:
    """Every peer dump in ../shared/span-samples (dialects and Vercel AI SDK), one serialized request each."""
    dialects = sorted(SAMPLES.glob("dialects/*/*.json"))
    vercel = sorted(SAMPLES.glob("vercel-ai-sdk-v6/*.json"))
    assert len(dialects) >= 10, "the span-sample dumps were not found"
    requests = [dialect_request(path.parent.name, path.stem) for path in dialects]
    requests += [vercel_request(path.name) for path in vercel]
    return [request.SerializeToString() for request in requests]


def flat_request(name: str, attributes: Mapping[str, Any], scope: str = "test") -> ExportTraceServiceRequest:
    return request_of([flat_span(name, attributes, scope)])


def views(request: ExportTraceServiceRequest) -> list[SpanView]:
    return span_views(request)


def attrs(view: SpanView) -> dict[str, Any]:
    return dict(view.items())


# -- what the provider really said: the recorded HTTP exchange behind a dump ----------------------------


class RecordedCall:
    """Request and usage of one recorded provider call, read from its cassette (the ground truth)."""

    def __init__(self, request: dict[str, Any], events: list[dict[str, Any]], provider: str) -> None:
        self.request = request
        self.provider = provider
        self.model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: list[str] = []
        usage: dict[str, Any] = {}
        self.stream_start_output = 0
        for event in events:
            message = event.get("message") if event.get("type") == "message_start" else event
            if not isinstance(message, dict):
                continue
            self.model = message.get("model") or self.model
            self.response_id = message.get("id") or self.response_id
            if event.get("type") == "message_start":
                self.stream_start_output = message.get("usage", {}).get("output_tokens", 0)
            if isinstance(message.get("usage"), dict):
                usage.update({k: v for k, v in message["usage"].items() if v is not None})
            for choice in message.get("choices") or []:
                if choice.get("finish_reason"):
                    self.finish_reasons.append(choice["finish_reason"])
            reason = message.get("stop_reason") or (event.get("delta") or {}).get("stop_reason")
            if reason:
                self.finish_reasons.append(reason)
        self.raw_usage = usage
        if provider == "anthropic":
            self.cache_read = usage.get("cache_read_input_tokens") or 0
            self.cache_creation = usage.get("cache_creation_input_tokens") or 0
            self.input_total = usage["input_tokens"] + self.cache_read + self.cache_creation
            self.output = usage["output_tokens"]
            self.reasoning = 0
        else:
            self.cache_read = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            self.cache_creation = 0
            self.input_total = usage["prompt_tokens"]
            self.output = usage["completion_tokens"]
            self.reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0


def _decode_events(body: bytes, is_stream: bool) -> list[dict[str, Any]]:
    if not is_stream:
        return [json.loads(body)]
    events = []
    for line in body.decode("utf-8").splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                events.append(json.loads(payload))
    return events


def recorded_call(cassette: str, response_id: str) -> RecordedCall:
    """The interaction of ``cassette`` (as a dump names it) that returned ``response_id``."""
    from genai_lens.replay.cassette import load_cassette

    path = SHARED.parent / cassette
    provider = "anthropic" if "/anthropic/" in cassette else "openai"
    for interaction in load_cassette(path):
        if response_id.encode() in interaction.body:
            events = _decode_events(interaction.body, interaction.is_event_stream)
            return RecordedCall(interaction.request_json, events, provider)
    raise AssertionError(f"{response_id} not found in {cassette}")


# -- samples built from published conventions, filled with a recorded call's numbers -----------------

CACHE_CASSETTE = "shared/cassettes/anthropic/messages_prompt_caching_write_then_read.yaml"
CACHE_WRITE_ID = "msg_01EF3r8zYyZntM4Sg9a5kc6k"
CACHE_READ_ID = "msg_01YGB3PuEANUSkLuzemhtNVF"
TOOL_CASSETTE = "shared/cassettes/openai/chat_tools_single_call_gpt35.yaml"
TOOL_ID = "chatcmpl-9Xtj3KivtcjzP9VpvgQkC1HznIlOj"
BASIC_CASSETTE = "shared/cassettes/openai/chat_basic_gpt35.yaml"
BASIC_ID = "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK"


def reply_text(cassette: str, response_id: str) -> str:
    from genai_lens.replay import load_cassette

    for interaction in load_cassette(SHARED.parent / cassette):
        if response_id.encode() in interaction.body:
            body = json.loads(interaction.body)
            if "content" in body:
                return body["content"][0]["text"]
            return body["choices"][0]["message"]["content"]
    raise AssertionError(response_id)


def openlit_anthropic(response_id: str, cost: float) -> tuple[dict[str, Any], Any]:
    call = recorded_call(CACHE_CASSETTE, response_id)
    raw = call.raw_usage
    system = call.request["system"]
    system_text = system if isinstance(system, str) else system[0]["text"]
    attributes = {
        "telemetry.sdk.name": "openlit",
        "service.name": "app",
        "deployment.environment": "default",
        "gen_ai.sdk.version": "1.45.0",
        ga.GEN_AI_OPERATION_NAME: "chat",
        ga.GEN_AI_PROVIDER_NAME: "anthropic",
        ga.GEN_AI_REQUEST_MODEL: call.request["model"],
        ga.GEN_AI_REQUEST_MAX_TOKENS: call.request["max_tokens"],
        ga.GEN_AI_RESPONSE_MODEL: call.model,
        ga.GEN_AI_RESPONSE_ID: call.response_id,
        ga.GEN_AI_RESPONSE_FINISH_REASONS: call.finish_reasons,  # raw: ["end_turn"]
        ga.GEN_AI_USAGE_INPUT_TOKENS: raw["input_tokens"],  # Anthropic's uncached count
        ga.GEN_AI_USAGE_OUTPUT_TOKENS: raw["output_tokens"],
        ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: raw.get("cache_read_input_tokens", 0),
        ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: raw.get("cache_creation_input_tokens", 0),
        "gen_ai.client.token.usage": raw["input_tokens"] + raw["output_tokens"],
        GEN_AI_USAGE_COST: cost,
        ga.GEN_AI_SYSTEM_INSTRUCTIONS: json.dumps([{"type": "text", "content": system_text}]),
        # OpenLIT puts Anthropic's raw block list inside the text part
        ga.GEN_AI_INPUT_MESSAGES: json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": call.request["messages"][0]["content"]}]}]
        ),
        ga.GEN_AI_OUTPUT_MESSAGES: json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": reply_text(CACHE_CASSETTE, response_id)}],
                    "finish_reason": call.finish_reasons[0],
                }
            ]
        ),
    }
    return attributes, call
