"""Our span for Anthropic Messages calls (the path taken when the SDK does not trace the call itself).

Real ``anthropic`` clients talk HTTP to a loopback server replaying the shared cassettes. These clients use
the SDK's defaults, which (with no global SDK tracer provider) means the SDK's own tracing is not recording,
so every call must produce exactly one span, ours.
"""

from __future__ import annotations

import asyncio
import inspect
import json

import anthropic
import pydantic
import pytest
from anthropic_support import (
    async_client_for,
    client_for,
    expected_stream_usage,
    expected_usage,
    genai_spans,
    request_body,
    response_json,
)
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import SpanKind, StatusCode

SCOPE = "genai_lens.instrumentation.anthropic"
BASIC = "anthropic/messages_create_claude3opus.yaml"
STREAM = "anthropic/messages_streaming_claude3haiku.yaml"
TOOLS = "anthropic/messages_tool_use_claude35sonnet.yaml"
TOOLS_STREAM = "anthropic/messages_tool_use_streaming_claude35sonnet.yaml"
CACHE = "anthropic/messages_prompt_caching_write_then_read.yaml"
CACHE_STREAM = "anthropic/messages_prompt_caching_streaming.yaml"
THINKING = "anthropic/messages_extended_thinking_claude37sonnet.yaml"
THINKING_STREAM = "anthropic/messages_extended_thinking_streaming.yaml"


def only_span(spans):
    found = genai_spans(spans())
    assert len(found) == 1, [s.name for s in found]
    assert found[0].instrumentation_scope.name == SCOPE
    return found[0]


def token_points(metric_points):
    points = metric_points()["gen_ai.client.token.usage"]
    return {p.attributes[genai.GEN_AI_TOKEN_TYPE]: p for p in points}


def run_create(server, body, is_async):
    if is_async:

        async def call():
            return await async_client_for(server).messages.create(**body)

        return asyncio.run(call())
    return client_for(server).messages.create(**body)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_create_span_attributes_and_metrics(instrumented, replay, spans, metric_points, is_async):
    server = replay(BASIC)
    body = request_body(BASIC)
    message = run_create(server, body, is_async)
    recorded = response_json(BASIC)
    assert message.id == recorded["id"]

    span = only_span(spans)
    attrs = span.attributes
    assert span.name == f"chat {body['model']}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is not StatusCode.ERROR
    assert attrs[genai.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[genai.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert attrs[genai.GEN_AI_REQUEST_MODEL] == body["model"]
    assert attrs[genai.GEN_AI_REQUEST_MAX_TOKENS] == body["max_tokens"]
    assert attrs[server_attributes.SERVER_ADDRESS] == "127.0.0.1"
    assert attrs[server_attributes.SERVER_PORT] == server.port
    assert attrs[genai.GEN_AI_RESPONSE_ID] == recorded["id"]
    assert attrs[genai.GEN_AI_RESPONSE_MODEL] == recorded["model"]
    assert list(attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == [recorded["stop_reason"]]
    usage = expected_usage(BASIC)
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output"]
    assert genai.GEN_AI_REQUEST_STREAM not in attrs
    assert genai.GEN_AI_INPUT_MESSAGES not in attrs  # content is off by default

    tokens = token_points(metric_points)
    assert tokens["input"].sum == usage["input"] and tokens["output"].sum == usage["output"]
    duration = metric_points()["gen_ai.client.operation.duration"]
    assert len(duration) == 1 and duration[0].count == 1
    assert duration[0].attributes[genai.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert duration[0].attributes[genai.GEN_AI_RESPONSE_MODEL] == recorded["model"]


def test_request_parameters_become_attributes(instrumented, replay, spans):
    server = replay(BASIC)
    sampling = {"temperature": 0.25, "top_p": 0.5, "top_k": 7}
    body = {**request_body(BASIC), "stop_sequences": ["##"]}
    if "temperature" in inspect.signature(anthropic.resources.messages.Messages.create).parameters:
        body.update(sampling)  # anthropic < 2
    else:
        body["extra_body"] = sampling  # anthropic 2.x dropped them from the signature
    client_for(server).messages.create(**body)
    attrs = only_span(spans).attributes
    assert attrs[genai.GEN_AI_REQUEST_TEMPERATURE] == 0.25
    assert attrs[genai.GEN_AI_REQUEST_TOP_P] == 0.5
    assert attrs[genai.GEN_AI_REQUEST_TOP_K] == 7
    assert list(attrs[genai.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["##"]
    assert server.requests[-1].json["temperature"] == 0.25  # the user's arguments reached the wire


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_tool_use_finish_reason(instrumented, replay, spans, is_async):
    server = replay(TOOLS)
    message = run_create(server, request_body(TOOLS), is_async)
    assert [b.type for b in message.content].count("tool_use") == 2
    attrs = only_span(spans).attributes
    assert list(attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_use"]
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_usage(TOOLS)["output"]


def test_prompt_cache_write_then_read(instrumented, replay, spans, metric_points):
    server = replay(CACHE)
    client = client_for(server)
    for index in (0, 1):
        client.messages.create(**request_body(CACHE, index))
    found = genai_spans(spans())
    assert len(found) == 2
    for index, span in enumerate(found):
        usage = expected_usage(CACHE, index)
        attrs = span.attributes
        # OTel input tokens include cache reads and writes; Anthropic's input_tokens does not
        assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]
        assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] > response_json(CACHE, index)["usage"]["input_tokens"]
        assert attrs[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == usage["cache_read"]
        assert attrs[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == usage["cache_creation"]
    assert found[0].attributes[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] > 0
    assert found[1].attributes[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] > 0
    assert (
        token_points(metric_points)["input"].sum
        == expected_usage(CACHE, 0)["input"] + expected_usage(CACHE, 1)["input"]
    )


@pytest.mark.parametrize("cassette_name", [STREAM, TOOLS_STREAM, THINKING_STREAM, CACHE_STREAM])
def test_stream_usage_is_the_final_usage(instrumented, replay, spans, metric_points, cassette_name):
    server = replay(cassette_name)
    stream = client_for(server).messages.create(**request_body(cassette_name))
    assert isinstance(
        stream, anthropic.Stream
    )  # our proxy stays a Stream to the user (0.x overrides isinstance)
    events = [event.type for event in stream]
    assert events[0] == "message_start" and events[-1] == "message_stop"

    usage = expected_stream_usage(cassette_name)
    attrs = only_span(spans).attributes
    assert attrs[genai.GEN_AI_REQUEST_STREAM] is True
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]
    # cumulative message_delta count, NOT message_start's provisional count added to it
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output"]
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] != usage["output"] + usage["provisional_output"]
    assert attrs.get(genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) == usage["cache_read"]
    assert attrs.get(genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) == usage["cache_creation"]
    assert attrs["genai_lens.stream.end_reason"] == "exhausted"
    assert attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] >= 0
    tokens = token_points(metric_points)
    assert tokens["output"].sum == usage["output"]
    assert metric_points()["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


def test_async_stream_create(instrumented, replay, spans):
    server = replay(STREAM)

    async def call():
        stream = await async_client_for(server).messages.create(**request_body(STREAM))
        assert isinstance(stream, anthropic.AsyncStream)
        return [event.type async for event in stream]

    events = asyncio.run(call())
    assert events[-1] == "message_stop"
    attrs = only_span(spans).attributes
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_stream_usage(STREAM)["output"]
    assert attrs["genai_lens.stream.end_reason"] == "exhausted"


def test_thinking_response(instrumented, replay, spans):
    server = replay(THINKING)
    message = client_for(server).messages.create(**request_body(THINKING))
    assert message.content[0].type == "thinking"
    attrs = only_span(spans).attributes
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_usage(THINKING)["output"]
    # Anthropic reports thinking tokens inside output_tokens, not separately: nothing is invented
    assert genai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS not in attrs


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_server_error_is_recorded_and_raised(instrumented, replay, spans, metric_points, is_async):
    server = replay("anthropic/legacy_text_completion_claude_instant.yaml")  # nothing answers /v1/messages
    with pytest.raises(anthropic.InternalServerError):
        run_create(server, request_body(BASIC), is_async)
    span = only_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[error_attributes.ERROR_TYPE] == "InternalServerError"
    duration = metric_points()["gen_ai.client.operation.duration"][0]
    assert duration.attributes[error_attributes.ERROR_TYPE] == "InternalServerError"
    assert "gen_ai.client.token.usage" not in metric_points()


def test_connection_error_is_recorded_and_raised(instrumented, replay, spans):
    server = replay(BASIC)
    client = client_for(server)
    server.stop()
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(**request_body(BASIC))
    span = only_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[error_attributes.ERROR_TYPE] == "APIConnectionError"


def test_suppressed_instrumentation_makes_no_span(instrumented, replay, spans, metric_points):
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    server = replay(BASIC)
    with suppress_instrumentation():
        client_for(server).messages.create(**request_body(BASIC))
    assert genai_spans(spans()) == []
    assert "gen_ai.client.token.usage" not in metric_points()


def patched_targets():
    """Every SDK attribute the instrumentor may replace, as (owner, name) pairs present in this SDK."""
    import anthropic._base_client as base_client
    import anthropic._streaming as streaming
    from anthropic.resources import messages as stable
    from anthropic.resources.beta import messages as beta

    owners = [stable.Messages, stable.AsyncMessages, beta.Messages, beta.AsyncMessages]
    targets = [(o, m) for o in owners for m in ("create", "parse", "stream") if m in vars(o)]
    metas = [getattr(streaming, m) for m in ("_SyncStreamMeta", "_AsyncStreamMeta") if hasattr(streaming, m)]
    targets += [(meta, "__instancecheck__") for meta in metas]  # anthropic 0.x only
    if hasattr(base_client, "finish_api_call_span"):
        targets.append((base_client, "finish_api_call_span"))
    return targets


def test_uninstrument_restores_the_sdk(instrument, replay, spans):
    before = {(id(o), n): vars(o)[n] for o, n in patched_targets()}
    instrumentor = instrument()
    changed = [n for o, n in patched_targets() if vars(o)[n] is not before[(id(o), n)]]
    assert {"create", "parse", "stream"} <= set(changed)
    assert len(changed) == len(patched_targets())
    instrumentor.uninstrument()
    assert {(id(o), n): vars(o)[n] for o, n in patched_targets()} == before
    server = replay(BASIC)
    client_for(server).messages.create(**request_body(BASIC))
    assert genai_spans(spans()) == []


STRUCTURED = "anthropic/messages_structured_output_sonnet45.yaml"


class Joke(pydantic.BaseModel):
    joke: str
    rating: int


@pytest.mark.parametrize("resource", ["messages", "beta.messages"])
def test_parse_structured_output(instrumented, replay, spans, resource):
    server = replay(STRUCTURED)
    body = request_body(STRUCTURED)
    client = client_for(server)
    target = client.beta.messages if resource == "beta.messages" else client.messages
    message = target.parse(
        model=body["model"], max_tokens=body["max_tokens"], messages=body["messages"], output_format=Joke
    )
    recorded = json.loads(response_json(STRUCTURED)["content"][0]["text"])
    assert message.parsed_output.rating == recorded["rating"]

    attrs = only_span(spans).attributes
    assert attrs[genai.GEN_AI_OUTPUT_TYPE] == "json"
    assert attrs[genai.GEN_AI_RESPONSE_ID] == response_json(STRUCTURED)["id"]
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_usage(STRUCTURED)["output"]
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == expected_usage(STRUCTURED)["input"]


def test_beta_create_and_stream_helper(instrumented, replay, spans):
    server = replay(BASIC, STREAM)
    client = client_for(server)
    client.beta.messages.create(**request_body(BASIC))
    body = request_body(STREAM)
    body.pop("stream")
    with client.beta.messages.stream(**body) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens == expected_stream_usage(STREAM)["output"]
    found = genai_spans(spans())
    assert [s.instrumentation_scope.name for s in found] == [SCOPE, SCOPE]
    assert found[0].attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_usage(BASIC)["output"]
    assert found[1].attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_stream_usage(STREAM)["output"]
    assert found[1].attributes["genai_lens.stream.end_reason"] == "exhausted"
