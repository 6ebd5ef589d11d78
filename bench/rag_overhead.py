"""Overhead of RAG instrumentation on one retrieval + LCEL chain call: genai-lens vs. OpenLLMetry vs. none.

The workload is ``examples/rag_langchain_chroma.py``: a LangChain retriever over an in-process Chroma
collection (hashing embeddings) -> prompt -> ChatOpenAI -> parser. ChatOpenAI's HTTP client answers from the
recorded cassette bytes through an in-process transport, so the numbers hold LangChain + Chroma + the openai
SDK + instrumentation, without socket noise. Each configuration runs in its own process; the driver runs them
in interleaved rounds (order rotated each round) and reports the median per-call time and the overhead
against the uninstrumented baseline measured in the same round. CPU time is process CPU (LangChain runs
parallel steps on worker threads). A benchmark: nothing asserts on time.

    .venv/bin/python bench/rag_overhead.py --oll-python /tmp/venv-oll/bin/python

OpenLLMetry (``opentelemetry-instrumentation-{langchain,chromadb,openai}`` 0.62.x) must live in its own venv,
never in the project venv, e.g.::

    python3.11 -m venv /tmp/venv-oll
    echo /work/main/.venv/lib/python3.11/site-packages > /tmp/venv-oll/lib/python3.11/site-packages/zz.pth
    /tmp/venv-oll/bin/pip install 'opentelemetry-instrumentation-langchain>=0.62,<0.63' \
        'opentelemetry-instrumentation-chromadb>=0.62,<0.63' \
        'opentelemetry-instrumentation-openai>=0.62,<0.63'

(the ``.pth`` shares the project's langchain/chromadb/openai/OTel SDK, so only the instrumentors differ).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO_ROOT = HERE.parents[1]
EXAMPLES = REPO_ROOT / "examples"
CASSETTE = (
    REPO_ROOT / ".." / "shared" / "cassettes" / "langchain" / "chatopenai_invoke_gpt4omini.yaml"
).resolve()

# configuration name -> (interpreter key, instrumentation, extra environment)
CONFIGS: dict[str, tuple[str, str, dict[str, str]]] = {
    "baseline": ("main", "none", {}),
    "genai-lens": ("main", "genai-lens", {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"}),
    "genai-lens+content": (
        "main",
        "genai-lens",
        {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
    ),
    "openllmetry": ("oll", "openllmetry", {"TRACELOOP_TRACE_CONTENT": "false"}),
    "openllmetry+content": ("oll", "openllmetry", {"TRACELOOP_TRACE_CONTENT": "true"}),  # its default
}


# ---------------------------------------------------------------------------------------------- worker
def _fixture() -> tuple[list[tuple[str, str]], bytes]:
    import gzip

    import yaml

    interaction = yaml.safe_load(CASSETTE.read_text())["interactions"][0]
    body = interaction["response"]["body"]["string"]
    body = gzip.decompress(body) if isinstance(body, bytes) and body[:2] == b"\x1f\x8b" else body
    body = body.encode() if isinstance(body, str) else body
    return [("content-type", "application/json")], body


def _instrument(kind: str, tracer_provider: Any, meter_provider: Any) -> list[str]:
    if kind == "genai-lens":
        from genai_lens.instrumentation.chromadb import ChromaDBInstrumentor
        from genai_lens.instrumentation.langchain import LangChainInstrumentor
        from genai_lens.instrumentation.openai import OpenAIInstrumentor

        instrumentors = [LangChainInstrumentor(), ChromaDBInstrumentor(), OpenAIInstrumentor()]
    elif kind == "openllmetry":
        from opentelemetry.instrumentation.chromadb import ChromaInstrumentor
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as OLLOpenAIInstrumentor

        instrumentors = [LangchainInstrumentor(), ChromaInstrumentor(), OLLOpenAIInstrumentor()]
    else:
        return []
    for instrumentor in instrumentors:
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return [type(i).__module__ for i in instrumentors]


def worker(kind: str) -> None:
    import chromadb
    import httpx2
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    sys.path.insert(0, str(EXAMPLES))
    import rag_langchain_chroma as example

    class Counting(SpanExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, spans: Any) -> SpanExportResult:
            self.count += len(spans)
            return SpanExportResult.SUCCESS

    exporter = Counting()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    modules = _instrument(kind, tracer_provider, meter_provider)

    headers, body = _fixture()

    class RecordedTransport(httpx2.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            request.read()
            return httpx2.Response(200, headers=headers, content=body)

    collection = example.build_collection(chromadb.EphemeralClient())
    http_client = httpx2.Client(transport=RecordedTransport())
    chain = example.build_chain(collection, "http://recorded.invalid/v1", http_client=http_client)
    for _ in range(20):  # warm-up: imports, caches, first-call paths
        chain.invoke(example.QUESTION)
    print("READY " + json.dumps({"kind": kind, "instrumentors": modules}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        calls = int(command[1])
        spans_before = exporter.count
        cpu, wall = time.process_time_ns(), time.perf_counter_ns()
        for _ in range(calls):
            chain.invoke(example.QUESTION)
        cpu, wall = time.process_time_ns() - cpu, time.perf_counter_ns() - wall
        result = {"cpu_us": cpu / calls / 1000, "wall_us": wall / calls / 1000}
        result["spans_per_call"] = (exporter.count - spans_before) / calls
        print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------- driver
def start(name: str, python: str) -> subprocess.Popen[str]:
    interpreter, kind, extra_env = CONFIGS[name]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_"))}
    env.update(extra_env, ANONYMIZED_TELEMETRY="False", TRACELOOP_TELEMETRY="false")
    process = subprocess.Popen(
        [python, str(HERE), "--worker", kind],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            return process
    raise RuntimeError(f"{name} worker did not start (exit {process.wait()})")


def run_round(process: subprocess.Popen[str], calls: int) -> dict[str, float]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(f"run {calls}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--oll-python", default="/tmp/venv-oll/bin/python", help="python of the OpenLLMetry venv"
    )
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=100, help="chain calls per configuration per round")
    parser.add_argument("--json", help="write raw results here")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return

    pythons = {"main": sys.executable, "oll": args.oll_python}
    names = [n for n in CONFIGS if CONFIGS[n][0] == "main" or Path(args.oll_python).exists()]
    processes = {name: start(name, pythons[CONFIGS[name][0]]) for name in names}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    began = time.monotonic()
    try:
        for round_index in range(args.rounds):
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                results[name].append(run_round(processes[name], args.calls))
    finally:
        for process in processes.values():
            if process.stdin:
                process.stdin.write("quit\n")
                process.stdin.close()
            process.wait(timeout=30)

    def overheads(name: str, key: str) -> list[float]:
        return [r[key] - b[key] for r, b in zip(results[name], results["baseline"], strict=True)]

    base_cpu = statistics.median(r["cpu_us"] for r in results["baseline"])
    print(f"\n{args.rounds} rounds x {args.calls} calls per configuration, {time.monotonic() - began:.0f} s")
    header = (
        f"{'configuration':22} {'spans/call':>10} {'CPU us/call':>12} {'overhead us':>12} {'x baseline':>10}"
    )
    print(header + f" {'wall us/call':>12}")
    for name in names:
        cpu = statistics.median(r["cpu_us"] for r in results[name])
        wall = statistics.median(r["wall_us"] for r in results[name])
        over = statistics.median(overheads(name, "cpu_us")) if name != "baseline" else 0.0
        spans = results[name][-1]["spans_per_call"]
        print(f"{name:22} {spans:10.0f} {cpu:12.0f} {over:12.0f} {cpu / base_cpu:10.2f} {wall:12.0f}")
    if "openllmetry" in results:
        ratio = statistics.median(overheads("openllmetry", "cpu_us")) / statistics.median(
            overheads("genai-lens", "cpu_us")
        )
        print(f"\nOpenLLMetry overhead / genai-lens overhead (content off): {ratio:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
