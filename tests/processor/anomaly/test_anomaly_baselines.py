"""Per-key robust baselines: when flags go live, false-flag rate on steady traffic, injected outliers."""

from __future__ import annotations

import random
import time

import pytest
from anomaly_spans import WORKLOADS, Recorder, draw

from genai_lens.processor.anomaly import AnomalyStage
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import GENAI_LENS_ANOMALY_FLAGS, GENAI_LENS_ANOMALY_SCORE

OUTLIER_FLAGS = {
    "latency_outlier",
    "ttft_outlier",
    "input_tokens_outlier",
    "output_tokens_outlier",
    "cost_outlier",
}


def flags(span: SpanView) -> list[str]:
    return span.get(GENAI_LENS_ANOMALY_FLAGS) or []


def stage(**config) -> AnomalyStage:
    return AnomalyStage.from_config(config, StageContext())


def test_default_min_samples_is_at_most_50():
    assert 0 < stage()._min_samples <= 50


def test_flags_are_live_by_the_50th_span_of_a_key():
    rng = random.Random(50)
    anomaly = stage()
    recorder = Recorder()
    workload = WORKLOADS[0]
    for _ in range(49):
        recorder.add(draw(workload, rng))
    outlier = draw(workload, rng)
    outlier.duration_s = workload.latency_s * 25
    recorder.add(outlier)
    views = recorder.views()

    anomaly.process_batch(views)

    assert flags(views[-1]) == ["latency_outlier"]
    assert views[-1].get(GENAI_LENS_ANOMALY_SCORE) > 4
    assert all(v.get(GENAI_LENS_ANOMALY_SCORE) == 0.0 for v in views[:-1])


def test_no_flags_before_min_samples_and_first_flag_right_after():
    rng = random.Random(7)
    anomaly = stage(min_samples=20)
    recorder = Recorder()
    workload = WORKLOADS[0]
    for i in range(22):
        call = draw(workload, rng)
        if i in (10, 20):  # the 11th span (baseline not live yet) and the 21st (20 samples seen)
            call.duration_s = workload.latency_s * 40
        recorder.add(call)
    views = recorder.views()
    anomaly.process_batch(views)
    assert [i for i, v in enumerate(views) if flags(v)] == [20]


def test_an_outlier_never_dilutes_its_own_baseline_and_bursts_stay_flagged():
    """Five outliers in a row are all flagged: each is judged before it is added, and clipping keeps
    the earlier ones from dragging the baseline up (a plain mean/stddev would stop flagging)."""
    rng = random.Random(11)
    anomaly = stage()
    recorder = Recorder()
    workload = WORKLOADS[2]
    for _ in range(200):
        recorder.add(draw(workload, rng))
    for _ in range(5):
        call = draw(workload, rng)
        call.output_tokens = int(workload.output_tokens * 30)
        recorder.add(call)
    views = recorder.views()
    anomaly.process_batch(views)
    assert all("output_tokens_outlier" in flags(v) for v in views[-5:])


def test_steady_stream_false_flag_rate_and_injected_outliers(capsys):
    """10k lognormal calls over 5 keys: < 2 % flagged; injected outliers of each kind are caught."""
    rng = random.Random(20261123)
    anomaly = stage()
    recorder = Recorder()
    injected: dict[int, str] = {}
    kinds = [
        "latency_outlier",
        "ttft_outlier",
        "input_tokens_outlier",
        "output_tokens_outlier",
        "cost_outlier",
    ]
    for i in range(10_000):
        workload = WORKLOADS[i % len(WORKLOADS)]
        call = draw(workload, rng)
        if i >= 2_000 and i % 97 == 0 and workload.operation == "chat":
            kind = kinds[len(injected) % len(kinds)]
            if kind == "latency_outlier":
                call.duration_s = workload.latency_s * 30
                call.ttft_s = min(call.ttft_s, call.duration_s)
            elif kind == "ttft_outlier":
                call.ttft_s = workload.ttft_s * 40
                call.duration_s = max(call.duration_s, call.ttft_s)
            elif kind == "input_tokens_outlier":
                call.input_tokens = 3  # far below the usual prompt: two-sided
            elif kind == "output_tokens_outlier":
                call.output_tokens = int(workload.output_tokens * 40)
            else:
                call.workload = type(workload)(
                    **{**workload.__dict__, "usd_per_token": workload.usd_per_token * 200}
                )
            injected[i] = kind
        recorder.add(call)
    views = recorder.views()

    started = time.perf_counter()
    anomaly.process_batch(views)
    per_span_us = (time.perf_counter() - started) / len(views) * 1e6

    normal = [v for i, v in enumerate(views) if i not in injected]
    false_flags = sum(1 for v in normal if flags(v))
    rate = false_flags / len(normal)
    caught = sum(1 for i, kind in injected.items() if kind in flags(views[i]))
    with capsys.disabled():
        print(
            f"\nanomaly: {len(views)} spans, false-flag rate {rate:.4%} ({false_flags}/{len(normal)}), "
            f"injected outliers caught {caught}/{len(injected)}, {per_span_us:.1f} µs/span"
        )
    assert rate < 0.02
    assert len(injected) >= 50 and {*injected.values()} == set(kinds)
    assert caught / len(injected) >= 0.95
    assert all(v.get(GENAI_LENS_ANOMALY_SCORE) == 0.0 for v in normal if not flags(v))


def test_a_lasting_shift_is_learned_instead_of_flagged_forever():
    rng = random.Random(3)
    anomaly = stage()
    recorder = Recorder()
    workload = WORKLOADS[0]
    for _ in range(300):
        recorder.add(draw(workload, rng))
    slower = type(workload)(**{**workload.__dict__, "latency_s": workload.latency_s * 6})
    for _ in range(400):
        recorder.add(draw(slower, rng))
    views = recorder.views()
    anomaly.process_batch(views)
    after_shift = ["latency_outlier" in flags(v) for v in views[300:]]
    assert any(after_shift[:20])  # the shift is noticed
    assert sum(after_shift[-200:]) <= 4  # and becomes the new normal


def test_keys_are_separate_per_service_and_model():
    rng = random.Random(5)
    anomaly = stage()
    recorder = Recorder()
    fast, slow = WORKLOADS[2], WORKLOADS[4]  # 0.8 s search calls vs 4 s support calls
    for _ in range(100):
        recorder.add(draw(fast, rng))
        recorder.add(draw(slow, rng))
    odd = draw(fast, rng)
    odd.duration_s = slow.latency_s * 2  # normal for the slow key, far too slow for the fast one
    recorder.add(odd)
    views = recorder.views()
    anomaly.process_batch(views)
    assert "latency_outlier" in flags(views[-1])
    assert len(anomaly.store) == 2


def test_lru_bounds_the_number_of_keys():
    rng = random.Random(9)
    anomaly = stage(max_keys=10)
    recorder = Recorder()
    for k in range(25):
        workload = type(WORKLOADS[0])(**{**WORKLOADS[0].__dict__, "model": f"model-{k}"})
        for _ in range(3):
            recorder.add(draw(workload, rng))
    anomaly.process_batch(recorder.views())
    assert len(anomaly.store) == 10
    kept = {key[2] for key in anomaly.store._keys}
    assert kept == {f"model-{k}" for k in range(15, 25)}


def test_non_genai_spans_are_untouched():
    anomaly = stage()
    recorder = Recorder()
    recorder.add_plain("GET /cart", {"http.request.method": "GET", "http.response.status_code": 500})
    request = recorder.request()
    before = type(request)()
    before.CopyFrom(request)
    from genai_lens.processor.pipeline import span_views

    anomaly.process_batch(span_views(request))
    assert request == before


def test_cost_outlier_through_the_cost_and_anomaly_pipeline():
    """The anomaly stage sees the cost the cost stage just computed (pipeline order)."""
    rng = random.Random(21)
    pipeline = build_pipeline([("cost", {}), ("anomaly", {})], StageContext())
    recorder = Recorder()
    workload = WORKLOADS[0]
    for _ in range(60):
        call = draw(workload, rng)
        call.extra = {"gen_ai.usage.cost": 0.0}  # OpenLIT's "unknown": the cost stage prices it
        recorder.add(call)
    big = draw(workload, rng)
    big.input_tokens, big.extra = 120_000, {"gen_ai.usage.cost": 0.0}
    recorder.add(big)
    request = recorder.request()
    pipeline.process(request)
    from genai_lens.processor.pipeline import span_views

    views = span_views(request)
    assert views[-1].get("genai_lens.cost.source") == "genai_prices"
    assert {"cost_outlier", "input_tokens_outlier"} <= set(flags(views[-1]))


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.model)
def test_every_workload_is_quiet_on_its_own(workload):
    rng = random.Random(hash(workload.model) & 0xFFFF)
    anomaly = stage()
    recorder = Recorder()
    for _ in range(400):
        recorder.add(draw(workload, rng))
    views = recorder.views()
    anomaly.process_batch(views)
    assert sum(1 for v in views if flags(v)) / len(views) < 0.02
