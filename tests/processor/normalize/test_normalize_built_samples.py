"""Dialects with no span dump in span-samples, rebuilt from their published conventions.

OpenLIT, the OTel contrib instrumentation in its old (v1.30 and earlier) mode, genai-otel-instrument and
OpenLLMetry ≤ 0.54 have no recorded spans here (OpenLIT has no fixtures at all, see
notes/dialects.md §1). Each sample below is built from the attribute names those packages publish
(notes/dialects.md §2-3 and notes/anchors.md §2: OpenLIT 1.45 ``semcov``, contrib ``openai-v2`` with
``Schemas.V1_30_0``, genai-otel 1.42 ``semconv.py`` "both names" mode, OpenLLMetry 0.52 ``gen_ai.prompt.N``)
and filled with the numbers of a real recorded call from ../shared/cassettes, so every expected value is
the provider's own. The same goes for span shapes the dumps lack: OpenInference EMBEDDING/TOOL/AGENT/
RETRIEVER kinds (OpenInference spec), Vercel ``ai.toolCall``/``ai.embed.doEmbed`` (AI SDK telemetry docs)
and the provider-value vocabularies listed in notes/anchors.md §2. (Anthropic's native SDK spans are
produced for real in test_normalize_anthropic_native.py.)
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from normalize_samples import (
    BASIC_CASSETTE,
    BASIC_ID,
    CACHE_CASSETTE,
    CACHE_READ_ID,
    CACHE_WRITE_ID,
    SCHEMAS,
    TOOL_CASSETTE,
    TOOL_ID,
    attrs,
    flat_request,
    load_json,
    openlit_anthropic,
    recorded_call,
    reply_text,
    views,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga
from opentelemetry.semconv._incubating.attributes import openai_attributes as oa

from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import GEN_AI_USAGE_COST, GENAI_LENS_NORMALIZE_SOURCE_DIALECT

INPUT_SCHEMA = jsonschema.Draft202012Validator(load_json(SCHEMAS / "gen-ai-input-messages.json"))
OUTPUT_SCHEMA = jsonschema.Draft202012Validator(load_json(SCHEMAS / "gen-ai-output-messages.json"))


def run(name: str, attributes: dict[str, Any], scope: str = "test", **config: Any) -> SpanView:
    (span,) = views(flat_request(name, attributes, scope))
    NormalizeStage(**config).process_batch([span])
    return span


def valid_content(values: dict[str, Any]) -> None:
    INPUT_SCHEMA.validate(json.loads(values[ga.GEN_AI_INPUT_MESSAGES]))
    OUTPUT_SCHEMA.validate(json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES]))


def user_text(call: Any) -> str:
    content = [m for m in call.request["messages"] if m["role"] == "user"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


# -- OpenLIT 1.45 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("response_id", [CACHE_WRITE_ID, CACHE_READ_ID])
def test_openlit_anthropic_input_gets_its_cache_back(response_id: str) -> None:
    attributes, call = openlit_anthropic(response_id, cost=0.0)
    assert attributes[ga.GEN_AI_USAGE_INPUT_TOKENS] < call.input_total  # the quirk is really there
    span = run(f"chat {call.request['model']}", attributes, scope="openlit.otel.tracing")
    values = attrs(span)
    assert values[GENAI_LENS_NORMALIZE_SOURCE_DIALECT] == "openlit"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert values[ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == call.cache_read
    assert values[ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == call.cache_creation
    assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == call.output
    assert values[ga.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert GEN_AI_USAGE_COST not in values  # 0 meant "no price", not "free"
    valid_content(values)
    parts = json.loads(values[ga.GEN_AI_INPUT_MESSAGES])[0]["parts"]
    assert [p["type"] for p in parts] == ["text"]
    assert parts[0]["content"] == user_text(call)


def test_openlit_real_cost_is_kept_and_zero_cost_is_counted() -> None:
    context = StageContext()
    attributes, call = openlit_anthropic(CACHE_WRITE_ID, cost=0.0123)
    (priced,) = views(flat_request("chat x", attributes))
    zero_attributes, _ = openlit_anthropic(CACHE_READ_ID, cost=0)
    (unpriced,) = views(flat_request("chat x", zero_attributes))
    stage = NormalizeStage.from_config({}, context)
    stage.process_batch([priced, unpriced])
    assert priced.get(GEN_AI_USAGE_COST) == pytest.approx(0.0123)
    assert unpriced.get(GEN_AI_USAGE_COST) is None
    assert context.stats.get("genai_lens_normalize_value_fixes_total", fix="zero_cost_dropped") == 1
    assert context.stats.get("genai_lens_normalize_spans_total", dialect="openlit") == 2


def test_openlit_openai_input_is_left_alone() -> None:
    """OpenAI's prompt_tokens already include cached tokens: only Anthropic gets the fix."""
    call = recorded_call(BASIC_CASSETTE, BASIC_ID)
    span = run(
        "chat gpt-3.5-turbo",
        {
            "telemetry.sdk.name": "openlit",
            ga.GEN_AI_OPERATION_NAME: "chat",
            ga.GEN_AI_PROVIDER_NAME: "openai",
            ga.GEN_AI_REQUEST_MODEL: call.request["model"],
            ga.GEN_AI_USAGE_INPUT_TOKENS: call.input_total,
            ga.GEN_AI_USAGE_OUTPUT_TOKENS: call.output,
            ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
            ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
            "gen_ai.usage.reasoning_tokens": 0,
        },
    )
    assert span.get(ga.GEN_AI_USAGE_INPUT_TOKENS) == call.input_total
    assert span.get(ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS) == 0


@pytest.mark.parametrize(
    ("openlit_value", "otel_value"),
    [
        ("ibm.watson.ai", "ibm.watsonx.ai"),
        ("vertex_ai", "gcp.vertex_ai"),
        ("xai", "x_ai"),
        ("gemini", "gcp.gemini"),
    ],
)
def test_openlit_provider_vocabulary(openlit_value: str, otel_value: str) -> None:
    span = run(
        "chat m",
        {
            "telemetry.sdk.name": "openlit",
            ga.GEN_AI_OPERATION_NAME: "chat",
            ga.GEN_AI_PROVIDER_NAME: openlit_value,
        },
    )
    assert span.get(ga.GEN_AI_PROVIDER_NAME) == otel_value


# -- OTel contrib openai-v2, default (v1.30) and older modes --------------------------------------------


def test_contrib_v130_span() -> None:
    call = recorded_call(TOOL_CASSETTE, TOOL_ID)
    span = run(
        f"chat {call.request['model']}",
        {
            ga.GEN_AI_SYSTEM: "openai",
            ga.GEN_AI_OPERATION_NAME: "chat",
            ga.GEN_AI_REQUEST_MODEL: call.request["model"],
            ga.GEN_AI_RESPONSE_MODEL: call.model,
            ga.GEN_AI_RESPONSE_ID: call.response_id,
            ga.GEN_AI_RESPONSE_FINISH_REASONS: call.finish_reasons,  # raw "tool_calls"
            ga.GEN_AI_USAGE_INPUT_TOKENS: call.input_total,
            ga.GEN_AI_USAGE_OUTPUT_TOKENS: call.output,
            ga.GEN_AI_OPENAI_RESPONSE_SERVICE_TIER: "default",
            "server.address": "api.openai.com",
        },
        scope="opentelemetry.instrumentation.openai_v2",
    )
    values = attrs(span)
    assert values[GENAI_LENS_NORMALIZE_SOURCE_DIALECT] == "otel_genai_legacy"
    assert values[ga.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[ga.GEN_AI_RESPONSE_FINISH_REASONS] == ["tool_call"]
    assert values[oa.OPENAI_RESPONSE_SERVICE_TIER] == "default"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert span.span.name == f"chat {call.request['model']}"  # already conventional: untouched
    assert values[ga.GEN_AI_SYSTEM] == "openai"  # originals stay by default


def test_contrib_pre_v128_names_and_content_events() -> None:
    """Oldest form: prompt/completion token names, gen_ai.openai.request.*, content in span events."""
    call = recorded_call(BASIC_CASSETTE, BASIC_ID)
    (span,) = views(
        flat_request(
            "chat gpt-3.5-turbo",
            {
                ga.GEN_AI_SYSTEM: "az.ai.openai",
                ga.GEN_AI_OPERATION_NAME: "chat",
                ga.GEN_AI_REQUEST_MODEL: call.request["model"],
                ga.GEN_AI_USAGE_PROMPT_TOKENS: call.input_total,
                ga.GEN_AI_USAGE_COMPLETION_TOKENS: call.output,
                ga.GEN_AI_OPENAI_REQUEST_SEED: 42,
                ga.GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT: "json_object",
                ga.GEN_AI_RESPONSE_FINISH_REASONS: call.finish_reasons,
            },
        )
    )
    for event_name, key, value in (
        ("gen_ai.content.prompt", ga.GEN_AI_PROMPT, json.dumps(call.request["messages"])),
        (
            "gen_ai.content.completion",
            ga.GEN_AI_COMPLETION,
            json.dumps([{"role": "assistant", "content": reply_text(BASIC_CASSETTE, BASIC_ID)}]),
        ),
    ):
        event = span.span.events.add(name=event_name)
        kv: KeyValue = event.attributes.add(key=key)
        kv.value.string_value = value
    NormalizeStage(keep_original=False).process_batch([span])
    values = attrs(span)
    assert values[ga.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == call.output
    assert values[ga.GEN_AI_REQUEST_SEED] == 42
    assert values[ga.GEN_AI_OUTPUT_TYPE] == "json"
    for old in (ga.GEN_AI_SYSTEM, ga.GEN_AI_USAGE_PROMPT_TOKENS, ga.GEN_AI_OPENAI_REQUEST_SEED):
        assert old not in values
    valid_content(values)
    assert json.loads(values[ga.GEN_AI_INPUT_MESSAGES])[0]["parts"][0]["content"] == user_text(call)
    output = json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES])[0]
    assert output["parts"][0]["content"] == reply_text(BASIC_CASSETTE, BASIC_ID)
    assert output["finish_reason"] == "stop"


# -- genai-otel-instrument 1.42 (current + superseded names) --------------------------------------------


def test_genai_otel_double_names_are_deduplicated_not_summed() -> None:
    call = recorded_call(CACHE_CASSETTE, CACHE_WRITE_ID)
    answer = reply_text(CACHE_CASSETTE, CACHE_WRITE_ID)
    span = run(
        "anthropic.messages.create",
        {
            ga.GEN_AI_SYSTEM: "anthropic",
            ga.GEN_AI_PROVIDER_NAME: "anthropic",
            "gen_ai.request.type": "chat",
            ga.GEN_AI_REQUEST_MODEL: call.request["model"],
            ga.GEN_AI_RESPONSE_MODEL: call.model,
            ga.GEN_AI_USAGE_INPUT_TOKENS: call.input_total,
            ga.GEN_AI_USAGE_PROMPT_TOKENS: call.input_total,
            ga.GEN_AI_USAGE_OUTPUT_TOKENS: call.output,
            ga.GEN_AI_USAGE_COMPLETION_TOKENS: call.output,
            "gen_ai.usage.total_tokens": call.input_total + call.output,
            "gen_ai.usage.cache_write.input_tokens": call.cache_creation,
            ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: call.cache_creation,
            "gen_ai.usage.token_count_estimated": False,
            "gen_ai.response.finish_reason": call.finish_reasons[0],
            "gen_ai.prompt.system": call.request["system"][0]["text"],
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": user_text(call),
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": answer,
            "gen_ai.server.ttft": 0.25,
        },
        scope="genai_otel.instrumentors.anthropic_instrumentor",
    )
    values = attrs(span)
    assert values[GENAI_LENS_NORMALIZE_SOURCE_DIALECT] == "genai_otel_instrument"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == call.output
    assert values[ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == call.cache_creation
    assert values["gen_ai.usage.token_count_estimated"] is False
    assert values[ga.GEN_AI_OPERATION_NAME] == "chat"
    assert values[ga.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert values[ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == 0.25
    assert (
        json.loads(values[ga.GEN_AI_SYSTEM_INSTRUCTIONS])[0]["content"] == call.request["system"][0]["text"]
    )
    valid_content(values)
    assert json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]["content"] == answer
    assert span.span.name == f"chat {call.request['model']}"


def test_genai_otel_old_name_only_is_copied() -> None:
    span = run(
        "openai.chat.completion",
        {
            ga.GEN_AI_SYSTEM: "openai",
            "gen_ai.request.type": "chat",
            ga.GEN_AI_USAGE_PROMPT_TOKENS: 15,
            "gen_ai.usage.token_count_estimated": True,
        },
    )
    assert span.get(ga.GEN_AI_USAGE_INPUT_TOKENS) == 15
    assert span.get("gen_ai.usage.token_count_estimated") is True


# -- OpenLLMetry ≤ 0.54 ---------------------------------------------------------------------------------


def test_openllmetry_legacy_anthropic_cache_write() -> None:
    call = recorded_call(CACHE_CASSETTE, CACHE_WRITE_ID)
    answer = reply_text(CACHE_CASSETTE, CACHE_WRITE_ID)
    span = run(
        "anthropic.chat",
        {
            ga.GEN_AI_SYSTEM: "Anthropic",
            "llm.request.type": "completion",
            ga.GEN_AI_REQUEST_MODEL: call.request["model"],
            ga.GEN_AI_REQUEST_MAX_TOKENS: call.request["max_tokens"],
            ga.GEN_AI_RESPONSE_MODEL: call.model,
            ga.GEN_AI_RESPONSE_ID: call.response_id,
            ga.GEN_AI_USAGE_PROMPT_TOKENS: call.input_total,
            ga.GEN_AI_USAGE_COMPLETION_TOKENS: call.output,
            "llm.usage.total_tokens": call.input_total + call.output,
            "gen_ai.usage.cache_creation_input_tokens": call.cache_creation,
            "gen_ai.usage.cache_read_input_tokens": call.cache_read,
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": call.request["system"][0]["text"],
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": json.dumps(call.request["messages"][0]["content"]),
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": answer,
            "gen_ai.completion.0.finish_reason": call.finish_reasons[0],
        },
        scope="opentelemetry.instrumentation.anthropic",
    )
    values = attrs(span)
    assert values[GENAI_LENS_NORMALIZE_SOURCE_DIALECT] == "openllmetry_legacy"
    assert values[ga.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert values[ga.GEN_AI_OPERATION_NAME] == "chat"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == call.output
    assert values[ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == call.cache_creation
    assert values[ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == call.cache_read
    assert values[ga.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert span.span.name == f"chat {call.request['model']}"
    valid_content(values)
    inputs = json.loads(values[ga.GEN_AI_INPUT_MESSAGES])
    assert [m["role"] for m in inputs] == ["system", "user"]
    assert inputs[1]["parts"][0] == {"type": "text", "content": user_text(call)}  # JSON blocks unpacked
    assert json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES])[0]["finish_reason"] == "stop"


def test_openllmetry_legacy_openai_tool_call() -> None:
    call = recorded_call(TOOL_CASSETTE, TOOL_ID)
    tool = call.request["tools"][0]["function"]
    reply = _tool_reply()
    span = run(
        "openai.chat",
        {
            ga.GEN_AI_SYSTEM: "openai",
            "llm.request.type": "chat",
            ga.GEN_AI_REQUEST_MODEL: call.request["model"],
            "llm.usage.prompt_tokens": call.input_total,
            "llm.usage.completion_tokens": call.output,
            "llm.usage.total_tokens": call.input_total + call.output,
            "llm.is_streaming": False,
            "gen_ai.openai.system_fingerprint": "fp_test",
            "llm.request.functions.0.name": tool["name"],
            "llm.request.functions.0.description": tool["description"],
            "llm.request.functions.0.parameters": json.dumps(tool["parameters"]),
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": user_text(call),
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": call.finish_reasons[0],
            "gen_ai.completion.0.tool_calls.0.id": reply["id"],
            "gen_ai.completion.0.tool_calls.0.name": reply["function"]["name"],
            "gen_ai.completion.0.tool_calls.0.arguments": reply["function"]["arguments"],
        },
        keep_original=False,
    )
    values = attrs(span)
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
    assert values[ga.GEN_AI_REQUEST_STREAM] is False
    assert values[oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == "fp_test"
    assert json.loads(values[ga.GEN_AI_TOOL_DEFINITIONS]) == [{"type": "function", **tool}]
    output = json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES])[0]
    assert output["finish_reason"] == "tool_call"
    assert output["parts"] == [
        {
            "type": "tool_call",
            "id": reply["id"],
            "name": reply["function"]["name"],
            "arguments": json.loads(reply["function"]["arguments"]),
        }
    ]
    valid_content(values)
    # mapped source keys are gone; the unmapped total (no current name) stays
    assert [k for k in values if k.startswith(("gen_ai.prompt.", "gen_ai.completion.", "llm."))] == [
        "llm.usage.total_tokens"
    ]


def _tool_reply() -> dict[str, Any]:
    from normalize_samples import SHARED

    from genai_lens.replay import load_cassette

    for interaction in load_cassette(SHARED.parent / TOOL_CASSETTE):
        if TOOL_ID.encode() in interaction.body:
            return json.loads(interaction.body)["choices"][0]["message"]["tool_calls"][0]
    raise AssertionError(TOOL_ID)


# -- provider vocabularies (notes/anchors.md §2 "Provider value vocabularies") ---------------------------


@pytest.mark.parametrize(
    ("llm_provider", "llm_system", "expected"),
    [
        ("openai", "openai", "openai"),
        ("azure", "openai", "azure.ai.openai"),
        ("azure", "mistralai", "azure.ai.inference"),
        ("google", "vertexai", "gcp.vertex_ai"),
        ("google", None, "gcp.gemini"),
        ("aws", "anthropic", "aws.bedrock"),
        ("mistralai", "mistralai", "mistral_ai"),
        ("xai", None, "x_ai"),
        (None, "cohere", "cohere"),
    ],
)
def test_openinference_provider_and_system_pairs(
    llm_provider: str | None, llm_system: str | None, expected: str
) -> None:
    attributes: dict[str, Any] = {"openinference.span.kind": "LLM", "llm.model_name": "m"}
    if llm_provider:
        attributes["llm.provider"] = llm_provider
    if llm_system:
        attributes["llm.system"] = llm_system
    span = run("ChatCompletion", attributes)
    assert span.get(ga.GEN_AI_PROVIDER_NAME) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("az.ai.openai", "azure.ai.openai"), ("MistralAI", "mistral_ai"), ("together_ai", "together_ai")],
)
def test_openllmetry_provider_values(value: str, expected: str) -> None:
    span = run(
        "openai.chat",
        {ga.GEN_AI_PROVIDER_NAME: value, ga.GEN_AI_OPERATION_NAME: "chat", "gen_ai.usage.total_tokens": 2},
    )
    assert span.get(GENAI_LENS_NORMALIZE_SOURCE_DIALECT) == "openllmetry"
    assert span.get(ga.GEN_AI_PROVIDER_NAME) == expected


# -- Vercel AI SDK spans with no capture in span-samples (AI SDK telemetry docs: ai.toolCall, ai.embed) ------


def test_vercel_tool_call_span_becomes_execute_tool() -> None:
    span = run(
        "ai.toolCall",
        {
            "ai.operationId": "ai.toolCall",
            "ai.toolCall.name": "get_weather",
            "ai.toolCall.id": "call_1",
            "ai.toolCall.args": '{"city":"Paris"}',
            "ai.toolCall.result": '{"temp":12}',
        },
    )
    values = attrs(span)
    assert values[ga.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert values[ga.GEN_AI_TOOL_NAME] == "get_weather"
    assert values[ga.GEN_AI_TOOL_CALL_ID] == "call_1"
    assert values[ga.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city":"Paris"}'
    assert values[ga.GEN_AI_TOOL_CALL_RESULT] == '{"temp":12}'
    assert span.span.name == "execute_tool get_weather"


def test_vercel_embed_span_becomes_embeddings() -> None:
    span = run(
        "ai.embed.doEmbed",
        {
            "ai.operationId": "ai.embed.doEmbed",
            "ai.model.id": "text-embedding-3-small",
            "ai.model.provider": "openai.embedding",
            "ai.usage.tokens": 8,
        },
    )
    values = attrs(span)
    assert values[ga.GEN_AI_OPERATION_NAME] == "embeddings"
    assert values[ga.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == 8
    assert span.span.name == "embeddings text-embedding-3-small"


# -- OpenInference span kinds besides LLM (OpenInference spec: semantic_conventions.md) ---------------------


@pytest.mark.parametrize(
    ("kind", "extra", "operation", "name"),
    [
        (
            "EMBEDDING",
            {"embedding.model_name": "text-embedding-3-small", "llm.token_count.prompt": 8},
            "embeddings",
            "embeddings text-embedding-3-small",
        ),
        (
            "TOOL",
            {"tool.name": "get_weather", "tool.description": "weather"},
            "execute_tool",
            "execute_tool get_weather",
        ),
        ("AGENT", {"agent.name": "planner"}, "invoke_agent", "invoke_agent planner"),
        ("RETRIEVER", {"input.value": "what is otel"}, "retrieval", "VectorIndexRetriever.retrieve"),
    ],
)
def test_openinference_other_kinds(kind: str, extra: dict[str, Any], operation: str, name: str) -> None:
    span = run("VectorIndexRetriever.retrieve", {"openinference.span.kind": kind, **extra})
    assert span.get(ga.GEN_AI_OPERATION_NAME) == operation
    assert span.span.name == name
    if kind == "EMBEDDING":
        assert span.get(ga.GEN_AI_REQUEST_MODEL) == "text-embedding-3-small"
        assert span.get(ga.GEN_AI_USAGE_INPUT_TOKENS) == 8


def test_openlit_is_recognised_by_its_tracer_scope_alone() -> None:
    """OpenLIT names its tracer after its module ``openlit.otel.tracing``; no marker attribute needed."""
    attributes, call = openlit_anthropic(CACHE_WRITE_ID, cost=0.0)
    for key in ("telemetry.sdk.name", "gen_ai.sdk.version", "gen_ai.client.token.usage"):
        del attributes[key]
    span = run("chat x", attributes, scope="openlit.otel.tracing")
    assert span.get(GENAI_LENS_NORMALIZE_SOURCE_DIALECT) == "openlit"
    assert span.get(ga.GEN_AI_USAGE_INPUT_TOKENS) == call.input_total
