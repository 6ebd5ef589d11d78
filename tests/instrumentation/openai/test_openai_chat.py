"""Chat Completions spans and metrics from real openai clients over replayed HTTP."""

from __future__ import annotations

import asyncio
import socket

import openai
import pydantic
import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import openai_attributes
from opentelemetry.semconv.attributes import error_attributes, http_attributes, server_attributes
from opentelemetry.trace import SpanKind, StatusCode

from genai_lens.instrumentation._genai.metrics import DURATION_BUCKETS, TOKEN_USAGE_BUCKETS
from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON

JOKE = [{"role": "user", "content": "Tell me a joke about opentelemetry"}]


def test_basic_chat_span_attributes_and_metrics(instrumented, replay, client, spans, metric_points):
    server = replay("openai/chat_basic_gpt35.yaml")
    response = client(server).chat.completions.create(model="gpt-3.5-turbo", messages=JOKE, temperature=0.5)

    (span,) = spans()
    attrs = span.attributes
    assert span.name == "chat gpt-3.5-turbo"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs[genai.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[genai.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[genai.GEN_AI_REQUEST_MODEL] == "gpt-3.5-turbo"
    assert attrs[genai.GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert attrs[server_attributes.SERVER_ADDRESS] == "127.0.0.1"
    assert attrs[server_attributes.SERVER_PORT] == server.port
    assert attrs[openai_attributes.OPENAI_API_TYPE] == "chat_completions"
    assert attrs[genai.GEN_AI_RESPONSE_ID] == response.id
    assert attrs[genai.GEN_AI_RESPONSE_MODEL] == "gpt-3.5-turbo-0125"
    assert attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == response.usage.prompt_tokens
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.completion_tokens
    assert genai.GEN_AI_REQUEST_STREAM not in attrs
    assert GENAI_LENS_STREAM_END_REASON not in attrs
    assert genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in attrs

    points = metric_points()
    (duration,) = points["gen_ai.client.operation.duration"]
    assert duration.count == 1 and duration.sum > 0
    assert tuple(duration.explicit_bounds) == DURATION_BUCKETS
    assert duration.attributes[genai.GEN_AI_RESPONSE_MODEL] == "gpt-3.5-turbo-0125"
    assert error_attributes.ERROR_TYPE not in duration.attributes
    usage = {p.attributes[genai.GEN_AI_TOKEN_TYPE]: p for p in points["gen_ai.client.token.usage"]}
    assert usage["input"].sum == response.usage.prompt_tokens
    assert usage["output"].sum == response.usage.completion_tokens
    assert tuple(usage["input"].explicit_bounds) == TOKEN_USAGE_BUCKETS
    assert "gen_ai.client.operation.time_to_first_chunk" not in points  # only for streams


def test_prompt_caching_reports_cache_read_inside_input_total(instrumented, replay, client, recorded, spans):
    server = replay("openai/chat_prompt_caching_gpt4omini.yaml")
    oai = client(server)
    first = oai.chat.completions.create(**recorded(server, 0))
    second = oai.chat.completions.create(**recorded(server, 1))
    assert second.usage.prompt_tokens_details.cached_tokens == 1024

    cold, warm = spans()
    assert cold.attributes[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 0
    assert cold.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == first.usage.prompt_tokens
    assert warm.attributes[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    # OTel: input_tokens is the total including cache reads
    assert warm.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == second.usage.prompt_tokens > 1024


def test_reasoning_tokens(instrumented, replay, client, recorded, spans):
    server = replay("openai/chat_gpt5nano_reasoning_tokens.yaml")
    response = client(server).chat.completions.create(**recorded(server))
    (span,) = spans()
    reasoning = response.usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert span.attributes[genai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == reasoning
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.completion_tokens


def test_service_tier_request_and_response(instrumented, replay, client, recorded, spans):
    server = replay("openai/chat_service_tier_priority_gpt5.yaml")
    request = recorded(server)
    assert request["service_tier"] == "priority"
    response = client(server).chat.completions.create(**request)
    (span,) = spans()
    assert span.attributes[openai_attributes.OPENAI_REQUEST_SERVICE_TIER] == "priority"
    assert span.attributes[openai_attributes.OPENAI_RESPONSE_SERVICE_TIER] == response.service_tier


@pytest.mark.parametrize(
    ("cassette", "calls"),
    [("openai/chat_tools_single_call_gpt35.yaml", 1), ("openai/chat_parallel_tool_calls_gpt35.yaml", 2)],
)
def test_tool_calls_finish_reason(instrumented, replay, client, recorded, spans, cassette, calls):
    server = replay(cassette)
    response = client(server).chat.completions.create(**recorded(server))
    assert len(response.choices[0].message.tool_calls) == calls
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert genai.GEN_AI_OUTPUT_MESSAGES not in span.attributes  # content is off by default


def test_legacy_functions_api(instrumented, replay, client, recorded, spans):
    server = replay("openai/chat_legacy_functions_gpt4.yaml")
    client(server).chat.completions.create(**recorded(server))
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("function_call",)


def test_stream_with_usage_and_two_choices(instrumented, replay, client, recorded, spans, metric_points):
    server = replay("openai/chat_streaming_n2_include_usage_gpt4omini.yaml")
    chunks = list(client(server).chat.completions.create(**recorded(server)))
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []

    (span,) = spans()
    attrs = span.attributes
    assert attrs[genai.GEN_AI_REQUEST_STREAM] is True
    assert attrs[genai.GEN_AI_REQUEST_CHOICE_COUNT] == 2
    assert attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "stop")
    assert attrs[genai.GEN_AI_RESPONSE_ID] == chunks[0].id
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens
    assert attrs[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    ttfc = attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert 0 < ttfc < (span.end_time - span.start_time) / 1e9

    (first_chunk,) = metric_points()["gen_ai.client.operation.time_to_first_chunk"]
    assert first_chunk.count == 1 and first_chunk.sum == pytest.approx(ttfc)


def test_stream_without_usage_has_no_token_counts(instrumented, replay, client, spans, metric_points):
    server = replay("openai/chat_streaming_no_usage_gpt35.yaml")
    stream = client(server).chat.completions.create(model="gpt-3.5-turbo", messages=JOKE, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text
    (span,) = spans()
    assert genai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert genai.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert "gen_ai.client.token.usage" not in metric_points()


def test_stream_helper_makes_one_span(instrumented, replay, client, spans):
    server = replay("openai/chat_streaming_include_usage_gpt4.yaml")
    messages = [{"role": "user", "content": "Say this is a test"}]
    with client(server).chat.completions.stream(model="gpt-4", messages=messages) as stream:
        completion = stream.get_final_completion()
    assert completion.choices[0].message.content
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"


class Joke(pydantic.BaseModel):
    rating: int
    joke: str


def test_parse_structured_output(instrumented, replay, client, spans):
    server = replay("openai/chat_structured_output_parse_gpt4o.yaml")
    request = server.interactions[0].request_json
    completion = client(server).chat.completions.parse(
        model="gpt-4o", messages=request["messages"], response_format=Joke
    )
    assert isinstance(completion.choices[0].message.parsed, Joke)
    (span,) = spans()
    assert span.name == "chat gpt-4o"
    assert span.attributes[genai.GEN_AI_OUTPUT_TYPE] == "json"
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens


def test_async_create_and_stream(instrumented, replay, async_client, recorded, spans):
    server = replay("openai/chat_basic_gpt35.yaml", "openai/chat_streaming_include_usage_gpt4.yaml")

    async def run():
        oai = async_client(server)
        plain = await oai.chat.completions.create(model="gpt-3.5-turbo", messages=JOKE)
        stream = await oai.chat.completions.create(**server.interactions[4].request_json)
        assert isinstance(stream, openai.AsyncStream)
        chunks = [chunk async for chunk in stream]
        return plain, chunks

    plain, chunks = asyncio.run(run())
    first, second = spans()
    assert first.attributes[genai.GEN_AI_RESPONSE_ID] == plain.id
    assert second.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
    assert second.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert second.attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0


@pytest.mark.parametrize(
    ("cassette", "index", "exception", "status"),
    [
        ("openai/chat_error_404_model_not_found.yaml", 0, openai.NotFoundError, 404),
        ("openai/chat_vision_image_url_and_400.yaml", 2, openai.BadRequestError, 400),
    ],
)
def test_http_errors(
    instrumented, replay, client, recorded, spans, metric_points, cassette, index, exception, status
):
    server = replay(cassette)
    with pytest.raises(exception) as caught:
        client(server).chat.completions.create(**recorded(server, index))
    assert caught.value.status_code == status  # the user's exception, unchanged
    (span,) = spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[error_attributes.ERROR_TYPE] == exception.__qualname__
    assert span.attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] == status
    assert genai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    (duration,) = metric_points()["gen_ai.client.operation.duration"]
    assert duration.attributes[error_attributes.ERROR_TYPE] == exception.__qualname__


def test_azure_provider_and_content_filter_finish_reason(instrumented, replay, azure_client, spans):
    server = replay("openai/azure_chat_content_filter_finish_reason.yaml")
    response = azure_client(server).chat.completions.create(model="openllmetry-testing", messages=JOKE)
    assert response.choices[0].finish_reason == "content_filter"
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert span.attributes[genai.GEN_AI_REQUEST_MODEL] == "openllmetry-testing"  # the deployment name
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("content_filter",)
    assert server.requests[0].path == "/openai/deployments/openllmetry-testing/chat/completions"


def test_azure_prompt_filtered_error_body(instrumented, replay, azure_client, spans):
    server = replay("openai/azure_prompt_content_filter_error.yaml")
    azure_client(server).chat.completions.create(model="openllmetry-testing", messages=JOKE)
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("content_filter",)
    assert span.attributes[error_attributes.ERROR_TYPE] == "content_filter"
    assert span.status.status_code is StatusCode.ERROR


def test_azure_streaming_skips_the_prompt_filter_chunk(instrumented, replay, azure_client, spans):
    server = replay("openai/azure_chat_streaming.yaml")
    stream = azure_client(server).chat.completions.create(
        model="openllmetry-testing", messages=JOKE, stream=True
    )
    chunks = list(stream)
    assert chunks[0].id == ""  # Azure's prompt-filter chunk
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == next(c.id for c in chunks if c.id)
    assert span.attributes[genai.GEN_AI_RESPONSE_MODEL] == next(c.model for c in chunks if c.model)


def test_connection_error(instrumented, spans, metric_points):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    oai = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="test-key", max_retries=0, timeout=5)
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="gpt-3.5-turbo", messages=JOKE)
    (span,) = spans()
    assert span.attributes[error_attributes.ERROR_TYPE] == "APIConnectionError"
    assert span.attributes[server_attributes.SERVER_PORT] == port
    assert http_attributes.HTTP_RESPONSE_STATUS_CODE not in span.attributes
    (duration,) = metric_points()["gen_ai.client.operation.duration"]
    assert duration.attributes[error_attributes.ERROR_TYPE] == "APIConnectionError"


def test_with_raw_response(instrumented, replay, client, spans):
    server = replay("openai/chat_basic_gpt35.yaml")
    raw = client(server).chat.completions.with_raw_response.create(model="gpt-3.5-turbo", messages=JOKE)
    assert raw.headers.get("openai-model") == "gpt-3.5-turbo-0125"  # the caller still has the raw response
    completion = raw.parse()
    assert raw.parse() is completion
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == completion.id
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
