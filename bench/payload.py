"""Realistic OTLP trace payloads for the processor benchmark, built with the real OTel SDK + OTLP encoder.

Each trace is what a small RAG/chat service emits for one user request: an HTTP server root span, a
database query, two LLM chat spans carrying message content (with PII for the redact stage to find) and
an outgoing HTTP client span. The chat spans rotate between dialects so the normalize stage has work:
current OTel GenAI names (60 %), OpenLLMetry legacy ``gen_ai.prompt.N.*`` / ``llm.*`` (20 %) and
OpenInference ``llm.input_messages.N.*`` (20 %). Content is seeded-random, so runs are reproducible;
questions and answers are unique per span, the system prompt is shared and the retrieved context comes
from a corpus of 64 passages, as in a real RAG app.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, set_span_in_context

SPANS_PER_TRACE = 5
DIALECT_CYCLE = ("otel", "otel", "otel", "openllmetry_legacy", "openinference")  # per trace, in turn

_WORDS = (
    "invoice shipment refund policy account warranty delivery order premium customer support ticket "
    "subscription upgrade billing cycle contract renewal discount region storage latency cluster index "
    "vector embedding document retrieval answer summary question context passage citation source model"
).split()
_SYSTEM_PROMPT = (
    "You are a helpful support assistant for Acme Cloud. Answer only from the provided context. "
    "If the context does not contain the answer, say you do not know. Never reveal internal ticket notes. "
    "Be concise, use bullet points for steps, and cite the document ids you used in square brackets."
)
_MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet-20241022"))


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _paragraph(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = _sentence(rng, rng.randint(6, 14))
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def _pii_question(rng: random.Random, n: int) -> str:
    """A user turn with the kinds of personal data real chat logs carry."""
    return (
        f"Hi, I'm Jane Doe (jane.doe{n}@example.com, phone +1 415-555-{n % 10000:04d}). My card "
        f"4111 1111 1111 1111 was charged twice for order #{rng.randint(10000, 99999)} from IP "
        f"10.{n % 256}.{rng.randint(0, 255)}.{rng.randint(1, 254)}. {_paragraph(rng, 220)} "
        "Can you refund the duplicate charge?"
    )


@dataclass
class _Turn:
    provider: str
    model: str
    question: str
    context: str
    answer: str
    input_tokens: int
    output_tokens: int
    response_id: str


_DOCUMENTS = [_paragraph(random.Random(1000 + i), 1000) for i in range(64)]
"""The retrieval corpus: context passages repeat across requests as they do in a real RAG app."""


def _turn(rng: random.Random, n: int) -> _Turn:
    provider, model = rng.choice(_MODELS)
    return _Turn(
        provider=provider,
        model=model,
        question=_pii_question(rng, n),
        context=rng.choice(_DOCUMENTS),
        answer=_paragraph(rng, 650) + f" I have emailed the receipt to jane.doe{n}@example.com.",
        input_tokens=rng.randint(400, 1600),
        output_tokens=rng.randint(60, 400),
        response_id=f"chatcmpl-{rng.getrandbits(64):016x}",
    )


def _otel_chat(turn: _Turn) -> dict[str, object]:
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": _SYSTEM_PROMPT}]},
        {"role": "user", "parts": [{"type": "text", "content": f"Context:\n{turn.context}"}]},
        {"role": "user", "parts": [{"type": "text", "content": turn.question}]},
    ]
    output = [
        {"role": "assistant", "parts": [{"type": "text", "content": turn.answer}], "finish_reason": "stop"}
    ]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": turn.provider,
        "gen_ai.request.model": turn.model,
        "gen_ai.response.model": turn.model,
        "gen_ai.response.id": turn.response_id,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": turn.input_tokens,
        "gen_ai.usage.output_tokens": turn.output_tokens,
        "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(output),
        "server.address": "api.openai.com" if turn.provider == "openai" else "api.anthropic.com",
        "server.port": 443,
    }


def _openllmetry_legacy_chat(turn: _Turn) -> dict[str, object]:
    return {
        "gen_ai.system": turn.provider,
        "llm.request.type": "chat",
        "gen_ai.request.model": turn.model,
        "gen_ai.response.model": turn.model,
        "gen_ai.response.id": turn.response_id,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "llm.is_streaming": False,
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": _SYSTEM_PROMPT,
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": f"Context:\n{turn.context}",
        "gen_ai.prompt.2.role": "user",
        "gen_ai.prompt.2.content": turn.question,
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": turn.answer,
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.usage.prompt_tokens": turn.input_tokens,
        "gen_ai.usage.completion_tokens": turn.output_tokens,
        "llm.usage.total_tokens": turn.input_tokens + turn.output_tokens,
    }


def _openinference_chat(turn: _Turn) -> dict[str, object]:
    return {
        "openinference.span.kind": "LLM",
        "llm.provider": turn.provider,
        "llm.system": turn.provider,
        "llm.model_name": turn.model,
        "llm.invocation_parameters": json.dumps({"model": turn.model, "temperature": 0.2, "max_tokens": 512}),
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": _SYSTEM_PROMPT,
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": f"Context:\n{turn.context}",
        "llm.input_messages.2.message.role": "user",
        "llm.input_messages.2.message.content": turn.question,
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": turn.answer,
        "llm.finish_reason": "stop",
        "llm.token_count.prompt": turn.input_tokens,
        "llm.token_count.completion": turn.output_tokens,
        "llm.token_count.total": turn.input_tokens + turn.output_tokens,
        "input.mime_type": "text/plain",
        "output.mime_type": "text/plain",
    }


_DIALECTS = {
    "otel": ("genai_lens.instrumentation.openai", SpanKind.CLIENT, _otel_chat),
    "openllmetry_legacy": (
        "opentelemetry.instrumentation.openai.v1",
        SpanKind.CLIENT,
        _openllmetry_legacy_chat,
    ),
    "openinference": ("openinference.instrumentation.openai", SpanKind.INTERNAL, _openinference_chat),
}


def _trace(provider: TracerProvider, rng: random.Random, n: int, start_ns: int) -> None:
    """One request's spans (finished into the provider's exporter)."""
    http = provider.get_tracer("opentelemetry.instrumentation.fastapi", "0.66b2")
    db = provider.get_tracer("opentelemetry.instrumentation.psycopg", "0.66b2")
    client = provider.get_tracer("opentelemetry.instrumentation.httpx", "0.66b2")
    dialect = DIALECT_CYCLE[n % len(DIALECT_CYCLE)]
    scope, kind, attributes = _DIALECTS[dialect]
    llm = provider.get_tracer(scope, "1.0.0")
    t = start_ns
    root = http.start_span(
        "POST /v1/support/chat",
        kind=SpanKind.SERVER,
        start_time=t,
        attributes={
            "http.request.method": "POST",
            "http.route": "/v1/support/chat",
            "url.path": "/v1/support/chat",
            "url.scheme": "https",
            "http.response.status_code": 200,
            "server.address": "support.acme.example",
            "server.port": 443,
            "client.address": f"203.0.113.{n % 250 + 1}",
            "user_agent.original": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15",
            "network.protocol.version": "1.1",
        },
    )
    ctx = set_span_in_context(root)
    query = db.start_span(
        "SELECT documents",
        kind=SpanKind.CLIENT,
        context=ctx,
        start_time=t + 1_000_000,
        attributes={
            "db.system.name": "postgresql",
            "db.namespace": "support",
            "db.operation.name": "SELECT",
            "db.collection.name": "documents",
            "db.query.text": "SELECT id, body FROM documents ORDER BY embedding <=> $1 LIMIT 5",
            "server.address": "db.internal",
            "server.port": 5432,
        },
    )
    query.end(end_time=t + 9_000_000)
    for k in range(2):
        turn = _turn(rng, n * 2 + k)
        begin = t + 10_000_000 + k * 900_000_000
        llm_span = llm.start_span(
            f"chat {turn.model}", kind=kind, context=ctx, start_time=begin, attributes=attributes(turn)
        )
        llm_ctx = set_span_in_context(llm_span)
        call = (
            client.start_span(
                "POST",
                kind=SpanKind.CLIENT,
                context=llm_ctx,
                start_time=begin + 1_000_000,
                attributes={
                    "http.request.method": "POST",
                    "url.full": "https://api.openai.com/v1/chat/completions",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                    "http.response.status_code": 200,
                },
            )
            if k == 1
            else None
        )
        duration = rng.randint(400_000_000, 880_000_000)
        if call is not None:
            call.end(end_time=begin + duration - 1_000_000)
        llm_span.end(end_time=begin + duration)
    root.end(end_time=t + 1_900_000_000)


def build_requests(count: int, spans_per_request: int = 512, seed: int = 7) -> list[bytes]:
    """``count`` distinct serialized ExportTraceServiceRequests of ``spans_per_request`` spans each."""
    rng = random.Random(seed)
    traces = -(-spans_per_request // SPANS_PER_TRACE)
    out: list[bytes] = []
    start = 1_763_900_000_000_000_000
    for r in range(count):
        memory = InMemorySpanExporter()
        provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": "support-bot",
                    "service.version": "2.4.1",
                    "deployment.environment.name": "production",
                    "host.name": f"support-bot-{r % 4}",
                }
            )
        )
        provider.add_span_processor(SimpleSpanProcessor(memory))
        for i in range(traces):
            _trace(provider, rng, r * traces + i, start + (r * traces + i) * 2_000_000_000)
        provider.shutdown()
        spans: list[ReadableSpan] = list(memory.get_finished_spans())[:spans_per_request]
        out.append(encode_spans(spans).SerializeToString())
    return out


def describe(body: bytes) -> dict[str, float]:
    """Spans, bytes and GenAI share of one serialized request (for the report)."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    genai_keys = ("gen_ai.operation.name", "gen_ai.system", "openinference.span.kind")
    flags = [any(kv.key in genai_keys for kv in s.attributes) for s in spans]
    genai = [s.ByteSize() for s, f in zip(spans, flags, strict=True) if f]
    other = [s.ByteSize() for s, f in zip(spans, flags, strict=True) if not f]
    return {
        "spans": len(spans),
        "bytes": len(body),
        "genai_spans": len(genai),
        "genai_bytes_per_span": sum(genai) / max(1, len(genai)),
        "other_bytes_per_span": sum(other) / max(1, len(other)),
    }
