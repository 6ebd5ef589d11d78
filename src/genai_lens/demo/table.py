"""Turns the enriched GenAI spans the demo received into a readable table."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from genai_lens import semconv
from genai_lens.processor.span_view import any_to_python

Row = dict[str, object]

COLUMNS = [
    ("span", 30),
    ("instrumented by", 26),
    ("tokens in/out", 13),
    ("cached", 6),
    ("ttfc ms", 7),
    ("ms", 6),
    ("cost USD", 10),
    ("anomaly flags", 22),
    ("redacted", 20),
]


def _attributes(span: object) -> dict[str, object]:
    return {kv.key: any_to_python(kv.value) for kv in span.attributes}  # type: ignore[attr-defined]


def genai_rows(resource_spans: Iterable[ResourceSpans]) -> list[Row]:
    rows: list[Row] = []
    for rs in resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                attrs = _attributes(span)
                if gen_ai.GEN_AI_OPERATION_NAME not in attrs:
                    continue
                ttfc = attrs.get(gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
                cost = attrs.get(semconv.GEN_AI_USAGE_COST)
                types = attrs.get(semconv.GENAI_LENS_REDACTION_TYPES) or []
                rows.append(
                    {
                        "span": span.name,
                        "instrumented by": ss.scope.name.replace(".instrumentation.", "."),
                        "tokens in/out": f"{attrs.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS, '-')}"
                        f"/{attrs.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS, '-')}",
                        "cached": attrs.get(gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "-"),
                        "ttfc ms": f"{float(ttfc) * 1000:.1f}" if isinstance(ttfc, int | float) else "-",
                        "ms": f"{(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6:.1f}",
                        "cost USD": f"{cost:.6f}" if isinstance(cost, float) else "unpriced",
                        "anomaly flags": ",".join(attrs.get(semconv.GENAI_LENS_ANOMALY_FLAGS) or []) or "-",
                        "redacted": ",".join(types) or "-",
                    }
                )
    return rows


def print_table(rows: list[Row]) -> None:
    header = "  ".join(name.ljust(width) for name, width in COLUMNS)
    print(header)
    print("-" * len(header))
    for row in rows:
        print("  ".join(str(row[name])[:width].ljust(width) for name, width in COLUMNS))


def print_content_sample(resource_spans: Iterable[ResourceSpans]) -> None:
    """Show one captured prompt as it left the processor, so the redaction is visible."""
    for rs in resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                attrs = _attributes(span)
                if attrs.get(semconv.GENAI_LENS_REDACTION_COUNT):
                    print(f"\n{span.name}: gen_ai.input.messages as exported (after redaction):")
                    print(f"  {str(attrs.get(gen_ai.GEN_AI_INPUT_MESSAGES))[:300]}")
                    return
