"""The sandwich end to end with real processes: SDK → collector (agent.yaml) → middle → collector → backend.

The backend is the collector's own file exporter. The middle is either a plain forwarding collector (the
control group: proves the collector side alone) or `genai-lens serve`. Spans are sent with the real OTel
SDK OTLP/gRPC exporter and read back from the file exporter's OTLP/JSON.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from collector_harness import (
    GENAI_INPUT_EMAIL,
    GenaiLensServe,
    ReceivedSpan,
    SentTraces,
    assert_tree_intact,
    assert_unchanged,
    duplicates,
    file_backend_overlay,
    loopback,
    sandwich_env,
    sandwich_overlay,
    send_traces,
    span_hex,
    wait_for_spans,
)

pytestmark = pytest.mark.timeout(1800)  # the first test may trigger a cold collector build


def assert_delivered_once(sent: SentTraces, received: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    missing = sent.span_ids - {span.span_id for span in received}
    assert not missing, f"{len(missing)} of {len(sent.span_ids)} spans never reached the backend"
    assert not duplicates(received), f"spans delivered more than once: {duplicates(received)}"
    assert len(received) == len(sent.spans)
    return {span.span_id: span for span in received}


def test_collector_alone_delivers_every_span_unchanged(start_collector, tmp_path: Path) -> None:
    """Baseline without a middle: traces/in exports straight into the same collector's traces/out."""
    backend = tmp_path / "backend.jsonl"
    env = sandwich_env(tmp_path / "queue")
    env["GENAI_LENS_ENDPOINT"] = env["OTELCOL_ENRICHED_GRPC_ENDPOINT"]
    start_collector("agent.yaml", env, sandwich_overlay(backend))

    sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=5)
    received = assert_delivered_once(sent, wait_for_spans([backend], sent.span_ids))

    for span in sent.spans:
        assert_unchanged(span, received[span_hex(span)])


def test_sandwich_delivers_every_span_once_with_the_tree_intact(
    start_collector, middle_factory, tmp_path: Path
) -> None:
    backend = tmp_path / "backend.jsonl"
    env = sandwich_env(tmp_path / "queue")
    middle = middle_factory("middle", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = middle.endpoint
    middle.start()
    start_collector("agent.yaml", env, sandwich_overlay(backend))

    sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=5)
    received = assert_delivered_once(sent, wait_for_spans([backend], sent.span_ids))

    assert_tree_intact(sent, list(received.values()))
    for span in sent.non_genai():
        assert_unchanged(span, received[span_hex(span)])
    assert len(sent.genai()) == 5 and len(sent.non_genai()) == 15


def test_genai_lens_enriches_genai_spans_in_the_sandwich(start_collector, tmp_path: Path) -> None:
    """Cost, anomaly flags and e-mail redaction are added by genai-lens between the pipelines."""
    backend = tmp_path / "backend.jsonl"
    env = sandwich_env(tmp_path / "queue")
    serve = GenaiLensServe(tmp_path, "genai-lens", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = serve.endpoint
    try:
        serve.start()
        start_collector("agent.yaml", env, sandwich_overlay(backend))
        sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=3)
        received = assert_delivered_once(sent, wait_for_spans([backend], sent.span_ids))
    finally:
        serve.stop()

    for span in sent.genai():
        got = received[span_hex(span)].attributes
        cost = got.get("gen_ai.usage.cost")
        assert isinstance(cost, float) and cost > 0, f"no cost on {span.name}: {cost!r}"
        assert "truncated" in got.get("genai_lens.anomaly.flags", ()), "finish_reason=length not flagged"
        content = got["gen_ai.input.messages"]
        assert GENAI_INPUT_EMAIL not in content and "EMAIL" in content, content
        assert all(GENAI_INPUT_EMAIL not in str(value) for value in got.values())
        # What genai-lens must not touch on a GenAI span:
        assert got["gen_ai.request.model"] == "gpt-4o-mini"
        assert got["gen_ai.usage.output_tokens"] == 256
    for span in sent.non_genai():
        assert_unchanged(span, received[span_hex(span)])


def test_queue_and_retry_deliver_everything_across_a_middle_restart(
    start_collector, middle_factory, tmp_path: Path
) -> None:
    backend = tmp_path / "backend.jsonl"
    env = sandwich_env(tmp_path / "queue")
    middle = middle_factory("middle", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = middle.endpoint
    middle.start()
    start_collector("agent.yaml", env, sandwich_overlay(backend))

    before = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=3)
    assert_delivered_once(before, wait_for_spans([backend], before.span_ids))

    middle.stop()
    during = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=4)
    time.sleep(3)  # several failed export attempts while the middle is down
    assert not during.span_ids & {span.span_id for span in wait_for_spans([backend], set(), settle_s=0)}
    middle.start()

    all_sent = SentTraces(before.spans + during.spans)
    received = assert_delivered_once(all_sent, wait_for_spans([backend], all_sent.span_ids))
    assert_tree_intact(all_sent, list(received.values()))


def test_persistent_queue_survives_a_collector_restart(
    start_collector, middle_factory, tmp_path: Path
) -> None:
    """Spans queued on disk while the middle is down are sent by the next collector process."""
    backend = tmp_path / "backend.jsonl"
    env = sandwich_env(tmp_path / "queue")
    middle = middle_factory("middle", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = middle.endpoint

    first = start_collector("agent.yaml", env, sandwich_overlay(backend), name="agent-1")
    sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=4)
    time.sleep(2)  # past the batch timeout: the spans are in the persistent queue, failing to export
    first.stop()
    assert any((tmp_path / "queue").iterdir()), "file_storage wrote nothing"

    middle.start()
    start_collector("agent.yaml", env, sandwich_overlay(backend), name="agent-2")
    received = assert_delivered_once(sent, wait_for_spans([backend], sent.span_ids))
    assert_tree_intact(sent, list(received.values()))


def test_scale_out_keeps_each_trace_on_one_replica(start_collector, middle_factory, tmp_path: Path) -> None:
    """Two replicas behind the load-balancing exporter. Each replica forwards to its own receiver and
    file, so the backend files tell which replica saw which span."""
    env = sandwich_env(tmp_path / "queue")
    replica_b_receiver = loopback()
    replicas = [
        middle_factory("replica-a", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"]),
        middle_factory("replica-b", replica_b_receiver),
    ]
    env["GENAI_LENS_REPLICAS"] = "[" + ", ".join(r.endpoint for r in replicas) + "]"
    files = [tmp_path / "replica-a.jsonl", tmp_path / "replica-b.jsonl"]
    overlay = {
        "receivers": {"otlp/enriched_b": {"protocols": {"grpc": {"endpoint": replica_b_receiver}}}},
        "processors": {"batch": {"timeout": "200ms"}},
        "exporters": {
            **file_backend_overlay(files[0], "file/backend"),
            **file_backend_overlay(files[1], "file/backend_b"),
        },
        "service": {
            "pipelines": {
                "traces/out": {"exporters": ["file/backend"]},
                "traces/out_b": {
                    "receivers": ["otlp/enriched_b"],
                    "processors": ["batch"],
                    "exporters": ["file/backend_b"],
                },
            }
        },
    }
    for replica in replicas:
        replica.start()
    start_collector("scale-out.yaml", env, overlay)

    sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=24)
    received = wait_for_spans(files, sent.span_ids)
    assert_delivered_once(sent, received)  # total out == total in

    per_replica = [{span.trace_id for span in wait_for_spans([path], set(), settle_s=0)} for path in files]
    assert not per_replica[0] & per_replica[1], "a trace was split across replicas"
    assert per_replica[0] | per_replica[1] == sent.trace_ids
    assert per_replica[0] and per_replica[1], f"all 24 traces went to one replica: {per_replica}"
