"""The sandwich with a real Jaeger v2 (built from Go modules) as the backend, read back over its HTTP API."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from collector_harness import (
    CONFIG_DIR,
    JaegerBackend,
    jaeger_parents,
    jaeger_tags,
    sandwich_env,
    send_traces,
    span_hex,
)

pytestmark = pytest.mark.timeout(2400)  # may trigger cold builds of the collector and of Jaeger


def test_jaeger_yaml_delivers_whole_traces_to_jaeger(
    start_collector, middle_factory, jaeger: JaegerBackend, tmp_path: Path
) -> None:
    env = sandwich_env(tmp_path / "queue")
    middle = middle_factory("middle", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = middle.endpoint
    env["JAEGER_ENDPOINT"] = jaeger.otlp_grpc_endpoint
    middle.start()
    start_collector("jaeger.yaml", env)  # the shipped file as is: no overlay

    sent = send_traces(env["OTELCOL_APPS_GRPC_ENDPOINT"], traces=3)
    per_trace = Counter(f"{span.context.trace_id:032x}" for span in sent.spans)
    stored = jaeger.wait_for_traces(per_trace)

    for trace_id, expected_count in per_trace.items():
        spans = stored[trace_id]
        assert len(spans) == expected_count, f"trace {trace_id}: {len(spans)} spans in Jaeger"
        assert len({span["spanID"] for span in spans}) == expected_count, "duplicate spans in Jaeger"
    by_id = {span["spanID"]: span for spans in stored.values() for span in spans}
    for span in sent.spans:
        got = by_id[span_hex(span)]
        assert got["operationName"] == span.name
        expected_parents = [f"{span.parent.span_id:016x}"] if span.parent is not None else []
        assert jaeger_parents(got) == expected_parents, f"{span.name}: parent link broken in Jaeger"
    for span in sent.non_genai():
        tags = jaeger_tags(by_id[span_hex(span)])
        for key, value in span.attributes.items():
            assert tags.get(key) == value, f"{span.name}: tag {key} changed"


def test_jaeger_backend_config_validates(jaeger_binary: Path) -> None:
    config = CONFIG_DIR / "jaeger" / "jaeger-backend.yaml"
    result = subprocess.run(
        [str(jaeger_binary), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
