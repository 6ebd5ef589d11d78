"""Native span views (``genai_lens_native.Batch.views()``) against the upb :class:`SpanView`.

The cost and anomaly stages run their own Python ``process_batch`` on either view class, so the two must
behave alike: first the view contract method by method on both classes, then the stages themselves on
the same bytes through both (equal output messages, stats and baselines) over the benchmark payload, the
peers' span dumps and the corpora the cost and anomaly tests are built from.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import genai_lens_native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from genai_lens.processor.anomaly import AnomalyStage
from genai_lens.processor.anomaly.stage import ANOMALY_METRIC
from genai_lens.processor.cost import CostStage
from genai_lens.processor.cost.stage import COST_METRIC, UNPRICED_METRIC
from genai_lens.processor.native_views import ViewStep
from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.pipeline import span_views
from genai_lens.processor.span_view import python_to_any
from genai_lens.processor.stage import Stage, StageContext

REPO = Path(__file__).resolve().parents[2]
for folder in (REPO / "bench", *(REPO / "tests" / "processor" / d for d in ("normalize", "cost", "anomaly"))):
    sys.path.insert(0, str(folder))

from anomaly_spans import WORKLOADS, Recorder, draw  # noqa: E402
from cost_spans import (  # noqa: E402
    SpanRecorder,
    anthropic_attributes,
    at,
    cassette_bodies,
    gemini_attributes,
    openai_chat_attributes,
)
from normalize_samples import SAMPLES, dialect_request, flat_request, load_json, vercel_request  # noqa: E402
from payload import build_requests  # noqa: E402
from test_normalize_robustness import MARKERS, SOURCE_KEYS  # noqa: E402
from test_normalize_robustness import VALUES as ROBUSTNESS_VALUES  # noqa: E402

KINDS = ["upb", "native"]


class Side:
    """One decoded copy of a request and its views: upb messages or a native batch."""

    def __init__(self, kind: str, data: bytes) -> None:
        self.kind = kind
        if kind == "upb":
            self.request = ExportTraceServiceRequest.FromString(data)
            self.views = span_views(self.request)
        else:
            self.batch = genai_lens_native.Batch(data)
            self.views = self.batch.views()

    def result(self) -> ExportTraceServiceRequest:
        if self.kind == "upb":
            return self.request
        return ExportTraceServiceRequest.FromString(self.batch.encode())


# -- the view contract, on both classes -----------------------------------------------------------------

VALUES: dict[str, Any] = {
    "s": "text ü",
    "empty_s": "",
    "t": True,
    "f": False,
    "i": -42,
    "big": 2**63 - 1,
    "d": 1.5,
    "b": b"\x00\xff",
    "arr": ["a", 1, 2.5, True, None, b"x"],
    "nested": [["x"], {"k": [1, 2]}],
    "kv": {"a": 1, "b": {"c": "d"}, "e": None},
    "none": None,
}


def contract_request(repeated: bool = True) -> bytes:
    """Two resources; the first span holds every value type, a repeated key and an error status."""
    request = ExportTraceServiceRequest()
    for service, count in (("checkout", 2), ("search", 1)):
        resource_spans = request.resource_spans.add()
        python_to_any(service, resource_spans.resource.attributes.add(key="service.name").value)
        python_to_any("dup-first", resource_spans.resource.attributes.add(key="dup").value)
        python_to_any("dup-last", resource_spans.resource.attributes.add(key="dup").value)
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "test.scope"
        for n in range(count):
            span = scope_spans.spans.add(
                name=f"{service} {n}",
                kind=Span.SPAN_KIND_CLIENT,
                trace_id=bytes([n + 1]) * 16,
                span_id=bytes([n + 2]) * 8,
                parent_span_id=b"" if n == 0 else bytes([2]) * 8,
                start_time_unix_nano=1_700_000_000_000_000_000,
                end_time_unix_nano=1_700_000_001_250_000_000 if n == 0 else 1_600_000_000_000_000_000,
            )
            if n == 0:
                span.status.code = Status.STATUS_CODE_ERROR
                span.status.message = "boom"
                for key, value in VALUES.items():
                    python_to_any(value, span.attributes.add(key=key).value)
                if repeated:
                    python_to_any("first", span.attributes.add(key="dup").value)
                    python_to_any("last", span.attributes.add(key="dup").value)
                span.attributes.add(key="unset")  # a KeyValue without a value
    return request.SerializeToString()


DATA = contract_request()
UNIQUE_KEYS = contract_request(repeated=False)


@pytest.fixture(params=KINDS)
def side(request: pytest.FixtureRequest) -> Side:
    return Side(request.param, DATA)


def both(edit: Callable[[Side], Any], data: bytes = DATA) -> Any:
    """Apply ``edit`` to a upb and a native copy of the contract request: same answer, same message."""
    upb, native = Side("upb", data), Side("native", data)
    answer = edit(upb)
    assert edit(native) == answer
    assert native.result() == upb.result()
    return answer


def test_get_reads_every_value_type_with_its_python_type(side: Side) -> None:
    view = side.views[0]
    for key, value in VALUES.items():
        got = view.get(key)
        assert got == value and type(got) is type(value), key
    assert type(view.get("arr")[3]) is bool and type(view.get("arr")[1]) is int
    assert view.get("dup") == "last"  # a repeated key reads as its last occurrence
    assert view.get("unset") is None
    assert view.get("missing") is None and view.get("missing", 7) == 7


def test_contains_keys_and_items(side: Side) -> None:
    view = side.views[0]
    assert "s" in view and "unset" in view and "missing" not in view
    assert list(view.keys()) == [*VALUES, "dup", "unset"]
    assert list(view.items()) == [*VALUES.items(), ("dup", "first"), ("dup", "last"), ("unset", None)]
    assert list(side.views[1].keys()) == [] and list(side.views[1].items()) == []


@pytest.mark.parametrize("value", [*VALUES.values(), (1, "two"), [], {}], ids=repr)
def test_set_every_value_type_replaces_in_place_and_appends(value: Any) -> None:
    def edit(side: Side) -> list[Any]:
        view = side.views[0]
        view.set("i", value)
        view.set("appended", value)
        expected = list(value) if isinstance(value, tuple) else value
        assert view.get("i") == expected and view.get("appended") == expected
        return list(view.keys())

    keys = both(edit)
    assert keys == [*VALUES, "dup", "unset", "appended"]  # "i" kept its place


def test_set_on_a_repeated_key_replaces_its_last_occurrence() -> None:
    items = both(lambda side: (side.views[0].set("dup", 3), list(side.views[0].items()))[1])
    assert [v for k, v in items if k == "dup"] == ["first", 3]


def test_set_default_only_sets_an_absent_key() -> None:
    def edit(side: Side) -> tuple[bool, bool, Any, Any]:
        view = side.views[0]
        return view.set_default("s", "other"), view.set_default("new", 5), view.get("s"), view.get("new")

    assert both(edit) == (False, True, "text ü", 5)


def test_delete_keeps_the_order_of_the_rest() -> None:
    def edit(side: Side) -> tuple[bool, bool, list[str]]:
        view = side.views[0]
        return view.delete("i"), view.delete("missing"), list(view.keys())

    removed, missing, keys = both(edit)
    assert (removed, missing) == (True, False)
    assert keys == [k for k in [*VALUES, "dup", "unset"] if k != "i"]


def test_delete_many_counts_what_went_and_keeps_the_order() -> None:
    def edit(side: Side) -> tuple[int, int, list[tuple[str, Any]]]:
        view = side.views[0]
        gone = view.delete_many(["t", "kv", "missing", "t"])
        return gone, view.delete_many(["missing"]), list(view.items())

    gone, none_gone, items = both(edit)
    assert (gone, none_gone) == (2, 0)
    assert [k for k, _ in items] == [k for k in [*VALUES, "dup", "dup", "unset"] if k not in ("t", "kv")]


def test_get_and_set_after_delete_many_read_the_message() -> None:
    def edit(side: Side) -> tuple[Any, Any]:
        view = side.views[0]
        view.get("s")
        view.delete_many(["i"])
        view.set("s", "changed")
        return view.get("s"), view.get("d")

    assert both(edit) == ("changed", 1.5)


@pytest.mark.parametrize(
    ("value", "error"),
    [(object(), TypeError), ({1: "x"}, TypeError), ([1, object()], TypeError), (2**64, ValueError)],
    ids=["object", "int-key", "bad-item", "int-overflow"],
)
def test_bad_values_raise(side: Side, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        side.views[0].set("new", value)


ABSENT = object()


def test_get_many_reads_like_get(side: Side) -> None:
    view = side.views[0]
    keys = ("s", "missing", "unset", "arr", "dup", "i", "kv")
    assert view.get_many(keys) == tuple(view.get(key) for key in keys)
    values = view.get_many(keys, ABSENT)
    assert values[1] is ABSENT and values[2] is None  # absent vs present without a value
    assert view.get_many(()) == ()


def test_set_many_sets_in_order_like_set() -> None:
    def edit(side: Side) -> list[tuple[str, Any]]:
        view = side.views[0]
        view.set_many(("i", "new", "dup", "new2"), (1.5, "x", 7, True))
        with pytest.raises(ValueError):
            view.set_many(("a", "b"), (1,))
        return list(view.items())

    items = both(edit)
    assert [k for k, _ in items][-2:] == ["new", "new2"] and dict(items)["i"] == 1.5


def test_read_present_reads_the_views_holding_a_key() -> None:
    def read(side: Side) -> list[tuple[int, tuple[Any, ...]]]:
        views = side.views
        found = type(views[0]).read_present(views, ("d", "s", "missing", "unset"), ABSENT, 2)
        assert all(any(view is found_view for view in views) for found_view, _ in found)
        assert type(views[0]).read_present(views, ("missing", "s"), ABSENT, 1) == []
        return [(views.index(view), values) for view, values in found]

    found = both(read)
    assert [index for index, _ in found] == [0, 2]  # the first span of each resource holds the values
    assert found[0][1][:3] == (1.5, "text ü", ABSENT) and found[0][1][3] is None


def test_read_present_on_other_views_goes_through_get_many() -> None:
    """A sequence mixing native views with upb ones (any object with ``get_many``) reads them all alike."""
    upb, native = Side("upb", DATA), Side("native", DATA)
    mixed = [native.views[0], upb.views[0], native.views[1], upb.views[1]]  # views[1] holds neither key
    found = genai_lens_native.NativeSpanView.read_present(mixed, ("s", "d"), ABSENT, 2)
    assert [values for _, values in found] == [("text ü", 1.5)] * 2
    assert found[0][0] is native.views[0] and found[1][0] is upb.views[0]


def test_resource_reads_and_identity(side: Side) -> None:
    first, second, other = side.views
    assert first.resource_get("service.name") == "checkout" and other.resource_get("service.name") == "search"
    assert first.resource_get("dup") == "dup-last"
    assert first.resource_get("missing") is None and first.resource_get("missing", "x") == "x"
    assert first.resource_key == second.resource_key != other.resource_key
    assert hash(first.resource_key) == hash(second.resource_key)


def test_span_fields_duration_and_error(side: Side) -> None:
    first, second, _ = side.views
    span = first.span
    assert (span.name, span.kind) == ("checkout 0", Span.SPAN_KIND_CLIENT)
    assert (span.trace_id, span.span_id, span.parent_span_id) == (b"\x01" * 16, b"\x02" * 8, b"")
    assert second.span.parent_span_id == b"\x02" * 8
    assert (span.start_time_unix_nano, span.end_time_unix_nano) == (
        1_700_000_000_000_000_000,
        1_700_000_001_250_000_000,
    )
    assert (span.status.code, span.status.message) == (span.status.STATUS_CODE_ERROR, "boom")
    assert first.is_error and not second.is_error and second.span.status.code == 0
    assert first.duration_s == 1.25 and second.duration_s == 0.0  # an end before the start: no duration
    first.forget_values()  # nothing cached to forget on the native view; must still be callable
    assert first.get("s") == "text ü"


def test_renaming_the_span() -> None:
    def edit(side: Side) -> str:
        side.views[1].span.name = "renamed"
        return side.views[1].span.name

    assert both(edit) == "renamed"


_SCALARS = (
    st.text(max_size=8)
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.binary(max_size=8)
    | st.none()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_KEYS = st.sampled_from(["s", "i", "arr", "kv", "new1", "new2", "none", "unset"])
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _KEYS, _VALUES),
        st.tuples(st.just("set_default"), _KEYS, _VALUES),
        st.tuples(st.just("delete"), _KEYS),
        st.tuples(st.just("delete_many"), st.lists(_KEYS, max_size=3)),
        st.tuples(st.just("get"), _KEYS),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_OPS)
def test_any_sequence_of_edits_gives_the_same_span(ops: list[tuple[Any, ...]]) -> None:
    def edit(side: Side) -> list[Any]:
        view = side.views[0]
        answers = [getattr(view, op[0])(*op[1:]) for op in ops]
        return [*answers, list(view.items())]

    both(edit, UNIQUE_KEYS)  # a repeated key behaves alike only until one occurrence is deleted


# -- the stages on both view classes ---------------------------------------------------------------------

Makers = Callable[[StageContext], list[Stage]]


def native_step(stage: Stage) -> ViewStep:
    step = stage.native_step()
    assert isinstance(step, ViewStep)
    return step


def run_both(
    make: Makers, batches: Iterable[bytes], step_of: Callable[[Stage], ViewStep] = native_step
) -> tuple[StageContext, list[Stage], list[Stage]]:
    """Fresh stages over ``batches``, in order on one set of views per batch as the pipeline runs them, on
    upb views and as native steps on a native batch: equal messages after each batch, equal stats.

    Messages are compared as deterministic upb serializations, so a NaN value compares equal to itself.
    """
    python_context, native_context = StageContext(), StageContext()
    python_stages, native_stages = make(python_context), make(native_context)
    steps = [step_of(stage) for stage in native_stages]
    count = 0
    for data in batches:
        expected = ExportTraceServiceRequest.FromString(data)
        views = span_views(expected)
        for stage in python_stages:
            stage.process_batch(views)
        batch = genai_lens_native.Batch(data)
        for step in steps:
            step.run(batch)
        got = ExportTraceServiceRequest.FromString(batch.encode())
        assert got.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
        count += 1
    assert count
    assert list(native_context.stats.snapshot()) == list(python_context.stats.snapshot())
    return python_context, python_stages, native_stages


def normalized(data: bytes) -> bytes:
    """``data`` after the Python normalize stage: what cost and anomaly see in a default pipeline."""
    request = ExportTraceServiceRequest.FromString(data)
    NormalizeStage.from_config({}, StageContext()).process_batch(span_views(request))
    return request.SerializeToString()


def dump_requests() -> list[bytes]:
    """Every peer dump in ../shared/span-samples, as the normalize tests load them."""
    dialects = sorted(SAMPLES.glob("dialects/*/*.json"))
    vercel = sorted(SAMPLES.glob("vercel-ai-sdk-v6/*.json"))
    flat = sorted(SAMPLES.glob("openinference-genai/*.json"))
    assert len(dialects) >= 10 and vercel and flat, "the span-sample dumps were not found"
    requests = [dialect_request(path.parent.name, path.stem) for path in dialects]
    requests += [vercel_request(path.name) for path in vercel]
    requests += [flat_request(path.stem, load_json(path)) for path in flat]
    return [request.SerializeToString() for request in requests]


START = at("2026-11-20T10:00:00")


def cost_corpus() -> bytes:
    """The calls the cost tests price, from the recorded responses, plus every special case they cover."""
    recorder = SpanRecorder()
    gpt4o = [
        openai_chat_attributes(*pair) for pair in cassette_bodies("openai/chat_prompt_caching_gpt4omini.yaml")
    ]
    calls = [
        *gpt4o,
        openai_chat_attributes(*cassette_bodies("openai/chat_gpt5nano_reasoning_tokens.yaml")[0]),
        *(
            anthropic_attributes(*p)
            for p in cassette_bodies("anthropic/messages_prompt_caching_write_then_read.yaml")
        ),
        gemini_attributes(
            "gemini-2.5-flash", cassette_bodies("gemini/generate_content_gemini25flash.yaml")[0][1]
        ),
        dict(
            openai_chat_attributes(
                *cassette_bodies("openai/azure_chat_deployment.yaml")[1], provider="azure.ai.openai"
            ),
            **{"gen_ai.request.model": "my-deployment"},
        ),
        openai_chat_attributes(*cassette_bodies("openai/chat_service_tier_priority_gpt5.yaml")[0]),
        openai_chat_attributes(*cassette_bodies("openai/vllm_local_chat_llama32_1b.yaml")[0]),
    ]
    ollama_request, ollama_response = cassette_bodies("ollama/chat_llama3.yaml")[0]
    ollama = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": ollama_request["model"],
        "gen_ai.response.model": ollama_response["model"],
        "gen_ai.usage.input_tokens": ollama_response["prompt_eval_count"],
        "gen_ai.usage.output_tokens": ollama_response["eval_count"],
    }
    base = gpt4o[0]
    calls += [
        ollama,
        dict(ollama, **{"gen_ai.usage.cost": 0}),  # OpenLIT's "no price" on an unknown model
        dict(base, **{"gen_ai.usage.cost": 0.5}),  # a cost already on the span is kept
        dict(base, **{"gen_ai.usage.cost": 0, "genai_lens.cost.model_unknown": True}),
        dict(base, **{"gen_ai.usage.cache_read.input_tokens": base["gen_ai.usage.input_tokens"] + 1}),
        dict(base, **{"gen_ai.operation.name": "invoke_agent"}),
        dict(base, **{"gen_ai.usage.input_tokens": 0, "gen_ai.usage.output_tokens": 0}),
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 3.0,
            "gen_ai.request.model": "gpt-4o",
        },
        {"http.request.method": "GET"},
    ]
    for n, attributes in enumerate(calls):
        recorder.add(f"call {n}", attributes, start=START)
    # nested duplicates: a framework span around the SDK's span of the same call, and nested different calls
    with recorder.span(
        "chat ChatOpenAI", dict(base, **{"gen_ai.response.model": "gpt-4o-mini"}), start=START
    ):
        with recorder.span("RunnableSequence", {"langchain.kind": "chain"}, start=START):
            recorder.add("chat gpt-4o-mini", base, start=START)
    with recorder.span("chat answer", base, start=START):
        recorder.add("chat judge", dict(base, **{"gen_ai.usage.input_tokens": 40}), start=START)
    with recorder.span("chat openlit", dict(base, **{"gen_ai.usage.cost": 0.5}), start=START):
        recorder.add("chat sdk", base, start=START)
    return recorder.request().SerializeToString()


def anomaly_corpus(batches: int = 12, per_batch: int = 40) -> list[bytes]:
    """Steady lognormal traffic of every workload with injected outliers and categorical cases."""
    rng = random.Random(7)
    recorder = Recorder()
    out = []
    for b in range(batches):
        for n in range(per_batch):
            call = draw(WORKLOADS[n % len(WORKLOADS)], rng)
            case = rng.randrange(12)
            if case == 0 and b > 3:
                call.output_tokens *= 40  # an outlier, once the baselines are warm
                call.duration_s *= 20
            elif case == 1:
                call.finish_reasons = ("length",)
            elif case == 2:
                call.finish_reasons = ("SAFETY", "stop")
            elif case == 3:
                call.error_type = "content_filter"
                call.status_error = "The response was filtered due to content management policy"
            elif case == 4:
                call.status_error = "upstream 500"
            elif case == 5:
                call.extra = {"gen_ai.output.messages": '[{"role":"assistant","parts":[]}]'}
            elif case == 6:
                call.output_tokens = 0
            elif case == 7:
                call.extra = {
                    "gen_ai.response.finish_reasons": "stop",
                    "gen_ai.response.time_to_first_chunk": -1,
                }
            recorder.add(call)
        recorder.add_plain("GET /health", {"http.request.method": "GET"})
        out.append(recorder.request().SerializeToString())
    return out


def cost(context: StageContext) -> list[Stage]:
    return [CostStage.from_config({}, context)]


def anomaly(context: StageContext) -> list[Stage]:
    return [AnomalyStage.from_config({"min_samples": 5}, context)]


def metric_labels(context: StageContext, metric: str, label: str) -> set[str]:
    return {dict(labels)[label] for name, _, _, labels, _ in context.stats.snapshot() if name == metric}


def baselines(stage: Stage) -> Any:
    """The anomaly stage's learned baselines, as its snapshot holds them (without the snapshot's time)."""
    assert isinstance(stage, AnomalyStage)
    return stage.store.to_document()["keys"]


def test_native_step_runs_the_stage_on_native_views() -> None:
    for stage in (CostStage.from_config({}, StageContext()), AnomalyStage.from_config({}, StageContext())):
        step = stage.native_step()
        assert isinstance(step, ViewStep) and step.stage is stage


def test_no_native_step_when_the_native_core_is_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_LENS_NATIVE", "off")
    assert CostStage.from_config({}, StageContext()).native_step() is None
    assert AnomalyStage.from_config({}, StageContext()).native_step() is None


def test_cost_parity_on_the_benchmark_payload() -> None:
    bodies = build_requests(3)
    run_both(cost, bodies)
    context, _, _ = run_both(cost, [normalized(data) for data in bodies])
    assert len(metric_labels(context, COST_METRIC, "model")) >= 3


def test_cost_parity_on_the_span_dumps() -> None:
    dumps = dump_requests()
    run_both(cost, dumps)
    run_both(cost, [normalized(data) for data in dumps])


def test_cost_parity_on_the_cost_corpus(tmp_path: Path) -> None:
    corpus = cost_corpus()
    context, _, _ = run_both(cost, [corpus])
    assert metric_labels(context, UNPRICED_METRIC, "reason") == {"model_unknown", "invalid_usage"}
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "prices:\n  - model: llama3\n    provider: ollama\n    input_mtok: 0.04\n    output_mtok: 0.12\n",
        encoding="utf-8",
    )
    context, _, _ = run_both(lambda c: [CostStage.from_config({"overrides_file": str(prices)}, c)], [corpus])
    assert "llama3" in metric_labels(context, COST_METRIC, "model")


def test_anomaly_parity_on_the_benchmark_payload() -> None:
    bodies = [normalized(data) for data in build_requests(8)]
    _, (python_stage,), (native_stage,) = run_both(anomaly, bodies)
    assert baselines(native_stage) == baselines(python_stage)


def test_anomaly_parity_on_the_span_dumps() -> None:
    dumps = dump_requests()
    run_both(anomaly, dumps + [normalized(data) for data in dumps])


def test_anomaly_parity_on_the_anomaly_corpus() -> None:
    context, (python_stage,), (native_stage,) = run_both(anomaly, anomaly_corpus())
    assert baselines(native_stage) == baselines(python_stage)
    flags = metric_labels(context, ANOMALY_METRIC, "flag")
    assert {"error", "truncated", "content_filter", "empty_completion"} <= flags
    assert flags & {"output_tokens_outlier", "latency_outlier"}


def test_cost_then_anomaly_on_one_batch() -> None:
    """Both stages in sequence (fresh native views per stage), with the cost outliers anomaly scores."""
    bodies = [normalized(data) for data in build_requests(2)] + [cost_corpus()]
    run_both(lambda context: [*cost(context), *anomaly(context)], bodies)


# -- normalize on native views (its own native port may replace this path; the views must still agree) --


def normalize(**config: Any) -> Makers:
    return lambda context: [NormalizeStage.from_config(config, context)]


@pytest.mark.parametrize(
    "config", [{}, {"keep_original": True}, {"rename_spans": False}], ids=["default", "keep", "no-rename"]
)
def test_normalize_parity_on_the_payload_and_the_span_dumps(config: dict[str, Any]) -> None:
    context, _, _ = run_both(normalize(**config), build_requests(2) + dump_requests(), ViewStep)
    assert len(metric_labels(context, "genai_lens_normalize_spans_total", "dialect")) >= 5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    marker=st.sampled_from(MARKERS),
    extra=st.dictionaries(st.sampled_from(SOURCE_KEYS), ROBUSTNESS_VALUES, max_size=8),
    keep_original=st.booleans(),
)
def test_normalize_parity_on_any_values_under_any_dialect_key(
    marker: dict[str, Any], extra: dict[str, Any], keep_original: bool
) -> None:
    data = flat_request("span", {**marker, **extra}).SerializeToString()
    run_both(normalize(keep_original=keep_original), [data], ViewStep)


def test_normalize_parity_on_legacy_content_events() -> None:
    """Pre-1.28 contrib spans carry prompt and completion on events (``event_string``)."""
    request = flat_request("chat", {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"})
    span = request.resource_spans[0].scope_spans[0].spans[0]
    for name, key, value in (
        ("gen_ai.content.prompt", "gen_ai.prompt", '[{"role": "user", "content": "hi"}]'),
        ("gen_ai.content.completion", "gen_ai.completion", '[{"role": "assistant", "content": "yo"}]'),
    ):
        python_to_any(value, span.events.add(name=name).attributes.add(key=key).value)
    context, _, _ = run_both(normalize(), [request.SerializeToString()], ViewStep)
    assert metric_labels(context, "genai_lens_normalize_spans_total", "dialect") == {"otel_genai_legacy"}
