"""End to end: the LangChain + Chroma example under `opentelemetry-instrument`, OTLP/HTTP to a receiver.

Zero-code: the example knows nothing about genai-lens; our entry points instrument langchain, chromadb and
openai; the provider is a replay server. One trace per question, tokens counted once.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from conftest import EXAMPLES, LANGCHAIN_CASSETTE

_E2E = Path(__file__).resolve().parents[1] / "openai" / "test_openai_otlp_e2e.py"
_spec = importlib.util.spec_from_file_location("genai_lens_openai_otlp_e2e_helpers", _E2E)
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)  # reuse its OTLP receiver fixture; its tests are not collected here
receiver = _helpers.receiver  # the same fixture: a receiver on a loopback port, shut down after the test
INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
KEPT = {"genai_lens_langchain", "genai_lens_chromadb", "genai_lens_openai"}


def test_langchain_chroma_example_zero_code(receiver, replay):
    provider = replay(LANGCHAIN_CASSETTE)
    others = {ep.name for ep in entry_points(group="opentelemetry_instrumentor")} - KEPT
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(
        OPENAI_BASE_URL=provider.base_url + "/v1",
        OPENAI_API_KEY="test-key",
        ANONYMIZED_TELEMETRY="False",  # chromadb product telemetry would try the network
        OTEL_SERVICE_NAME="genai-lens-rag-e2e",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=",".join(sorted(others)),
        OTEL_BSP_SCHEDULE_DELAY="50",
    )
    result = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(EXAMPLES / "rag_langchain_chroma.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "A: ### OpenTelemetry" in result.stdout

    spans = [span for _, span in receiver.spans]
    scopes = {scope for scope, _ in receiver.spans}
    assert {
        "genai_lens.instrumentation.langchain",
        "genai_lens.instrumentation.chromadb",
        "genai_lens.instrumentation.openai",
    } <= scopes
    workflow = next(s for s in spans if s.name == "invoke_workflow RunnableSequence")
    in_trace = [s for s in spans if s.trace_id == workflow.trace_id]
    names = {s.name for s in in_trace}
    assert {"retrieval ChromaRetriever", "retrieval otel-docs", "chat gpt-4o-mini"} <= names
    chats = [s for s in in_trace if s.name == "chat gpt-4o-mini"]
    assert len(chats) == 2  # framework span + provider span, nested
    framework, client = sorted(chats, key=lambda s: s.kind)  # INTERNAL(1) before CLIENT(3)
    assert client.parent_span_id == framework.span_id

    def usage(span, key):
        return next((a.value.int_value for a in span.attributes if a.key == key), 0)

    total = (
        sum(usage(s, "gen_ai.usage.input_tokens") for s in in_trace),
        sum(usage(s, "gen_ai.usage.output_tokens") for s in in_trace),
    )
    assert total == (1497, 1037)
    # content stays off without the env var
    assert not any(a.key.startswith("gen_ai.retrieval.") for s in in_trace for a in s.attributes)
