"""The redact stage on the native core against the Python stage: same output messages, same stats.

Each case feeds the same OTLP bytes to ``RedactStage.process_batch`` (upb messages, the reference) and to
``RedactStage.native_step().run`` (a ``genai_lens_native.Batch``), then compares the decoded results and
the counters: the benchmark payload, the peers' span dumps, the redact corpora, both modes, a detector
subset, user allow/deny keys, and generated values mixing PII-like fragments.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import genai_lens_native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from redact_spans import HASH_KEY, build_request
from test_redact_batch import _request_with_every_location, _sample_strings
from test_redact_corpus import JWT, NEGATIVES, PEM, POSITIVES

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.redact import RedactStage
from genai_lens.processor.redact.config import parse_config
from genai_lens.processor.redact.detectors import BUILTIN_DETECTORS, Detector, Hot
from genai_lens.processor.redact.keys import DEFAULT_ALLOW_KEYS, DEFAULT_DENY_KEYS
from genai_lens.processor.redact.native import python_char_classes
from genai_lens.processor.redact.stage import REDACTIONS_METRIC
from genai_lens.processor.span_view import python_to_any
from genai_lens.processor.stage import StageContext

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "processor" / "normalize"))

from normalize_samples import dump_requests  # noqa: E402
from payload import build_requests  # noqa: E402

HASH = {"mode": "hash", "hash_key": HASH_KEY}
CONFIGS = {
    "placeholder": {},
    "hash": HASH,
    "subset": {"detectors": ["email", "credit_card", "ipv4"]},
    "secrets-only-hash": {**HASH, "detectors": ["secret"]},
    "user-keys": {
        "allow_keys": ["note", "tags", "app.build.*"],
        "deny_keys": ["enduser.*", "ctx.user.contact", "gen_ai.prompt.[0-9].role"],
    },
    "no-default-keys": {"default_keys": False, "deny_keys": ["server.address"]},
}


class Pair:
    """A Python stage and a native step built from one config, each with its own stats."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.python_context = StageContext()
        self.native_context = StageContext()
        self.python = RedactStage.from_config(dict(config), self.python_context)
        step = RedactStage.from_config(dict(config), self.native_context).native_step()
        assert step is not None, "this config is in the native scope"
        self.step = step

    def check(self, body: bytes) -> ExportTraceServiceRequest:
        """Run both on ``body``; assert equal output; return the (Python) result."""
        python_before, native_before = self.stats(self.python_context), self.stats(self.native_context)
        expected = ExportTraceServiceRequest.FromString(body)
        self.python.process_batch(span_views(expected))
        batch = genai_lens_native.Batch(body)
        self.step.run(batch)
        python_added = _delta(python_before, self.stats(self.python_context))
        native_added = _delta(native_before, self.stats(self.native_context))
        actual = ExportTraceServiceRequest.FromString(batch.encode())
        if actual != expected:  # name the first differing span, not the whole request
            for n, (want, got) in enumerate(zip(span_views(expected), span_views(actual), strict=True)):
                assert got.span == want.span, f"span {n} differs"
        assert actual == expected
        assert native_added == python_added
        return expected

    @staticmethod
    def stats(context: StageContext) -> dict[tuple[str, Any], float]:
        return {(metric, labels): value for metric, _, _, labels, value in context.stats.snapshot()}


def _delta(before: dict[tuple[str, Any], float], after: dict[tuple[str, Any], float]) -> dict:
    """What one request added to the counters."""
    return {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}


def _redactions(pair: Pair) -> float:
    return sum(v for (metric, _), v in Pair.stats(pair.python_context).items() if metric == REDACTIONS_METRIC)


@pytest.mark.parametrize("name", ["placeholder", "hash"])
def test_benchmark_payload(name: str) -> None:
    pair = Pair(CONFIGS[name])
    for body in build_requests(3):
        pair.check(body)
    assert _redactions(pair) > 1000


@pytest.mark.parametrize("name", ["subset", "user-keys"])
def test_benchmark_payload_with_a_subset_and_user_keys(name: str) -> None:
    pair = Pair(CONFIGS[name])
    (body,) = build_requests(1, seed=11)
    pair.check(body)
    assert _redactions(pair) > 100


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_span_dumps_as_they_are(name: str) -> None:
    pair = Pair(CONFIGS[name])
    for body in dump_requests():
        pair.check(body)


def _planted_dump_strings() -> bytes:
    """Every string of every span dump, half of them with a positive planted (as test_redact_batch)."""
    request = ExportTraceServiceRequest()
    value_cycle = [sentence.format(value) for value, _, sentence in POSITIVES]
    for n, text in enumerate(s for s in _sample_strings() if " " in s):
        planted = f"{text} {value_cycle[n % len(value_cycle)]}" if n % 2 else text
        part = build_request({"input.value": planted, "gen_ai.prompt.0.content": text})
        request.resource_spans.append(part.resource_spans[0])
    return request.SerializeToString()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_span_dump_strings_with_pii_planted(name: str) -> None:
    pair = Pair(CONFIGS[name])
    pair.check(_planted_dump_strings())
    assert _redactions(pair) > 10


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_location_of_the_redact_corpus(name: str) -> None:
    """Positives in attributes, JSON, arrays, kvlists, events, links and status; negatives beside them."""
    pair = Pair(CONFIGS[name])
    pair.check(_request_with_every_location(len(POSITIVES)).SerializeToString())
    assert _redactions(pair) > 0


@pytest.mark.parametrize("name", ["placeholder", "hash"])
def test_each_positive_and_negative_alone(name: str) -> None:
    """One small request per corpus entry: the whole-request checks (prerequisites, digit counts) of the
    Python scanner's joined text then decide per entry, as they do for small real requests."""
    pair = Pair(CONFIGS[name])
    for value, _, sentence in POSITIVES:
        pair.check(build_request({"gen_ai.prompt.0.content": sentence.format(value)}).SerializeToString())
    for text in [*NEGATIVES, PEM, JWT, "-----BEGIN PRIVATE KEY-----", PEM[:80], PEM[:80] + "\n"]:
        pair.check(build_request({"gen_ai.prompt.0.content": text}).SerializeToString())
    assert _redactions(pair) >= len(POSITIVES)


def test_truncated_private_key_ending_in_a_newline_inside_and_at_the_end_of_the_request() -> None:
    """Python's ``$`` matches before a final newline only at the very end of its joined text: a key cut
    after a newline keeps that newline as the request's last string and loses it anywhere else."""
    pair = Pair({})
    truncated = PEM[:80] + "\n"
    results = []
    for attributes in ({"a": truncated, "b": "plain text here"}, {"b": "plain text here", "a": truncated}):
        result = pair.check(build_request(attributes).SerializeToString())
        results.append(span_views(result)[0].get("a"))
    assert results == ["<SECRET>", "<SECRET>\n"]


def test_denied_values_of_every_type_in_hash_mode() -> None:
    """A denied key's value of any type becomes one hashed marker of its JSON text, as in Python."""
    pair = Pair({**HASH, "deny_keys": ["d.*"]})
    values: dict[str, Any] = {
        "d.int": 42,
        "d.float": 0.1,
        "d.big": 1e22,
        "d.small": -2.5e-7,
        "d.whole": 3.0,
        "d.bool": True,
        "d.bytes": b"\x00ab'c\"\xff",
        "d.list": [1, "two", 3.5, False, ["x"]],
        "d.map": {"b": 1, "a": ["é", "\u2028"], "c": {"z": None}},
        "d.text": "plain text",
        "d.marker": "<EMAIL>",
        "d.empty": "",
    }
    request = build_request(values, status_message="call failed for jane.doe@example.com")
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.add(key="d.unset")  # an AnyValue with no value: left alone
    pair.check(request.SerializeToString())
    assert _redactions(pair) == 11  # ten denied values (not the marker, the empty or unset ones) + status


def test_previous_annotations_are_added_to() -> None:
    """An earlier pass's count and types are kept: the count adds up, the types are the union."""
    pair = Pair({})
    for count, types in ((3, ["ipv4", "zeta"]), (True, "email"), ("x", {"phone": 1}), (None, None)):
        attributes: dict[str, Any] = {"gen_ai.prompt.0.content": "mail jane.doe@example.com or 10.1.2.3"}
        if count is not None:
            attributes["genai_lens.redaction.count"] = count
        if types is not None:
            attributes["genai_lens.redaction.types"] = types
        request = build_request(attributes)
        # A repeated key: the last one is the one read and replaced.
        span = request.resource_spans[0].scope_spans[0].spans[0]
        python_to_any(7, span.attributes.add(key="genai_lens.redaction.count").value)
        pair.check(request.SerializeToString())


def test_json_content_rewritten_in_place_and_by_the_python_fallback() -> None:
    """A finding inside a string value is rewritten where it stands; one in a key, a number or next to
    an escape makes the document go through Python's parser (the glue hands it back) in both paths."""
    pair = Pair({})
    documents = [
        json.dumps([{"role": "user", "content": "mail jane.doe@example.com now"}], indent=2),
        json.dumps({"jane.doe@example.com": "key holds it"}),
        json.dumps({"card": 4111111111111111, "note": "number, not text"}),
        json.dumps({"msg": "line\n+44 20 7946 0958 after an escape"}),
        json.dumps({"msg": "tab\\\tjane.doe@example.com"}),
        json.dumps({"msg": "ünïcödé jane.doe@example.com ✓"}, ensure_ascii=False),
        '{"broken": "jane.doe@example.com"',
        '  [1, 2, "call 415-555-2671"]',
    ]
    for document in documents:
        pair.check(build_request({"gen_ai.input.messages": document}).SerializeToString())
    assert _redactions(pair) >= 5
    # A private key spans escaped newlines: only the parse path can redact it, and re-serializes compactly.
    document = json.dumps([{"role": "user", "content": f"key: {PEM}"}], indent=1)
    result = pair.check(build_request({"gen_ai.input.messages": document}).SerializeToString())
    redacted = span_views(result)[0].get("gen_ai.input.messages")
    assert redacted == '[{"role":"user","content":"key: <SECRET>"}]'


def test_a_failing_json_fallback_withholds_that_value_only() -> None:
    """Fail closed: when the Python JSON path raises, the value becomes ``<REDACTED>`` (annotated
    ``custom``, counted ``withheld``) and the rest of the request is redacted as usual."""

    def failing_fallback(text: str, probe: str, hits: list) -> tuple:
        raise RuntimeError("fallback bug")

    redactor = genai_lens_native.Redactor(
        ["email"],
        "placeholder",
        None,
        [],
        [],
        list(DEFAULT_ALLOW_KEYS),
        list(DEFAULT_DENY_KEYS),
        False,
        *python_char_classes(),
        failing_fallback,
    )
    document = json.dumps({"jane.doe@example.com": "a finding in a key needs the Python parser"})
    body = build_request(
        {"gen_ai.input.messages": document, "note": "mail bob@example.org"}
    ).SerializeToString()
    batch = genai_lens_native.Batch(body)
    counts, errors = batch.redact(redactor)
    (view,) = span_views(ExportTraceServiceRequest.FromString(batch.encode()))
    assert view.get("gen_ai.input.messages") == "<REDACTED>"
    assert view.get("note") == "mail <EMAIL>"
    assert view.get("genai_lens.redaction.types") == ["custom", "email"]
    assert view.get("genai_lens.redaction.count") == 2
    assert (counts, errors) == ([("email", 1), ("withheld", 1)], 1)


def test_native_step_is_none_outside_the_native_scope() -> None:
    context = StageContext()
    assert RedactStage.from_config({"mode": "drop"}, context).native_step() is None
    custom = {"custom_patterns": [{"name": "emp", "pattern": "EMP-[0-9]{6}"}]}
    assert RedactStage.from_config(custom, context).native_step() is None
    extra = Detector("boom", "custom", "X", re.compile("boom"), (Hot("boom"),))
    config = dataclasses.replace(parse_config({}), detectors=(*BUILTIN_DETECTORS, extra))
    assert RedactStage(config, context).native_step() is None
    assert RedactStage.from_config({}, context).native_step() is not None


# -- generated values -------------------------------------------------------------------------------

FRAGMENTS = [
    *(value for value, _, _ in POSITIVES),
    *NEGATIVES,
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111 1111-1111 1111",
    "5500 0000 0000 0004",
    "378282246310005",
    "4111111111111112",
    "GB82 WEST 1234 5698 7654 32",
    "GB82WEST12345698765432",
    "GB82 WEST 1234 5698 7654 33",
    "123-45-6789",
    "000-12-3456",
    "550e8400-e29b-41d4-a716-446655440000",
    "192.168.1.20",
    "10.0.0.256",
    "127.0.0.1",
    "version 1.2.3.4",
    "v1.0.0.1",
    "2001:db8::8a2e:370:7334",
    "::1",
    "fe80::1%eth0",
    "12:30:45",
    "::ffff:192.0.2.1",
    "+44 20 7946 0958",
    "+1 415 555 2671",
    "(415) 555-2671",
    "020 7946 0958",
    "$1,234.56",
    "2026-11-23T10:55:24Z",
    "sk-proj-abcdefghijklmnopqrstuvwx1234",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
    "sk-learn-style-words-only-here",
    "AKIAIOSFODNN7EXAMPLE",
    "Bearer abcdef0123456789xyz",
    "bearer onlylettersherexx",
    JWT,
    PEM,
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "jane.doe@example.com",
    "a@b.co",
    "<EMAIL>",
    "<PHONE:hmac:0123456789ab>",
    "ünïcödé",
    "日本語のテキスト",
    "Привет",
    "emoji 🎉 here",
    "naïve café",
    "ghp_" + "a1" * 18,
    "AIza" + "b" * 35,
    "xoxb-1234567890-abcdef",
]
SEPARATORS = [
    " ",
    "  ",
    "\n",
    "\t",
    ",",
    ", ",
    ".",
    "-",
    ":",
    "@",
    '"',
    "\\n",
    "\\",
    "/",
    "=",
    "(",
    ")",
    "é",
    "\x00",
    "",
]

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6).filter(
    # Non-ASCII decimal digits inside a candidate break Python's own validators (an IndexError in the Luhn
    # table, see the report): not part of the parity contract.
    lambda text: not any(c.isdecimal() and not c.isascii() for c in text)
)
fragment_text = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(SEPARATORS),
        st.text("ab0.-@: é", max_size=6),
        any_text,
    ),
    min_size=1,
    max_size=8,
).map("".join)
json_text = st.lists(fragment_text, min_size=1, max_size=3).map(
    lambda parts: json.dumps([{"role": "user", "content": part} for part in parts], ensure_ascii=False)
)
value_text = st.one_of(fragment_text, json_text)
keys = st.sampled_from(
    ["gen_ai.prompt.0.content", "input.value", "note", "server.address", "enduser.id", "tags", "ctx"]
)
attribute_value = st.one_of(
    value_text,
    st.lists(value_text, max_size=3),
    st.dictionaries(st.sampled_from(["user", "contact", "a"]), value_text, max_size=2),
    st.integers(-(2**40), 2**40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spans=st.lists(
        st.tuples(
            st.dictionaries(keys, attribute_value, max_size=4),
            st.lists(value_text, max_size=2),
            st.one_of(st.just(""), value_text),
        ),
        min_size=1,
        max_size=3,
    ),
    name=st.sampled_from(["placeholder", "hash", "user-keys", "subset"]),
    padded=st.booleans(),
)
def test_generated_values(
    spans: list[tuple[dict[str, Any], list[str], str]], name: str, padded: bool
) -> None:
    """``padded`` adds a long clean string: past 4096 characters the Python scanner finds its gates with
    Hyperscan and skips the whole-request prerequisites, so both of its paths are compared."""
    request = ExportTraceServiceRequest()
    if padded:
        filler = build_request({"gen_ai.system_instructions": "Answer from the context only. " * 150})
        request.resource_spans.append(filler.resource_spans[0])
    for attributes, event_texts, status in spans:
        part = build_request(
            attributes,
            events=[("exception", {"exception.message": text}) for text in event_texts],
            links=[{"peer": text} for text in event_texts[:1]],
            status_message=status,
        )
        request.resource_spans.append(part.resource_spans[0])
    _PAIRS.setdefault(name, Pair({**CONFIGS[name], "clean_cache_size": 0})).check(request.SerializeToString())


_PAIRS: dict[str, Pair] = {}
"""Stages reused across generated examples (built once: compiling them is the slow part)."""
