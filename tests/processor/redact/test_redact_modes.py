"""Replacement modes, key allow/deny lists, idempotence and the count/types annotations."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from redact_spans import HASH_KEY, build_request

from genai_lens.processor.span_view import any_to_python

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"
HASH_MARKER = re.compile(r"<([A-Z_]+):hmac:([0-9a-f]{12})>")


# -- hash mode ----------------------------------------------------------------------------------------


def test_hash_marker_is_truncated_hmac_sha256_of_the_value(redactor) -> None:
    out = redactor(mode="hash", hash_key=HASH_KEY).text(f"from {EMAIL}")
    expected = hmac.new(HASH_KEY.encode(), EMAIL.encode(), hashlib.sha256).hexdigest()[:12]
    assert out == f"from <EMAIL:hmac:{expected}>"


def test_hash_is_stable_across_spans_and_stages(redactor) -> None:
    first = redactor(mode="hash", hash_key=HASH_KEY).text(f"a {EMAIL}")
    second = redactor(mode="hash", hash_key=HASH_KEY).span({"k": json.dumps({"to": EMAIL})}).get("k")
    marker = HASH_MARKER.search(first)
    assert marker is not None
    assert json.loads(second) == {"to": marker.group(0)}


def test_hash_depends_on_the_key_and_the_value(redactor) -> None:
    a = redactor(mode="hash", hash_key=HASH_KEY).text(EMAIL)
    b = redactor(mode="hash", hash_key=HASH_KEY + "-other").text(EMAIL)
    c = redactor(mode="hash", hash_key=HASH_KEY).text("john.doe@example.com")
    assert len({a, b, c}) == 3
    assert all(HASH_MARKER.fullmatch(x) for x in (a, b, c))


def test_hash_markers_are_not_re_redacted(redactor) -> None:
    r = redactor(mode="hash", hash_key=HASH_KEY)
    once = r.text(f"{EMAIL} {PHONE} 4111 1111 1111 1111")
    request = build_request({"gen_ai.prompt.0.content": once})
    before = request.SerializeToString()
    r.run(request)
    assert request.SerializeToString() == before


# -- drop mode ----------------------------------------------------------------------------------------


def test_drop_removes_attribute_element_kvlist_entry_and_event_attribute(redactor) -> None:
    request = build_request(
        {
            "keep": "nothing here",
            "gen_ai.prompt.0.content": f"hi {EMAIL}",
            "gen_ai.input.messages": json.dumps([{"role": "user", "content": PHONE}]),
            "list": ["a", EMAIL, "b"],
            "map": {"ok": "fine", "mail": EMAIL},
        },
        events=[("exception", {"exception.type": "E", "exception.message": f"bad {EMAIL}"})],
        status_message=f"failed for {EMAIL}",
    )
    view = redactor(mode="drop").run(request)
    assert "gen_ai.prompt.0.content" not in view and "gen_ai.input.messages" not in view
    assert view.get("keep") == "nothing here"
    assert view.get("list") == ["a", "b"]
    assert view.get("map") == {"ok": "fine"}
    assert [kv.key for kv in view.span.events[0].attributes] == ["exception.type"]
    assert view.span.status.message == ""
    assert view.get("genai_lens.redaction.count") == 6
    assert view.get("genai_lens.redaction.types") == ["email", "phone"]
    # The view's index still matches the message after the removals.
    assert [kv.key for kv in view.span.attributes] == list(view.keys())


# -- placeholder idempotence ------------------------------------------------------------------------


def test_placeholders_are_not_re_redacted_and_a_second_pass_changes_nothing(redactor) -> None:
    r = redactor()
    view = r.span({"c": f"{EMAIL} / {PHONE}", "d": json.dumps({"x": EMAIL})})
    once = view.span.SerializeToString()
    request = build_request({})
    request.resource_spans[0].scope_spans[0].spans[0].CopyFrom(view.span)
    r.run(request)
    assert request.resource_spans[0].scope_spans[0].spans[0].SerializeToString() == once
    assert view.get("genai_lens.redaction.count") == 3


def test_second_pass_adds_to_existing_count_and_types(redactor) -> None:
    r = redactor()
    view = r.span({"genai_lens.redaction.count": 2, "genai_lens.redaction.types": ["email"], "c": PHONE})
    assert view.get("genai_lens.redaction.count") == 3
    assert view.get("genai_lens.redaction.types") == ["email", "phone"]


def test_no_annotations_when_nothing_was_redacted(redactor) -> None:
    view = redactor().span({"c": "all clear"})
    assert "genai_lens.redaction.count" not in view and "genai_lens.redaction.types" not in view


# -- allow / deny keys ------------------------------------------------------------------------------


def test_default_allow_list_leaves_structural_keys_alone(redactor) -> None:
    view = redactor().span(
        {
            "server.address": "203.0.113.7",
            "client.address": "203.0.113.8",
            "gen_ai.response.id": "chatcmpl-1 415-555-2671",
            "gen_ai.conversation.id": EMAIL,
        }
    )
    assert view.get("server.address") == "203.0.113.7"  # the provider's endpoint, not a person
    assert view.get("client.address") == "<IPV4>"
    assert view.get("gen_ai.response.id") == "chatcmpl-1 415-555-2671"
    assert view.get("gen_ai.conversation.id") == EMAIL


def test_user_allow_keys_exact_and_glob(redactor) -> None:
    view = redactor(allow_keys=["app.contact", "vendor.*"]).span(
        {"app.contact": EMAIL, "vendor.a.b": EMAIL, "other": EMAIL}
    )
    assert (view.get("app.contact"), view.get("vendor.a.b"), view.get("other")) == (EMAIL, EMAIL, "<EMAIL>")


def test_deny_keys_redact_the_whole_value_of_any_type(redactor) -> None:
    view = redactor(deny_keys=["enduser.*", "app.secret_note"]).span(
        {"enduser.id": "jdoe", "enduser.score": 42, "app.secret_note": "no pattern here", "other": "jdoe"}
    )
    assert view.get("enduser.id") == "<REDACTED>"
    assert view.get("enduser.score") == "<REDACTED>"
    assert view.get("app.secret_note") == "<REDACTED>"
    assert view.get("other") == "jdoe"
    assert view.get("genai_lens.redaction.types") == ["custom"]
    assert view.get("genai_lens.redaction.count") == 3


def test_deny_beats_allow_and_user_lists_beat_defaults(redactor) -> None:
    view = redactor(allow_keys=["x.*", "http.request.header.authorization"], deny_keys=["x.secret"]).span(
        {"x.secret": "s", "x.open": EMAIL, "http.request.header.authorization": "Basic dXNlcjpwYXNz"}
    )
    assert view.get("x.secret") == "<REDACTED>"
    assert view.get("x.open") == EMAIL
    assert view.get("http.request.header.authorization") == "Basic dXNlcjpwYXNz"


def test_default_deny_covers_credential_headers(redactor) -> None:
    view = redactor().span({"http.request.header.authorization": ["Basic dXNlcjpwYXNz"]})
    assert view.get("http.request.header.authorization") == "<REDACTED>"


def test_default_key_lists_can_be_switched_off(redactor) -> None:
    view = redactor(default_keys=False).span({"server.address": "203.0.113.7"})
    assert view.get("server.address") == "<IPV4>"


def test_deny_keys_apply_to_nested_kvlist_paths_and_event_attributes(redactor) -> None:
    request = build_request(
        {"app.user": {"name": "Jane", "email": "no-pattern"}},
        events=[("login", {"user.password": "hunter2"})],
    )
    view = redactor(deny_keys=["app.user.name", "*.password"]).run(request)
    assert view.get("app.user") == {"name": "<REDACTED>", "email": "no-pattern"}
    assert any_to_python(view.span.events[0].attributes[0].value) == "<REDACTED>"


def test_deny_in_hash_mode_and_already_redacted_values(redactor) -> None:
    r = redactor(mode="hash", hash_key=HASH_KEY, deny_keys=["enduser.id"])
    value = r.text("jdoe", key="enduser.id")
    assert re.fullmatch(r"<REDACTED:hmac:[0-9a-f]{12}>", value)
    request = build_request({"enduser.id": value})
    before = request.SerializeToString()
    r.run(request)
    assert request.SerializeToString() == before


# -- detectors and custom patterns -----------------------------------------------------------------------


def test_detectors_can_be_limited(redactor) -> None:
    view = redactor(detectors=["email"]).span({"c": f"{EMAIL} {PHONE}"})
    assert view.get("c") == f"<EMAIL> {PHONE}"


def test_custom_patterns(redactor) -> None:
    r = redactor(custom_patterns=[{"name": "employee_id", "pattern": r"\bEMP-\d{6}\b"}])
    view = r.span({"c": "ticket by EMP-004217 for " + EMAIL, "d": json.dumps({"who": "EMP-000001"})})
    assert view.get("c") == "ticket by <EMPLOYEE_ID> for <EMAIL>"
    assert json.loads(view.get("d")) == {"who": "<EMPLOYEE_ID>"}
    assert view.get("genai_lens.redaction.types") == ["custom", "email"]
    assert r.context.stats.get("genai_lens_redactions_total", type="custom") == 2


def test_markers_are_protected_even_from_custom_patterns_that_would_match_them(redactor) -> None:
    r = redactor(
        mode="hash",
        hash_key=HASH_KEY,
        custom_patterns=[
            {"name": "hex_id", "pattern": r"\b[0-9a-f]{12}\b"},
            {"name": "word", "pattern": "EMAIL"},
        ],
    )
    once = r.text(f"{EMAIL} and 0123456789ab")
    assert re.fullmatch(r"<EMAIL:hmac:[0-9a-f]{12}> and <HEX_ID:hmac:[0-9a-f]{12}>", once)
    request = build_request({"gen_ai.prompt.0.content": once})
    before = request.SerializeToString()
    r.run(request)
    assert request.SerializeToString() == before
