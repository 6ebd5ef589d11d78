"""The one-scan-per-request path must redact exactly what the string-by-string path does.

Each test runs the real stage both ways (``process_batch``, the serve default, against ``process_span``
for each span) or the real scanner both ways (joined text against each string; Hyperscan gates against
``str.find`` gates), on the corpus of the other redact tests and on the peers' real span dumps.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from redact_spans import build_request
from test_redact_corpus import NEGATIVES, PEM, POSITIVES, SHARED, _strings

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.redact import RedactStage
from genai_lens.processor.redact.batch_redactor import SEPARATOR
from genai_lens.processor.redact.config import parse_config
from genai_lens.processor.redact.detectors import BUILTIN_DETECTORS, Detector, Hot
from genai_lens.processor.redact.gate_index import hyperscan
from genai_lens.processor.redact.scanner import Scanner
from genai_lens.processor.span_view import python_to_any
from genai_lens.processor.stage import StageContext


def _sample_strings() -> list[str]:
    files = sorted((SHARED / "span-samples").rglob("*.json"))
    return [s for f in files for s in _strings(json.loads(f.read_text()))]


def _corpus() -> list[str]:
    return [sentence.format(value) for value, _, sentence in POSITIVES] + NEGATIVES + _sample_strings()


def _per_string(scanner: Scanner, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    return [[(f.start, f.end, f.type) for f in scanner.scan(text)] for text in texts]


def _joined(scanner: Scanner, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    starts = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    index = 0
    for f in scanner.scan(SEPARATOR.join(texts)):
        while index + 1 < len(texts) and f.start >= starts[index + 1]:
            index += 1
        base = starts[index]
        assert f.end - base <= len(texts[index]), "a finding crossed the separator"
        out[index].append((f.start - base, f.end - base, f.type))
    return out


@pytest.mark.parametrize("use_gate_index", [True, False], ids=["hyperscan-gates", "find-gates"])
def test_joined_scan_finds_what_each_string_scan_finds(use_gate_index: bool) -> None:
    texts = _corpus()
    scanner = Scanner(BUILTIN_DETECTORS, use_gate_index=use_gate_index)
    expected = _per_string(Scanner(BUILTIN_DETECTORS, use_gate_index=False), texts)
    assert sum(map(len, expected)) >= len(POSITIVES)  # the corpus does hold findings
    assert _joined(scanner, texts) == expected


def test_hyperscan_is_installed_and_gives_the_same_findings_as_find() -> None:
    """CI installs the wheel (Linux x86_64): the accelerated gates are really exercised, and agree."""
    assert hyperscan is not None
    indexed = Scanner(BUILTIN_DETECTORS)
    assert indexed._gate_index is not None
    long_texts = [" ".join(_corpus()[i : i + 40]) for i in range(0, len(_corpus()), 40)]
    long_texts = [t for t in long_texts if len(t) >= 4096] + [SEPARATOR.join(_corpus())]
    assert long_texts
    plain = Scanner(BUILTIN_DETECTORS, use_gate_index=False)
    assert _per_string(indexed, long_texts) == _per_string(plain, long_texts)


def test_values_split_across_two_strings_are_not_joined_into_one() -> None:
    scanner = Scanner(BUILTIN_DETECTORS)
    pieces = [
        "write to jane.doe",
        "@example.com",
        "card 4111 1111",
        "1111 1111 today",
        "call +44 20",
        "7946 0958",
    ]
    assert _joined(scanner, pieces) == [[] for _ in pieces]


def test_truncated_private_key_at_the_end_of_one_string_is_still_caught() -> None:
    truncated = PEM[: len(PEM) // 2]
    scanner = Scanner(BUILTIN_DETECTORS)
    found = _joined(scanner, ["before", f"key: {truncated}", "after it"])
    assert found[0] == [] and found[2] == []
    assert found[1] == [(5, len(f"key: {truncated}"), "secret")]
    assert found[1] == _per_string(scanner, [f"key: {truncated}"])[0]


def _request_with_every_location(n_spans: int) -> ExportTraceServiceRequest:
    """``n_spans`` spans; span i carries positive i in an attribute, JSON content, an array, a kvlist, an
    event's ``exception.message``, a link and the status message, beside negatives and denied keys."""
    request = ExportTraceServiceRequest()
    for i in range(n_spans):
        value, _, sentence = POSITIVES[i % len(POSITIVES)]
        text = sentence.format(value)
        part = build_request(
            {
                "gen_ai.prompt.0.content": text,
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"content": text}]}], indent=i % 2
                ),
                "tags": [text, NEGATIVES[i % len(NEGATIVES)]],
                "gen_ai.request.model": "gpt-4o",
                "server.address": "10.1.2.3",
                "http.request.header.authorization": "Bearer abc",
                "note": NEGATIVES[(i + 3) % len(NEGATIVES)],
            },
            events=[("exception", {"exception.message": f"failed: {text}"})],
            links=[{"peer": text}],
            status_message=f"error for {text}" if i % 3 == 0 else "",
        )
        span = part.resource_spans[0].scope_spans[0].spans[0]
        python_to_any({"user": {"contact": text}}, span.attributes.add(key="ctx").value)
        span.span_id = i.to_bytes(8, "big")
        span.kind = Span.SPAN_KIND_CLIENT
        request.resource_spans.append(part.resource_spans[0])
    return request


@pytest.mark.parametrize("config", [{}, {"mode": "hash", "hash_key": "k" * 32}], ids=["placeholder", "hash"])
def test_batch_equals_span_by_span_on_every_location(config: dict) -> None:
    body = _request_with_every_location(len(POSITIVES)).SerializeToString()
    batched = ExportTraceServiceRequest.FromString(body)
    single = ExportTraceServiceRequest.FromString(body)
    batch_stage = RedactStage.from_config(config, StageContext())
    span_stage = RedactStage.from_config(config, StageContext())
    assert batch_stage.batch is not None
    batch_stage.process_batch(span_views(batched))
    for view in span_views(single):
        span_stage.process_span(view)
    assert batched.SerializeToString() == single.SerializeToString()
    assert batched.SerializeToString() != body  # something was redacted
    counts = [
        next(kv.value.int_value for kv in view.span.attributes if kv.key == "genai_lens.redaction.count")
        for view in span_views(batched)
    ]
    assert all(c >= 6 for c in counts)  # prompt, JSON, array, kvlist, event, link (+ status, denied header)


def test_batch_equals_span_by_span_on_the_peers_span_dumps() -> None:
    """Every real span dump, with PII planted in every string that holds prose, through both paths."""
    request = ExportTraceServiceRequest()
    value_cycle = [sentence.format(value) for value, _, sentence in POSITIVES]
    for n, text in enumerate(s for s in _sample_strings() if " " in s):
        planted = f"{text} {value_cycle[n % len(value_cycle)]}" if n % 2 else text
        part = build_request({"input.value": planted, "gen_ai.prompt.0.content": text})
        request.resource_spans.append(part.resource_spans[0])
    body = request.SerializeToString()
    batched = ExportTraceServiceRequest.FromString(body)
    single = ExportTraceServiceRequest.FromString(body)
    RedactStage.from_config({}, StageContext()).process_batch(span_views(batched))
    stage = RedactStage.from_config({}, StageContext())
    for view in span_views(single):
        stage.process_span(view)
    assert len(span_views(batched)) > 100
    assert batched.SerializeToString() == single.SerializeToString() != body


def test_drop_mode_and_custom_patterns_keep_the_span_by_span_path() -> None:
    assert RedactStage.from_config({"mode": "drop"}, StageContext()).batch is None
    custom = {"custom_patterns": [{"name": "emp", "pattern": "EMP-[0-9]{6}"}]}
    assert RedactStage.from_config(custom, StageContext()).batch is None


def test_a_failing_batch_scan_falls_back_span_by_span_and_fails_closed_only_there(caplog) -> None:
    """A detector bug hit in the one-request scan: every span is rescanned on its own, the span that
    trips the bug is withheld (fail closed), the others are redacted normally; no content is logged."""

    def explode(candidate: str, text: str, start: int) -> bool:
        raise RuntimeError("detector bug")

    exploding = Detector("explode", "custom", "X", re.compile("boom"), (Hot("boom"),), validator=explode)
    config = dataclasses.replace(parse_config({}), detectors=(*BUILTIN_DETECTORS, exploding))
    context = StageContext()
    stage = RedactStage(config, context)
    assert stage.batch is not None
    request = ExportTraceServiceRequest()
    for attributes in ({"a": "boom goes the secret plan"}, {"b": "mail jane.doe@example.com"}):
        request.resource_spans.append(build_request(attributes).resource_spans[0])
    with caplog.at_level(logging.WARNING, logger="genai_lens.processor.redact"):
        stage.process_batch(span_views(request))
    first, second = span_views(request)
    assert first.get("a") == "<REDACTED>"
    assert second.get("b") == "mail <EMAIL>"
    assert context.stats.get("genai_lens_redaction_errors_total", error="RuntimeError") == 2  # batch + span
    assert "secret plan" not in caplog.text and "jane.doe" not in caplog.text
