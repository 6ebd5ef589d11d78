"""The ``normalize`` stage on the native core against the Python stage, on the same request bytes.

The Python stage (``NormalizeStage.process_batch`` over the span views of a decoded request) is the
reference: for every corpus the normalize tests use (the peers' span dumps, the hand-built dialect
samples, the benchmark payload) and for generated odd spans, the native step must produce an equal
request and record the same stats, under every config variant.
"""

from __future__ import annotations

import inspect
import itertools
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import genai_lens_native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_samples import (
    SAMPLES,
    dialect_request,
    flat_request,
    flat_span,
    load_json,
    request_of,
    vercel_request,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.normalize import detect as d
from genai_lens.processor.normalize.native import NativeNormalize
from genai_lens.processor.pipeline import span_views
from genai_lens.processor.stage import StageContext
from genai_lens.processor.stats import Stats

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))

from payload import build_requests  # noqa: E402

CONFIGS: list[dict[str, Any]] = [
    {},
    {"keep_original": False},
    {"rename_spans": False},
    {"keep_original": False, "rename_spans": False},
    {"dialects": ["otel_genai", "openinference", "openlit"]},
    {"dialects": []},
]
CONFIG_IDS = [
    "default",
    "drop-originals",
    "keep-names",
    "drop-and-keep-names",
    "some-dialects",
    "no-dialects",
]

Stat = tuple[str, tuple[tuple[str, str], ...], float]


def run_python(body: bytes, config: Mapping[str, Any]) -> tuple[ExportTraceServiceRequest, list[Stat]]:
    stats = Stats()
    stage = NormalizeStage.from_config(config, StageContext(stats=stats))
    request = ExportTraceServiceRequest.FromString(body)
    stage.process_batch(span_views(request))
    return request, snapshot(stats)


def run_native(body: bytes, config: Mapping[str, Any]) -> tuple[ExportTraceServiceRequest, list[Stat]]:
    stats = Stats()
    stage = NormalizeStage.from_config(config, StageContext(stats=stats))
    step = stage.native_step()
    assert isinstance(step, NativeNormalize)
    batch = genai_lens_native.Batch(body)
    step.run(batch)
    return ExportTraceServiceRequest.FromString(batch.encode()), snapshot(stats)


def snapshot(stats: Stats) -> list[Stat]:
    return [(metric, labels, value) for metric, _, _, labels, value in stats.snapshot()]


def assert_same(body: bytes, config: Mapping[str, Any]) -> list[Stat]:
    """Both stages on ``body``; equal requests (span by span, for a readable failure) and equal stats."""
    expected, expected_stats = run_python(body, config)
    actual, actual_stats = run_native(body, config)
    expected_spans = [view.span for view in span_views(expected)]
    actual_spans = [view.span for view in span_views(actual)]
    assert len(actual_spans) == len(expected_spans)
    for index, (want, got) in enumerate(zip(expected_spans, actual_spans, strict=True)):
        assert got == want, f"span {index} ({want.name!r}) differs"
    assert actual == expected
    assert actual_stats == expected_stats
    return expected_stats


def normalized_spans(stats: list[Stat]) -> float:
    return sum(value for metric, _, value in stats if metric == "genai_lens_normalize_spans_total")


# -- corpora ---------------------------------------------------------------------------------------------


def dump_requests() -> dict[str, bytes]:
    """Every span dump the normalize tests load from ../shared/span-samples, as request bytes."""
    bodies: dict[str, bytes] = {}
    for path in sorted((SAMPLES / "dialects").glob("*/*.json")):
        bodies[f"{path.parent.name}/{path.stem}"] = dialect_request(
            path.parent.name, path.stem
        ).SerializeToString()
    for path in sorted((SAMPLES / "vercel-ai-sdk-v6").glob("*.json")):
        bodies[f"vercel/{path.stem}"] = vercel_request(path.name).SerializeToString()
    for path in sorted((SAMPLES / "openinference-genai").glob("*.json")):
        bodies[f"openinference-genai/{path.stem}"] = flat_request(
            path.stem, load_json(path)
        ).SerializeToString()
    return bodies


DUMPS = dump_requests()


def test_every_dump_is_found() -> None:
    assert sum(key.startswith(("openinference/", "openllmetry/")) for key in DUMPS) >= 18
    assert sum(key.startswith("vercel/") for key in DUMPS) >= 5
    assert sum(key.startswith("openinference-genai/") for key in DUMPS) >= 5


def _parameter_sets(function: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """The keyword arguments of every case of a ``pytest.mark.parametrize``-d test function."""
    axes = []
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = (
            [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else mark.args[0]
        )
        cases = []
        for case in mark.args[1]:
            values = case.values if hasattr(case, "values") else case
            values = values if len(names) > 1 else (values[0] if hasattr(case, "values") else values,)
            cases.append(dict(zip(names, values, strict=True)))
        axes.append(cases)
    for combination in itertools.product(*axes):
        merged: dict[str, Any] = {}
        for part in combination:
            merged.update(part)
        yield merged


def built_sample_requests() -> list[tuple[str, bytes]]:
    """The hand-built samples of test_normalize_built_samples.py: its tests are run once with a recorder
    around ``flat_request``, so the requests are exactly the ones those tests build."""
    import test_normalize_built_samples as built

    recorded: list[tuple[str, bytes]] = []
    original = built.flat_request

    def recording(name: str, attributes: Mapping[str, Any], scope: str = "test") -> ExportTraceServiceRequest:
        request = original(name, attributes, scope)
        recorded.append((f"{current}:{name}", request.SerializeToString()))
        return request

    built.flat_request = recording
    try:
        for current, function in sorted(vars(built).items()):
            if not current.startswith("test_") or not inspect.isfunction(function):
                continue
            for kwargs in _parameter_sets(function):
                function(**kwargs)
    finally:
        built.flat_request = original
    return recorded


BUILT = built_sample_requests()


def test_built_samples_are_recorded() -> None:
    assert len(BUILT) >= 30
    assert len({name.split(":")[0] for name, _ in BUILT}) >= 15


# -- parity ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("name", sorted(DUMPS))
def test_span_dumps(name: str, config: dict[str, Any]) -> None:
    stats = assert_same(DUMPS[name], config)
    if config.get("dialects") is None:
        assert normalized_spans(stats) >= 1  # the dump really went through a mapper


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_built_samples(config: dict[str, Any]) -> None:
    normalized = 0.0
    for _, body in BUILT:
        normalized += normalized_spans(assert_same(body, config))
    if config.get("dialects") is None:
        assert normalized >= len(BUILT) - 5  # nearly every sample is a GenAI span of some dialect


@pytest.mark.parametrize("config", CONFIGS[:4], ids=CONFIG_IDS[:4])
def test_benchmark_payload(config: dict[str, Any]) -> None:
    for body in build_requests(2):
        stats = assert_same(body, config)
        labels = {dict(labels)["dialect"] for metric, labels, _ in stats if metric.endswith("spans_total")}
        assert labels == {"otel_genai", "openllmetry_legacy", "openinference"}


def native_pass(
    body: bytes, config: Mapping[str, Any] | None = None
) -> tuple[list[Any], list[Any], list[int]]:
    """The extension's own pass (before the Python fallback): counts, fixes and the spans it left."""
    step = NormalizeStage.from_config(config or {}, StageContext()).native_step()
    assert isinstance(step, NativeNormalize)
    return genai_lens_native.Batch(body).normalize(step._normalizer)


def test_benchmark_spans_stay_native() -> None:
    """The payload's three dialects are mapped by the extension itself (no span handed to Python)."""
    for body in build_requests(1):
        counts, fixes, fallback = native_pass(body)
        assert fallback == [] and fixes == []
        assert sum(count for _, count in counts) > 100


def test_every_dump_is_mapped_natively() -> None:
    for name, body in DUMPS.items():
        counts, _, fallback = native_pass(body)
        assert fallback == [], name
        assert counts, name


def test_repeated_keys_go_through_python() -> None:
    """A span with a repeated key (the Python index sees the last copy) is left to the Python stage."""
    request = request_of([flat_span("openai.chat", {"gen_ai.system": "OpenAI", "llm.request.type": "chat"})])
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.add(key="gen_ai.system").value.string_value = "Anthropic"
    body = request.SerializeToString()
    counts, _, fallback = native_pass(body)
    assert counts == [] and fallback == [0]
    for config in CONFIGS:
        assert_same(body, config)
    expected, _ = run_python(body, {})
    provider = [
        kv
        for kv in expected.resource_spans[0].scope_spans[0].spans[0].attributes
        if kv.key == "gen_ai.provider.name"
    ]
    assert [kv.value.string_value for kv in provider] == ["anthropic"]


def test_openlit_fixes_are_counted() -> None:
    """OpenLIT's value fixes (cache added back, zero cost dropped) land in the same fixes counter."""
    bodies = [body for name, body in BUILT if name.startswith("test_openlit")]
    assert bodies
    fixes = [stat for body in bodies for stat in assert_same(body, {}) if "value_fixes" in stat[0]]
    assert {dict(labels)["fix"] for _, labels, _ in fixes} >= {"uncached_input_fixed", "zero_cost_dropped"}


def test_native_step_is_none_without_the_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "genai_lens_native", None)
    assert NormalizeStage().native_step() is None


def test_ported_dialects_are_known() -> None:
    assert sorted(genai_lens_native.Normalizer.ported_dialects()) == sorted(d.ALL_DIALECTS)
    with pytest.raises(ValueError):
        genai_lens_native.Normalizer(dialects=["no-such-dialect"])


# -- generated odd spans ---------------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_JSONISH = st.sampled_from(
    [
        "",
        "[]",
        "{}",
        "null",
        "[1, 2.5, true, null]",
        '["stop", "tool_calls"]',
        '[{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]',
        '[{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]',
        '[{"type": "image_url", "image_url": {"url": "http://x/y.png"}}, {"type": 5}]',
        '{"id": "chatcmpl-1", "choices": [{"finish_reason": "length"}, {"finish_reason": null}]}',
        '{ "id" : "resp\\u00e9", "stop_reason": "end_turn", "text": "done"}',
        '{"model": "gpt-x", "temperature": "0.5", "max_tokens": 1e3, "seed": 99999999999999999999}',
        '{"messages": [{"role": "user", "content": "q",'
        ' "tool_calls": [{"id": "c", "function": {"name": "f"}}, {"function": "x"}]}]}',
        '[{"role": "system", "content": [{"type": "text", "text": 1.5e-7}]}, {"role": 3}]',
        '{"type": "function", "function": {"name": "f", "parameters": {}}}',
        '{"name": "g", "input_schema": {"type": "object"}, "parameters": 1}',
        "NaN",
        "[Infinity, -Infinity, -0.0, 1e16, 123456789012345678]",
        '"\\ud83d\\ude00 \\n\\t\\u0007"',
        "{'not': 'json'}",
        '[{"a": 1,}]',
        " Stop ",
        "END_TURN",
        "azure",
        "Google",
        "tool_use",
        "12",
        " 3.0 ",
        "1e3",
        "inf",
        "-nan",
        "1_000",
        "١٢",
        "TRUE",
        "false",
        "9223372036854775808",
        "openai.responses",
        "LLM",
    ]
)
_SCALARS = st.one_of(
    _TEXT,
    _JSONISH,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=4),
    st.none(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["type", "text", "url", "id", "a"]), inner, max_size=3),
    ),
    max_leaves=6,
)

_FIELDS = {
    "gen_ai.prompt.": [
        "role",
        "content",
        "tool_call_id",
        "tool_calls.0.id",
        "tool_calls.1.name",
        "tool_calls.0.arguments",
        "function_call.name",
        "content.0.type",
        "content.1.text",
    ],
    "gen_ai.completion.": ["role", "content", "finish_reason", "tool_calls.0.name", "tool_calls.0.arguments"],
    "llm.request.functions.": ["name", "description", "parameters"],
    "llm.input_messages.": [
        "message.role",
        "message.content",
        "message.name",
        "message.tool_call_id",
        "message.contents.0.message_content.type",
        "message.contents.0.message_content.text",
        "message.contents.1.message_content.image.image.url",
        "message.contents.0.tool_call.function.name",
        "message.contents.0.tool_call.id",
        "message.tool_calls.0.tool_call.id",
        "message.tool_calls.0.tool_call.function.name",
        "message.tool_calls.0.tool_call.function.arguments",
    ],
    "llm.output_messages.": [
        "message.role",
        "message.content",
        "message.tool_calls.0.tool_call.function.name",
        "message.tool_calls.0.tool_call.id",
    ],
    "llm.tools.": ["tool.json_schema"],
}
_INDEXES = st.sampled_from(["0", "1", "01", "2", "10", "99999999999999999999999", "x", "", "1.5", "٣", "²"])
_PLAIN_KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.completion_tokens",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.name",
        "gen_ai.agent.name",
        "gen_ai.data_source.id",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.openai.request.response_format",
        "gen_ai.is_streaming",
        "gen_ai.usage.reasoning_tokens",
        "llm.request.type",
        "llm.usage.total_tokens",
        "llm.is_streaming",
        "llm.response.finish_reason",
        "llm.top_k",
        "llm.chat.stop_sequences",
        "openinference.span.kind",
        "llm.provider",
        "llm.system",
        "llm.model_name",
        "llm.invocation_parameters",
        "llm.finish_reason",
        "llm.token_count.prompt",
        "llm.token_count.completion",
        "input.value",
        "output.value",
        "tool.name",
        "agent.name",
        "session.id",
        "embedding.model_name",
        "telemetry.sdk.name",
        "http.method",
    ]
)
_OTHER_DIALECT_KEYS = st.sampled_from(
    [
        "ai.operationId",
        "ai.model.id",
        "ai.model.provider",
        "ai.prompt.messages",
        "ai.response.text",
        "ai.response.toolCalls",
        "ai.prompt.tools",
        "ai.response.msToFirstChunk",
        "ai.toolCall.name",
        "gen_ai.usage.cost",
        "gen_ai.sdk.version",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.request.type",
        "gen_ai.prompt.system",
        "llm.tools",
        "anthropic.message.stop_reason",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.server.ttft",
    ]
)
_MARKER_VALUES = {
    "openinference.span.kind": st.sampled_from(["LLM", "EMBEDDING", "TOOL", "AGENT", "RETRIEVER", "CHAIN"]),
    "llm.request.type": st.sampled_from(["chat", "completion", "embedding", "rerank"]),
    "gen_ai.operation.name": st.sampled_from(["chat", "execute_tool", "invoke_agent", "retrieval", "x"]),
    "ai.operationId": st.sampled_from(
        ["ai.generateText.doGenerate", "ai.toolCall", "ai.embed.doEmbed", "ai.x"]
    ),
    "gen_ai.request.type": st.sampled_from(["chat", "completion", "embedding", "invoke_workflow", "x"]),
}


@st.composite
def odd_span_attributes(draw: st.DrawFn) -> dict[str, Any]:
    """A span of one of the benchmark's dialects with odd values: wrong types, huge or non-numeric indexes,
    missing roles, non-JSON content."""
    attributes: dict[str, Any] = {}
    base = draw(
        st.sampled_from(
            [
                "gen_ai.system",
                "openinference.span.kind",
                "gen_ai.operation.name",
                "llm.request.type",
                "ai.operationId",
            ]
        )
    )
    attributes[base] = draw(_MARKER_VALUES.get(base, _TEXT))
    for key in draw(st.lists(_PLAIN_KEYS, max_size=8, unique=True)):
        attributes[key] = draw(_MARKER_VALUES.get(key, _VALUES))
    for key in draw(st.lists(_OTHER_DIALECT_KEYS, max_size=4, unique=True)):
        attributes[key] = draw(_VALUES)
    for _ in range(draw(st.integers(0, 6))):
        prefix = draw(st.sampled_from(sorted(_FIELDS)))
        key = f"{prefix}{draw(_INDEXES)}.{draw(st.sampled_from(_FIELDS[prefix]))}"
        attributes[key] = draw(_VALUES)
    return attributes


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spans=st.lists(
        st.tuples(
            st.sampled_from(["openai.chat", "chat gpt-4o", "ChatOpenAI", ""]),
            odd_span_attributes(),
            st.sampled_from(["test", "openlit.otel.tracing", "com.anthropic.sdk.python"]),
        ),
        min_size=1,
        max_size=3,
    ),
    config=st.sampled_from(CONFIGS[:4]),
)
def test_odd_spans(spans: list[tuple[str, dict[str, Any], str]], config: dict[str, Any]) -> None:
    request = request_of(flat_span(name, attributes, scope) for name, attributes, scope in spans)
    assert_same(request.SerializeToString(), config)


_JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON_VALUES, ensure_ascii=st.booleans(), compact=st.booleans())
def test_json_text_is_read_and_written_like_python(value: Any, ensure_ascii: bool, compact: bool) -> None:
    """Tool-call arguments are parsed and re-dumped into the message JSON: every number, escape and
    nesting must come out as Python's ``json`` writes it."""
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(value, ensure_ascii=ensure_ascii, separators=separators)
    attributes = {
        "gen_ai.system": "openai",
        "llm.request.type": "chat",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.tool_calls.0.name": "f",
        "gen_ai.completion.0.tool_calls.0.arguments": text,
        "gen_ai.completion.0.content": text,
    }
    body = request_of([flat_span("openai.chat", attributes)]).SerializeToString()
    assert_same(body, {})


@pytest.mark.parametrize("repeat", [False, True])
def test_long_conversation(repeat: bool) -> None:
    """Hundreds of flattened messages (and, once, a repeated key among them) in index order 0, 1, ..., 10."""
    attributes: dict[str, Any] = {"openinference.span.kind": "LLM", "llm.provider": "openai"}
    for n in range(120):
        attributes[f"llm.input_messages.{n}.message.role"] = "user" if n % 2 else "assistant"
        attributes[f"llm.input_messages.{n}.message.content"] = f"turn {n}"
    request = request_of([flat_span("ChatOpenAI", attributes)])
    if repeat:
        span = request.resource_spans[0].scope_spans[0].spans[0]
        span.attributes.add(key="llm.input_messages.7.message.content").value.string_value = "again"
    body = request.SerializeToString()
    counts, _, fallback = native_pass(body)
    assert (fallback == [0]) is repeat and (counts == []) is repeat
    assert_same(body, {})
    assert_same(body, {"keep_original": False})
