"""Micro-benchmark for the redact stage; not collected by pytest (no timing asserts in tests).

Run: ``.venv/bin/python tests/processor/redact/bench_redact.py [spans]`` (CPU time, so other load matters
less). Compares µs/span of a
protobuf decode + attribute scan + encode (the floor any stage pays) with decode + redact + encode, on a
~3 KB GenAI chat span (OTel content attributes plus OpenInference-style flattened copies), with and
without PII in its content.
"""

from __future__ import annotations

import json
import sys
import time
import timeit

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.pipeline import Pipeline
from genai_lens.processor.redact import RedactStage
from genai_lens.processor.span_view import python_to_any
from genai_lens.processor.stage import StageContext

SYSTEM = "You are a helpful travel assistant for Example Air. Answer briefly and quote prices in EUR. "
USER = (
    "I want to fly from Paris to Berlin next Tuesday, 12 March 2024, around 10:30 in the morning. "
    "My budget is 250 euros and I have 2 bags of 23 kg. Booking reference QX7P2L. What are my options? "
)
ASSISTANT = (
    "There are three direct flights on Tuesday: AF1234 at 09:35, LH2231 at 10:20 and EW9041 at 11:05. "
    "Prices range from 189.99 to 265.00 EUR incl. a 23 kg bag; a second bag costs 45 EUR. Flight: 1h 45m. "
)
PII = " You can reach me at jane.doe@example.com or +44 20 7946 0958, card 4111 1111 1111 1111."


def chat_request(with_pii: bool, variant: int = 0) -> bytes:
    """One OTLP request holding one ~3 KB chat span; ``variant`` makes every content string different."""
    user = f"Trip {variant}. " + USER * 3 + (PII if with_pii else "")
    answer = f"Option set {variant}. " + ASSISTANT * 3
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": SYSTEM * 2}]},
        {"role": "user", "parts": [{"type": "text", "content": user}]},
    ]
    output = [{"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.id": "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 412,
        "gen_ai.usage.output_tokens": 188,
        "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(output),
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": user,
        "llm.output_messages.0.message.role": "assistant",
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    python_to_any("travel-bot", resource_spans.resource.attributes.add(key="service.name").value)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "genai_lens.instrumentation.openai"
    span = scope_spans.spans.add(name="chat gpt-4o", trace_id=bytes(range(16)), span_id=bytes(range(8)))
    span.kind = span.SPAN_KIND_CLIENT
    span.start_time_unix_nano, span.end_time_unix_nano = 1_709_819_153_000_000_000, 1_709_819_154_250_000_000
    for key, value in attributes.items():
        python_to_any(value, span.attributes.add(key=key).value)
    return request.SerializeToString()


def baseline(data: bytes) -> bytes:
    """Decode, read every string attribute once, encode: what any stage costs at the least."""
    request = ExportTraceServiceRequest.FromString(data)
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                for kv in span.attributes:
                    if kv.value.WhichOneof("value") == "string_value":
                        _ = kv.value.string_value
    return request.SerializeToString()


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for with_pii in (False, True):
        # Distinct content in every span (the clean cache never hits), and the same span over and over.
        for label, requests in (
            ("distinct", [chat_request(with_pii, i) for i in range(number)]),
            ("repeated", [chat_request(with_pii)] * number),
        ):

            def floor(requests: list[bytes] = requests) -> None:
                for data in requests:
                    baseline(data)

            def redacted(requests: list[bytes] = requests) -> None:
                # A fresh stage per run, so the clean cache starts empty each time.
                pipeline = Pipeline([RedactStage.from_config({}, StageContext())])
                for data in requests:
                    pipeline.process(ExportTraceServiceRequest.FromString(data)).SerializeToString()

            base = min(timeit.repeat(floor, number=1, repeat=5, timer=time.process_time)) / number * 1e6
            full = min(timeit.repeat(redacted, number=1, repeat=5, timer=time.process_time)) / number * 1e6
            pii = "with PII   " if with_pii else "without PII"
            print(
                f"{pii} {label}: span {len(requests[0])} B  floor {base:5.1f} µs  "
                f"with redact {full:6.1f} µs (redact {full - base:5.1f} µs/span; {base / full:4.0%})"
            )


if __name__ == "__main__":
    main()
