"""Backends going away behind the sandwich: nothing is lost, nothing is duplicated.

Two separate failures, each through real processes:

* the trace backend (a real Jaeger v2) is down: the *outer* collector's ``otlp_grpc/jaeger`` exporter
  (shipped ``jaeger.yaml``, unchanged) holds the spans in its sending queue and retries;
* genai-lens's forward target (the collector's ``traces/out`` receiver) is down: ``genai-lens serve``
  backs off, counts its retries on ``/metrics``, and delivers everything once the receiver is back.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from collector_harness import (
    CONFIG_DIR,
    Collector,
    GenaiLensServe,
    JaegerBackend,
    SentTraces,
    duplicates,
    loopback,
    metric_total,
    prometheus_samples,
    read_backend,
    sandwich_env,
    sandwich_overlay,
    send_traces,
    wait_for_spans,
)

pytestmark = pytest.mark.timeout(2400)  # may trigger cold builds of the collector and of Jaeger

RETRY_LOG_LINE = "Will retry the request after interval"
WAIT_FOR_FAILURES_S = 20.0


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


def jaeger_retries(collector: Collector) -> int:
    """Failed export attempts the collector logged for its Jaeger exporter (each one is retried)."""
    lines = collector.log.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if RETRY_LOG_LINE in line and "otlp_grpc/jaeger" in line)


def test_outer_collector_retries_while_jaeger_is_down(
    start_collector, jaeger_binary: Path, tmp_path: Path
) -> None:
    jaeger = JaegerBackend(jaeger_binary, tmp_path)  # ports picked now, process started later
    env = sandwich_env(tmp_path / "queue")
    serve = GenaiLensServe(tmp_path, "genai-lens", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = serve.endpoint
    env["JAEGER_ENDPOINT"] = jaeger.otlp_grpc_endpoint
    try:
        serve.start()
        collector = start_collector("jaeger.yaml", env)  # the shipped file as is: its own retry settings
        sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=4)
        metrics_url = f"http://{serve.admin_endpoint}/metrics"
        wait_until(
            lambda: (
                metric_total(prometheus_samples(metrics_url), "genai_lens_spans_forwarded_total")
                == len(sent.spans)
            ),
            WAIT_FOR_FAILURES_S,
            "genai-lens to hand every span to traces/out",
        )
        wait_until(lambda: jaeger_retries(collector) >= 1, WAIT_FOR_FAILURES_S, "a failed export to Jaeger")

        jaeger.start()  # the backend comes back; the collector's next retry delivers
        per_trace = Counter(f"{span.context.trace_id:032x}" for span in sent.spans)
        stored = jaeger.wait_for_traces(per_trace)
    finally:
        jaeger.stop()
        serve.stop()

    for trace_id, expected in per_trace.items():
        ids = [span["spanID"] for span in stored[trace_id]]
        assert len(ids) == expected, f"trace {trace_id}: {len(ids)} of {expected} spans in Jaeger"
        assert len(set(ids)) == len(ids), "a span was stored twice"
    assert {span_id for spans in stored.values() for span_id in (s["spanID"] for s in spans)} == sent.span_ids
    assert jaeger_retries(collector) >= 1


def test_genai_lens_backs_off_and_delivers_when_its_forward_target_returns(
    otelcol_binary: Path, tmp_path: Path
) -> None:
    """Two instances of the shipped agent.yaml: ``agent-in`` feeds genai-lens from its ``traces/in``,
    ``agent-out`` receives genai-lens's output on ``traces/out`` and writes the backend file. Stopping
    ``agent-out`` takes down genai-lens's forward target and nothing else."""
    backend = tmp_path / "backend.jsonl"
    out_env = sandwich_env(tmp_path / "queue-out")
    serve = GenaiLensServe(tmp_path, "genai-lens", out_env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    out_env["GENAI_LENS_ENDPOINT"] = loopback()  # agent-out's traces/in gets no apps: never dialled
    out_overlay = sandwich_overlay(backend)
    out_overlay["exporters"]["file/backend"]["append"] = True  # keep what the first process wrote
    in_env = sandwich_env(tmp_path / "queue-in")
    in_env["GENAI_LENS_ENDPOINT"] = serve.endpoint  # agent-in's traces/out gets nothing: never used
    agent_out = Collector(
        otelcol_binary, CONFIG_DIR / "agent.yaml", out_env, tmp_path, overlay=out_overlay, name="agent-out"
    )
    agent_in = Collector(
        otelcol_binary,
        agent_out.config,
        in_env,
        tmp_path,
        overlay=sandwich_overlay(tmp_path / "agent-in-unused.jsonl"),
        name="agent-in",
    )
    metrics_url = f"http://{serve.admin_endpoint}/metrics"
    try:
        serve.start()
        agent_out.start()
        agent_in.start()
        before = send_traces(in_env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=2)
        assert not duplicates(wait_for_spans([backend], before.span_ids))

        agent_out.stop()  # genai-lens's forward target goes away
        during = send_traces(in_env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=4)
        wait_until(
            lambda: (
                metric_total(
                    prometheus_samples(metrics_url),
                    "genai_lens_export_attempts_total",
                    outcome="retryable_error",
                )
                >= 2
            ),
            WAIT_FOR_FAILURES_S,
            "genai-lens to retry its forward at least twice",
        )
        time.sleep(2)  # down a little longer: the backoff grows
        assert not during.span_ids & {span.span_id for span in read_backend(backend)}
        failures_while_down = metric_total(
            prometheus_samples(metrics_url), "genai_lens_export_attempts_total", outcome="retryable_error"
        )

        agent_out.start()  # the receiver is back on the same address
        everything = SentTraces(before.spans + during.spans)
        received = wait_for_spans([backend], everything.span_ids)
        samples = prometheus_samples(metrics_url)
    finally:
        agent_in.stop()
        agent_out.stop()
        serve.stop()

    assert {span.span_id for span in received} == everything.span_ids
    assert not duplicates(received), f"spans delivered more than once: {duplicates(received)}"
    assert len(received) == len(everything.spans)
    assert failures_while_down >= 2
    assert metric_total(samples, "genai_lens_spans_received_total") == len(everything.spans)
    assert metric_total(samples, "genai_lens_spans_forwarded_total") == len(everything.spans)
    assert metric_total(samples, "genai_lens_spans_dropped_total") == 0
    assert metric_total(samples, "genai_lens_export_attempts_total", outcome="delivered") >= 2
