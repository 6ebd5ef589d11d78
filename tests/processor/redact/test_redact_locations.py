"""Every place a span carries text is redacted; clean and non-string content is left byte-identical."""

from __future__ import annotations

import json

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from redact_spans import build_request

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.span_view import any_to_python

EMAIL = "jane.doe@example.com"
PHONE = "+1 (415) 555-2671"


def test_plain_string_attribute(redactor) -> None:
    view = redactor().span({"user.note": f"mail {EMAIL} now"})
    assert view.get("user.note") == "mail <EMAIL> now"


def test_string_array_elements(redactor) -> None:
    view = redactor().span({"gen_ai.request.stop_sequences": ["ok", f"call {PHONE}", EMAIL, "fine"]})
    assert view.get("gen_ai.request.stop_sequences") == ["ok", "call <PHONE>", "<EMAIL>", "fine"]
    assert view.get("genai_lens.redaction.count") == 2


def test_kvlist_values_nested(redactor) -> None:
    view = redactor().span({"app.user": {"name": "Jane", "contact": {"email": EMAIL, "age": 41}}})
    assert view.get("app.user") == {"name": "Jane", "contact": {"email": "<EMAIL>", "age": 41}}


def test_event_attributes_including_exception_message(redactor) -> None:
    request = build_request(
        {"gen_ai.operation.name": "chat"},
        events=[
            ("exception", {"exception.type": "ValueError", "exception.message": f"bad user {EMAIL}"}),
            ("gen_ai.user.message", {"content": f"my card is 4111 1111 1111 1111, phone {PHONE}"}),
        ],
    )
    view = redactor().run(request)
    events = view.span.events
    assert any_to_python(events[0].attributes[1].value) == "bad user <EMAIL>"
    assert any_to_python(events[0].attributes[0].value) == "ValueError"
    assert any_to_python(events[1].attributes[0].value) == "my card is <CREDIT_CARD>, phone <PHONE>"
    assert view.get("genai_lens.redaction.count") == 3
    assert view.get("genai_lens.redaction.types") == ["credit_card", "email", "phone"]


def test_link_attributes(redactor) -> None:
    view = redactor().run(build_request({}, links=[{"origin": f"ticket from {EMAIL}"}]))
    assert any_to_python(view.span.links[0].attributes[0].value) == "ticket from <EMAIL>"


def test_status_message(redactor) -> None:
    view = redactor().run(build_request({}, status_message=f"403 for key sk-proj-{'a1B2' * 8}"))
    assert view.span.status.message == "403 for key <SECRET>"


def test_json_content_is_redacted_leaf_by_leaf_and_stays_valid_json(redactor) -> None:
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL},\nphone {PHONE}"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "arguments": {"to": EMAIL, "n": 4}}],
        },
    ]
    raw = json.dumps(messages, indent=2)  # pretty-printed and escaped \n: both must work
    view = redactor().span({"gen_ai.input.messages": raw})
    redacted = view.get("gen_ai.input.messages")
    assert json.loads(redacted) == [
        messages[0],
        {"role": "user", "parts": [{"type": "text", "content": "I am <EMAIL>,\nphone <PHONE>"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "arguments": {"to": "<EMAIL>", "n": 4}}],
        },
    ]
    # Rewritten in place: everything but the findings is the sender's text, byte for byte.
    expected = raw.replace(EMAIL, "<EMAIL>").replace(PHONE, "<PHONE>")
    assert redacted == expected
    assert view.get("genai_lens.redaction.count") == 3


def test_json_number_that_looks_like_a_card_stays_a_valid_number(redactor) -> None:
    """A hit outside a string value (a number here) goes the parse-and-rewrite way: the JSON stays valid."""
    raw = json.dumps({"amount": 4111111111111111, "note": f"mail {EMAIL}"})
    view = redactor().span({"input.value": raw})
    assert json.loads(view.get("input.value")) == {"amount": 4111111111111111, "note": "mail <EMAIL>"}


def test_escape_glued_to_a_value_in_raw_json_is_still_found(redactor) -> None:
    raw = json.dumps({"content": f"line one\n{PHONE}\t{EMAIL}"})
    assert "\\n+1" in raw
    view = redactor().span({"input.value": raw})
    assert json.loads(view.get("input.value")) == {"content": "line one\n<PHONE>\t<EMAIL>"}


def test_non_ascii_json_content(redactor) -> None:
    raw = json.dumps({"content": f"Grüße von José — {EMAIL}"})
    view = redactor().span({"input.value": raw})
    assert json.loads(view.get("input.value")) == {"content": "Grüße von José — <EMAIL>"}
    assert view.get("input.value") == raw.replace(EMAIL, "<EMAIL>")  # escapes (\u00fc) kept as sent


def test_invalid_json_that_looks_like_json_is_treated_as_text(redactor) -> None:
    text = "{not json, but mail " + EMAIL + " anyway"
    assert redactor().text(text, key="input.value") == "{not json, but mail <EMAIL> anyway"


def test_json_with_a_match_only_in_a_number_or_key_is_left_as_is(redactor) -> None:
    raw = '{"jane.doe@example.com": 1, "card": 4111111111111111}'
    request = build_request({"input.value": raw})
    before = request.SerializeToString()
    redactor().run(request)
    assert request.SerializeToString() == before


def test_index_flattened_content_keys_of_every_dialect(redactor) -> None:
    attributes = {
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": f"hi, {EMAIL}",
        "gen_ai.completion.0.content": f"noted {PHONE}",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "ssn 123-45-6789",
        "llm.output_messages.0.message.contents.0.message_content.text": "IBAN GB82 WEST 1234 5698 7654 32",
        "retrieval.documents.0.document.content": "host 10.1.2.3",
    }
    view = redactor().span(attributes)
    assert view.get("gen_ai.prompt.0.content") == "hi, <EMAIL>"
    assert view.get("gen_ai.completion.0.content") == "noted <PHONE>"
    assert view.get("llm.input_messages.0.message.content") == "ssn <US_SSN>"
    assert view.get("llm.output_messages.0.message.contents.0.message_content.text") == "IBAN <IBAN>"
    assert view.get("retrieval.documents.0.document.content") == "host <IPV4>"
    assert view.get("gen_ai.prompt.0.role") == "user"
    assert view.get("genai_lens.redaction.types") == ["email", "iban", "ipv4", "phone", "us_ssn"]


def test_span_without_matches_and_with_non_string_values_is_byte_identical(redactor) -> None:
    request = build_request(
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 4111111111111111,  # a card number as an int is not a string
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.stream": True,
            "raw.bytes": EMAIL.encode(),
            "gen_ai.input.messages": json.dumps([{"role": "user", "content": "Tell me a joke about 2024"}]),
            "tags": ["a", "b", 3],
            "meta": {"k": "v", "n": 1},
        },
        events=[("gen_ai.choice", {"index": 0, "message": "a joke"})],
        links=[{"kind": "follows"}],
        status_message="timeout after 30s",
    )
    before = request.SerializeToString()
    r = redactor()
    r.run(request)
    assert request.SerializeToString() == before
    assert list(r.context.stats.snapshot()) == []


def test_stats_count_redactions_by_type(redactor) -> None:
    r = redactor()
    r.span({"a": f"{EMAIL} {EMAIL}", "b": PHONE})
    r.span({"c": "other@example.net"})
    assert r.context.stats.get("genai_lens_redactions_total", type="email") == 3
    assert r.context.stats.get("genai_lens_redactions_total", type="phone") == 1


def test_many_spans_in_one_request_each_get_their_own_annotations(redactor) -> None:
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for text in (f"a {EMAIL}", "clean", f"{PHONE} and {EMAIL}"):
        span = scope_spans.spans.add(name="s")
        kv = span.attributes.add(key="content")
        kv.value.string_value = text
    r = redactor()
    r.pipeline.process(request)
    views = span_views(request)
    assert [v.get("genai_lens.redaction.count") for v in views] == [1, None, 2]
    assert views[1].get("content") == "clean"
