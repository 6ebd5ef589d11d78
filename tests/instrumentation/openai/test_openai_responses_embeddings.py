"""Responses API and embeddings spans from real openai clients over replayed HTTP."""

from __future__ import annotations

import asyncio

import openai
import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import openai_attributes
from opentelemetry.semconv.attributes import error_attributes, http_attributes
from opentelemetry.trace import StatusCode

from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON


def test_responses_basic(instrumented, replay, client, spans, metric_points):
    server = replay("openai/responses_basic_gpt41nano.yaml")
    response = client(server).responses.create(model="gpt-4.1-nano", input="What is the capital of France?")
    (span,) = spans()
    attrs = span.attributes
    assert span.name == "chat gpt-4.1-nano"
    assert attrs[openai_attributes.OPENAI_API_TYPE] == "responses"
    assert attrs[genai.GEN_AI_RESPONSE_ID] == response.id
    assert attrs[genai.GEN_AI_RESPONSE_MODEL] == response.model
    assert attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == response.usage.input_tokens
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.output_tokens
    assert (
        attrs[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == response.usage.input_tokens_details.cached_tokens
    )
    usage = {
        p.attributes[genai.GEN_AI_TOKEN_TYPE]: p.sum for p in metric_points()["gen_ai.client.token.usage"]
    }
    assert usage == {"input": response.usage.input_tokens, "output": response.usage.output_tokens}


def test_responses_reasoning_tokens(instrumented, replay, client, recorded, spans):
    server = replay("openai/responses_reasoning_gpt5nano.yaml")
    response = client(server).responses.create(**recorded(server))
    reasoning = response.usage.output_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert spans()[0].attributes[genai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == reasoning


def test_responses_tool_calls(instrumented, replay, client, recorded, spans):
    server = replay("openai/responses_tool_calls_gpt41nano.yaml")
    client(server).responses.create(**recorded(server))
    assert spans()[0].attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)


def test_responses_stream_events(instrumented, replay, client, recorded, spans, metric_points):
    server = replay("openai/responses_streaming_gpt41nano.yaml")
    events = list(client(server).responses.create(**recorded(server)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert any(e.type == "response.output_text.delta" for e in events)
    final = events[-1].response
    (span,) = spans()
    attrs = span.attributes
    assert attrs[genai.GEN_AI_RESPONSE_ID] == final.id
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens
    assert attrs[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert metric_points()["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


def test_responses_stream_cut_short_keeps_id(instrumented, replay, client, recorded, spans):
    server = replay("openai/responses_streaming_gpt41nano.yaml")
    with client(server).responses.create(**recorded(server)) as stream:
        created = next(stream)
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == created.response.id
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "closed"
    assert genai.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes


def test_responses_stream_helper(instrumented, replay, client, recorded, spans):
    server = replay("openai/responses_streaming_gpt41nano.yaml")
    body = recorded(server)
    with client(server).responses.stream(model=body["model"], input=body["input"]) as stream:
        final = stream.get_final_response()
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens


def test_responses_async_and_async_stream(instrumented, replay, async_client, recorded, spans):
    server = replay("openai/responses_basic_gpt41nano.yaml", "openai/responses_streaming_gpt41nano.yaml")

    async def run():
        oai = async_client(server)
        plain = await oai.responses.create(**recorded(server, 0))
        events = [e async for e in await oai.responses.create(**recorded(server, 2))]
        return plain, events

    plain, events = asyncio.run(run())
    first, second = spans()
    assert first.attributes[genai.GEN_AI_RESPONSE_ID] == plain.id
    assert second.attributes[genai.GEN_AI_RESPONSE_ID] == events[-1].response.id
    assert second.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"


def test_responses_400(instrumented, replay, client, recorded, spans):
    server = replay("openai/responses_error_400_model_not_found.yaml")
    with pytest.raises(openai.BadRequestError):
        client(server).responses.create(**recorded(server))
    (span,) = spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[error_attributes.ERROR_TYPE] == "BadRequestError"
    assert span.attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] == 400


def test_embeddings_sync_and_async(
    instrumented, replay, client, async_client, recorded, spans, metric_points
):
    server = replay("openai/embeddings_ada002.yaml")
    request = recorded(server)
    result = client(server).embeddings.create(input=request["input"], model=request["model"])
    raw = asyncio.run(
        async_client(server).embeddings.create(
            input=request["input"], model=request["model"], encoding_format="base64"
        )
    )
    sync_span, async_span = spans()
    for span in (sync_span, async_span):
        attrs = span.attributes
        assert span.name == "embeddings text-embedding-ada-002"
        assert attrs[genai.GEN_AI_OPERATION_NAME] == "embeddings"
        assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == result.usage.prompt_tokens
        assert genai.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs
    # the SDK decodes base64 itself when the caller did not ask for a format: dimensions are known
    assert genai.GEN_AI_REQUEST_ENCODING_FORMATS not in sync_span.attributes
    assert (
        sync_span.attributes[genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(result.data[0].embedding) == 1536
    )
    # explicit base64: the caller gets the encoded string, we record the format and no guessed dimension
    assert isinstance(raw.data[0].embedding, str)
    assert async_span.attributes[genai.GEN_AI_REQUEST_ENCODING_FORMATS] == ("base64",)
    assert genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT not in async_span.attributes
    usage = metric_points()["gen_ai.client.token.usage"]
    assert {p.attributes[genai.GEN_AI_TOKEN_TYPE] for p in usage} == {"input"}


def test_embeddings_404(instrumented, replay, client, recorded, spans):
    server = replay("openai/embeddings_error_404.yaml")
    with pytest.raises(openai.NotFoundError):
        client(server).embeddings.create(**recorded(server))
    (span,) = spans()
    assert span.attributes[error_attributes.ERROR_TYPE] == "NotFoundError"
    assert span.attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] == 404


def test_azure_embeddings_401(instrumented, replay, azure_client, recorded, spans):
    server = replay("openai/azure_embeddings_with_401.yaml")
    oai = azure_client(server, api_version="2023-07-01-preview")
    oai.embeddings.create(input="Tell me a joke about opentelemetry", model="test-deployment")
    oai.embeddings.create(input="Tell me a joke about opentelemetry", model="test-deployment")
    with pytest.raises(openai.AuthenticationError):
        oai.embeddings.create(input="Tell me a joke about opentelemetry", model="test-deployment")
    ok, _, failed = spans()
    assert ok.attributes[genai.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert failed.attributes[error_attributes.ERROR_TYPE] == "AuthenticationError"
    assert failed.attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] == 401


def test_legacy_text_completion(instrumented, replay, client, recorded, spans):
    server = replay("openai/legacy_completion_davinci002.yaml")
    response = client(server).completions.create(**recorded(server))
    (span,) = spans()
    assert span.name == "text_completion davinci-002"
    assert span.attributes[genai.GEN_AI_OPERATION_NAME] == "text_completion"
    assert span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)
    assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == response.usage.prompt_tokens
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == response.usage.completion_tokens
