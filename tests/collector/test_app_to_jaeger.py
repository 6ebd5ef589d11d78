"""Issue 4 end to end: instrumented app → collector (jaeger.yaml) → genai-lens serve → collector → Jaeger.

The demo app (`genai_lens.demo.app`) runs as a subprocess under the venv's ``opentelemetry-instrument``, so
our instrumentation comes from the entry points alone, and talks to a ReplayServer over the demo's bundled
cassettes. A small wrapper script opens a non-GenAI ``handle_request`` span around the calls and tees
every span the app emits to a JSON-lines file: that file is what the test compares Jaeger against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from collector_harness import (
    CONFIG_DIR,
    Collector,
    GenaiLensServe,
    JaegerBackend,
    jaeger_parents,
    jaeger_tags,
    sandwich_env,
)

from genai_lens.demo import CASSETTES as DEMO_CASSETTES
from genai_lens.demo.app import JOKE_PROMPT
from genai_lens.replay import ReplayServer

pytestmark = pytest.mark.timeout(2400)  # may trigger cold builds of the collector and of Jaeger

PII = ("jane.doe@example.com", "4111 1111 1111 1111")
APP_TIMEOUT_S = 60

# Runs inside the instrumented process: opentelemetry-instrument has already installed the SDK provider.
WRAPPER = """\
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from genai_lens.demo.app import main

tee = open(sys.argv[1], "w")
tee_exporter = ConsoleSpanExporter(out=tee, formatter=lambda span: span.to_json(indent=None) + "\\n")
trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(tee_exporter))
with trace.get_tracer("genai-lens.tests.app-wrapper").start_as_current_span(
    "handle_request", attributes={"http.route": "/joke", "app.request.n": 7, "app.cached": False}
):
    main()
"""


def run_instrumented_app(workdir: Path, apps_grpc_endpoint: str) -> list[dict[str, Any]]:
    """Run the demo app under opentelemetry-instrument (OTLP/gRPC to the collector); return its spans."""
    wrapper = workdir / "app_wrapper.py"
    wrapper.write_text(WRAPPER)
    tee = workdir / "app-spans.jsonl"
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    assert instrument.is_file(), f"{instrument} missing: the venv must have opentelemetry-instrumentation"
    with ReplayServer(sorted(DEMO_CASSETTES.glob("*.yaml"))) as provider:
        env = {
            **os.environ,
            "OTEL_SERVICE_NAME": "genai-lens-app-e2e",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://{apps_grpc_endpoint}",
            "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            "OPENAI_BASE_URL": provider.base_url + "/v1",
            "ANTHROPIC_BASE_URL": provider.base_url,
        }
        result = subprocess.run(
            [str(instrument), sys.executable, str(wrapper), str(tee)],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=APP_TIMEOUT_S,
            check=False,
        )
    assert result.returncode == 0, f"app failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    assert "6 model calls made" in result.stdout, result.stdout
    return [json.loads(line) for line in tee.read_text().splitlines() if line.strip()]


def hex_id(value: str | None) -> str:
    return value.removeprefix("0x") if value else ""


def as_jaeger_value(value: Any) -> Any:
    """How Jaeger's JSON API shows an OTLP attribute value: arrays come back as their JSON text."""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list) else value


@pytest.fixture(scope="module")
def app_through_sandwich(
    otelcol_binary: Path, jaeger_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The app's spans, through the shipped jaeger.yaml with genai-lens serve in the middle, read back.
    Run once for the module: every test below reads the same delivery."""
    workdir = tmp_path_factory.mktemp("app-to-jaeger")
    env = sandwich_env(workdir / "queue")
    jaeger = JaegerBackend(jaeger_binary, workdir)
    serve = GenaiLensServe(workdir, "genai-lens", env["OTELCOL_ENRICHED_GRPC_ENDPOINT"])
    env["GENAI_LENS_ENDPOINT"] = serve.endpoint
    env["JAEGER_ENDPOINT"] = jaeger.otlp_grpc_endpoint
    collector = Collector(otelcol_binary, CONFIG_DIR / "jaeger.yaml", env, workdir)  # as shipped: no overlay
    try:
        jaeger.start()
        serve.start()
        collector.start()
        sent = run_instrumented_app(workdir, env["OTELCOL_APPS_GRPC_ENDPOINT"])
        per_trace = Counter(span["context"]["trace_id"].removeprefix("0x") for span in sent)
        stored = jaeger.wait_for_traces(per_trace)
        raw = {trace_id: jaeger.raw_trace(trace_id) for trace_id in per_trace}
    finally:
        collector.stop()
        serve.stop()
        jaeger.stop()
    return {"sent": sent, "per_trace": per_trace, "stored": stored, "raw": raw}


def test_every_app_span_reaches_jaeger_once_with_the_tree_intact(app_through_sandwich) -> None:
    sent, per_trace, stored = (app_through_sandwich[k] for k in ("sent", "per_trace", "stored"))
    assert len(sent) == 7, [span["name"] for span in sent]  # handle_request + 6 model calls
    assert len(per_trace) == 1, "the wrapper span should make the app's calls one trace"
    for trace_id, expected in per_trace.items():
        ids = [span["spanID"] for span in stored[trace_id]]
        assert len(ids) == expected, f"trace {trace_id}: {len(ids)} spans in Jaeger, {expected} sent"
        assert len(set(ids)) == len(ids), "a span was stored twice"
    by_id = {span["spanID"]: span for spans in stored.values() for span in spans}
    assert set(by_id) == {hex_id(span["context"]["span_id"]) for span in sent}
    root = next(span for span in sent if span["name"] == "handle_request")
    for span in sent:
        expected_parents = [hex_id(span["parent_id"])] if span["parent_id"] else []
        assert jaeger_parents(by_id[hex_id(span["context"]["span_id"])]) == expected_parents
        if span is not root:
            assert hex_id(span["parent_id"]) == hex_id(root["context"]["span_id"])


def test_genai_spans_arrive_enriched(app_through_sandwich) -> None:
    sent, stored = app_through_sandwich["sent"], app_through_sandwich["stored"]
    by_id = {span["spanID"]: span for spans in stored.values() for span in spans}
    genai = [span for span in sent if "gen_ai.operation.name" in span["attributes"]]
    assert len(genai) == 6
    for span in genai:
        got = by_id[hex_id(span["context"]["span_id"])]
        tags = jaeger_tags(got)
        model = span["attributes"]["gen_ai.request.model"]
        assert got["operationName"] == f"chat {model}", "span not named '{operation} {model}'"
        assert tags["gen_ai.operation.name"] == "chat"
        assert tags["gen_ai.request.model"] == model
        if model == "this-model-does-not-exist":
            flags = json.loads(tags["genai_lens.anomaly.flags"])  # Jaeger shows arrays as JSON text
            assert "error" in flags, flags
            assert "gen_ai.usage.cost" not in tags, "a failed call has no usage to price"
            assert tags["error.type"] == "NotFoundError"
            continue
        assert isinstance(tags["gen_ai.usage.input_tokens"], int) and tags["gen_ai.usage.input_tokens"] > 0
        cost = tags.get("gen_ai.usage.cost")
        assert isinstance(cost, float) and cost > 0, f"{model}: no cost ({cost!r})"
        assert tags.get("genai_lens.cost.source"), f"{model}: cost without its source"

    anthropic = [
        by_id[hex_id(span["context"]["span_id"])]
        for span in sent
        if span["name"] == "anthropic.messages.create"
    ]
    assert len(anthropic) == 2, "the anthropic SDK's own spans are what this app emits for Anthropic"
    for got in anthropic:
        tags = jaeger_tags(got)
        assert tags["genai_lens.normalize.source_dialect"] == "anthropic_native"
        assert got["operationName"].startswith("chat claude-3-")
        assert json.loads(tags["gen_ai.response.finish_reasons"]) == ["stop"]  # end_turn, in OTel's words
        assert all(m.get("finish_reason") for m in json.loads(tags["gen_ai.output.messages"]))


def test_no_raw_pii_anywhere_in_jaeger(app_through_sandwich) -> None:
    sent, raw = app_through_sandwich["sent"], app_through_sandwich["raw"]
    assert any(PII[0] in json.dumps(span) for span in sent), "the app did not send the PII prompt"
    for trace_id, body in raw.items():
        assert body, f"trace {trace_id} missing from Jaeger"
        for needle in PII:
            assert needle not in body, f"{needle!r} stored in Jaeger (trace {trace_id})"
        assert "4111111111111111" not in body
    stored = app_through_sandwich["stored"]
    joke = next(
        span
        for spans in stored.values()
        for span in spans
        if "opentelemetry" in str(jaeger_tags(span).get("gen_ai.input.messages", ""))
    )
    tags = jaeger_tags(joke)
    assert tags["genai_lens.redaction.count"] == 2
    assert set(json.loads(tags["genai_lens.redaction.types"])) == {"email", "credit_card"}
    content = json.loads(tags["gen_ai.input.messages"])[0]["parts"][0]["content"]
    assert content == JOKE_PROMPT.replace(PII[0], "<EMAIL>").replace(PII[1], "<CREDIT_CARD>")


def test_non_genai_spans_arrive_unchanged(app_through_sandwich) -> None:
    sent, stored = app_through_sandwich["sent"], app_through_sandwich["stored"]
    by_id = {span["spanID"]: span for spans in stored.values() for span in spans}
    plain = [span for span in sent if "gen_ai.operation.name" not in span["attributes"]]
    assert [span["name"] for span in plain] == ["handle_request"]
    for span in plain:
        got = by_id[hex_id(span["context"]["span_id"])]
        assert got["operationName"] == span["name"]
        attributes = {key: as_jaeger_value(value) for key, value in span["attributes"].items()}
        tags = jaeger_tags(got)
        assert {key: tags.get(key) for key in attributes} == attributes
        added = set(tags) - set(attributes) - JAEGER_SYNTHESIZED_TAGS
        assert not added, f"{span['name']}: tags added on the way: {added}"
        assert not any(key.startswith(("genai_lens.", "gen_ai.")) for key in tags)


# Tags Jaeger derives from OTLP span fields (kind, status, scope), not from attributes.
JAEGER_SYNTHESIZED_TAGS = {
    "span.kind",
    "otel.scope.name",
    "otel.scope.version",
    "otel.status_code",
    "otel.status_description",
    "error",
    "internal.span.format",
}
