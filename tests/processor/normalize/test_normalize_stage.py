"""The stage's contract: config checking, untouched non-GenAI spans, idempotence and the three options."""

from __future__ import annotations

from typing import Any

import pytest
from normalize_samples import (
    SAMPLES,
    attrs,
    dialect_request,
    flat_request,
    request_of,
    vercel_request,
    views,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.normalize.mapping import SpanEdit, table_sources
from genai_lens.processor.pipeline import Pipeline
from genai_lens.processor.stage import StageConfigError, StageContext
from genai_lens.semconv import GENAI_LENS_NORMALIZE_SOURCE_DIALECT, GenaiLensNormalizeSourceDialectValues


def all_samples() -> list[ExportTraceServiceRequest]:
    requests = [
        dialect_request(path.parent.name, path.stem)
        for path in sorted((SAMPLES / "dialects").glob("*/*.json"))
    ]
    requests += [vercel_request(path.name) for path in sorted((SAMPLES / "vercel-ai-sdk-v6").glob("*.json"))]
    return requests


NON_GENAI: list[tuple[str, dict[str, Any]]] = [
    (
        "GET /users/{id}",
        {"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": 200},
    ),
    (
        "SELECT app.users",
        {"db.system.name": "postgresql", "db.query.text": "SELECT * FROM users WHERE id = $1"},
    ),
    ("chromadb.query", {"db.system": "chromadb", "db.operation": "query", "db.vector.query.top_k": 5}),
    # an OpenInference CHAIN span is not a GenAI operation in OTel terms
    ("RunnableSequence", {"openinference.span.kind": "CHAIN", "input.value": "hi", "session.id": "s1"}),
    ("workflow", {"traceloop.span.kind": "workflow", "traceloop.entity.name": "joke"}),
    ("llm-ish", {"llm.headers": "x", "gen_ai.unrelated": 1}),
]


# -- config ---------------------------------------------------------------------------------------------


def test_config_defaults() -> None:
    stage = NormalizeStage.from_config({}, StageContext())
    assert stage.name == "normalize"
    assert stage.keep_original is True
    assert stage.rename_spans is True


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"keep_originals": True}, "unknown key(s) keep_originals"),
        ({"keep_original": "yes"}, "keep_original must be true or false"),
        ({"rename_spans": 1}, "rename_spans must be true or false"),
        ({"dialects": "openlit"}, "dialects must be a list"),
        ({"dialects": ["openlit", "langfuse"]}, "unknown dialect(s) langfuse"),
        ({"dialects": [3]}, "unknown dialect(s) 3"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(config: dict[str, Any], message: str) -> None:
    with pytest.raises(StageConfigError) as error:
        NormalizeStage.from_config(config, StageContext())
    assert message in str(error.value)
    assert "normalize" in str(error.value)


def test_every_registry_dialect_is_configurable() -> None:
    names = [member.value for member in GenaiLensNormalizeSourceDialectValues]
    NormalizeStage.from_config({"dialects": names}, StageContext())


# -- non-GenAI spans ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "attributes"), NON_GENAI, ids=[n for n, _ in NON_GENAI])
def test_non_genai_spans_pass_byte_for_byte(name: str, attributes: dict[str, Any]) -> None:
    request = flat_request(name, attributes)
    before = request.SerializeToString(deterministic=True)
    Pipeline([NormalizeStage.from_config({"keep_original": False}, StageContext())]).process(request)
    assert request.SerializeToString(deterministic=True) == before


def test_mixed_batch_only_touches_genai_spans() -> None:
    genai = dialect_request("openllmetry", "chat_basic").resource_spans[0].scope_spans[0]
    plain = flat_request(*NON_GENAI[0]).resource_spans[0].scope_spans[0]
    request = request_of([(plain.spans[0], plain.scope), (genai.spans[0], genai.scope)])
    plain_before = request.resource_spans[0].scope_spans[0].SerializeToString(deterministic=True)
    context = StageContext()
    Pipeline([NormalizeStage.from_config({}, context)]).process(request)
    assert request.resource_spans[0].scope_spans[0].SerializeToString(deterministic=True) == plain_before
    assert request.resource_spans[0].scope_spans[1].spans[0].name == "chat gpt-3.5-turbo"
    assert context.stats.get("genai_lens_normalize_spans_total", dialect="openllmetry") == 1


# -- idempotence ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep_original", [True, False])
def test_running_twice_equals_running_once(keep_original: bool) -> None:
    for request in all_samples():
        stage = NormalizeStage(keep_original=keep_original)
        stage.process_batch(views(request))
        once = request.SerializeToString(deterministic=True)
        stage.process_batch(views(request))
        assert request.SerializeToString(deterministic=True) == once


# -- options --------------------------------------------------------------------------------------------


def test_keep_original_false_removes_mapped_source_keys() -> None:
    (kept,) = views(dialect_request("openinference", "chat_tool_call"))
    (dropped,) = views(dialect_request("openinference", "chat_tool_call"))
    NormalizeStage().process_batch([kept])
    NormalizeStage(keep_original=False).process_batch([dropped])
    kept_values, dropped_values = attrs(kept), attrs(dropped)
    removed = set(kept_values) - set(dropped_values)
    assert {"llm.token_count.prompt", "llm.model_name", "llm.finish_reason", "llm.provider"} <= removed
    assert not any(
        k.startswith(("llm.input_messages.", "llm.output_messages.", "llm.tools.")) for k in dropped_values
    )
    for key, value in dropped_values.items():  # every current-name value is the same either way
        assert kept_values[key] == value
    # unmapped keys (raw copies, totals) stay
    assert {"input.value", "output.value", "llm.token_count.total", "openinference.span.kind"} <= set(
        dropped_values
    )


def test_rename_spans_false_keeps_the_source_name() -> None:
    (span,) = views(dialect_request("openllmetry", "chat_basic"))
    NormalizeStage(rename_spans=False).process_batch([span])
    assert span.span.name == "openai.chat"
    assert span.get(ga.GEN_AI_USAGE_INPUT_TOKENS) is not None


def test_disabled_dialect_is_left_alone() -> None:
    request = dialect_request("openinference", "chat_basic")
    before = request.SerializeToString(deterministic=True)
    stage = NormalizeStage.from_config({"dialects": ["openllmetry", "vercel_ai"]}, StageContext())
    stage.process_batch(views(request))
    assert request.SerializeToString(deterministic=True) == before
    other = dialect_request("openllmetry", "chat_basic")
    stage.process_batch(views(other))
    assert views(other)[0].get(GENAI_LENS_NORMALIZE_SOURCE_DIALECT) == "openllmetry"


def test_process_span_counts_like_process_batch() -> None:
    context = StageContext()
    stage = NormalizeStage.from_config({}, context)
    for span in views(vercel_request("ai-generateText-doGenerate.json")):
        stage.process_span(span)
    assert context.stats.get("genai_lens_normalize_spans_total", dialect="vercel_ai") == 2


def test_span_kind_and_ids_are_never_changed() -> None:
    request = dialect_request("openinference", "anthropic_tool_use")
    span: Span = request.resource_spans[0].scope_spans[0].spans[0]
    identity = (span.trace_id, span.span_id, span.kind, span.start_time_unix_nano, span.end_time_unix_nano)
    NormalizeStage().process_batch(views(request))
    assert (
        span.trace_id,
        span.span_id,
        span.kind,
        span.start_time_unix_nano,
        span.end_time_unix_nano,
    ) == identity


def test_dropping_originals_never_drops_a_value_that_did_not_map() -> None:
    """keep_original=false removes a source key only when its meaning is on the span under a current name."""
    (span,) = views(
        flat_request(
            "odd",
            {
                "openinference.span.kind": "LLM",
                "llm.token_count.prompt": "many",  # not a number: nothing to copy
                "llm.token_count.completion": 7,
                "llm.provider": "openai",
            },
        )
    )
    NormalizeStage(keep_original=False).process_batch([span])
    values = attrs(span)
    assert values["llm.token_count.prompt"] == "many"
    assert ga.GEN_AI_USAGE_INPUT_TOKENS not in values
    assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert "llm.token_count.completion" not in values

    (legacy,) = views(
        flat_request("cohere.rerank", {ga.GEN_AI_SYSTEM: "Cohere", "llm.request.type": "rerank"})
    )
    NormalizeStage(keep_original=False).process_batch([legacy])
    values = attrs(legacy)
    assert values["llm.request.type"] == "rerank"  # no OTel operation for it: kept
    assert values[ga.GEN_AI_PROVIDER_NAME] == "cohere"
    assert ga.GEN_AI_SYSTEM not in values


def test_rename_tables_skip_absent_sources_only_when_no_pair_feeds_another() -> None:
    """``SpanEdit.apply`` skips pairs by one key-set intersection, which is only right when no pair's
    target is another pair's source; a chained table is run pair by pair, so the chain still completes."""
    chained = (("vendor.model", "vendor.model_id"), ("vendor.model_id", ga.GEN_AI_REQUEST_MODEL))
    flat = (("vendor.model", ga.GEN_AI_REQUEST_MODEL), ("vendor.tokens", ga.GEN_AI_USAGE_INPUT_TOKENS))
    assert table_sources(chained) is None
    assert table_sources(flat) == frozenset({"vendor.model", "vendor.tokens"})

    (view,) = views(flat_request("call", {"vendor.model": "gpt-4o"}))
    edit = SpanEdit(view)
    edit.apply(chained)
    assert view.get("vendor.model_id") == "gpt-4o" and view.get(ga.GEN_AI_REQUEST_MODEL) == "gpt-4o"
    assert edit.consumed == ["vendor.model", "vendor.model_id"]

    (view,) = views(flat_request("call", {"vendor.tokens": "12", ga.GEN_AI_REQUEST_MODEL: "mine"}))
    edit = SpanEdit(view)
    edit.apply(flat)
    assert view.get(ga.GEN_AI_USAGE_INPUT_TOKENS) == 12  # converted by the target's converter
    assert view.get(ga.GEN_AI_REQUEST_MODEL) == "mine"  # the span's own value wins
    assert edit.consumed == ["vendor.tokens"]
