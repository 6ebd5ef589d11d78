"""Detector corpus: realistic values that must be caught (with their type) and look-alikes that must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redact_spans import build_request

from genai_lens.processor.redact.detectors import BUILTIN_DETECTORS, iban_ok, luhn_ok
from genai_lens.processor.redact.scanner import Scanner

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy"
    "fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

# (value, type, sentence around it)
POSITIVES: list[tuple[str, str, str]] = [
    ("jane.doe@example.com", "email", "Write to {} please."),
    ("first.last+tag@mail.example.co.uk", "email", "cc: {}"),
    ("USER_01@Example.ORG", "email", "<{}>"),
    ("+44 20 7946 0958", "phone", "Call me on {} tomorrow."),
    ("+1 (415) 555-2671", "phone", "US office: {}."),
    ("(415) 555-2671", "phone", "phone {}"),
    ("415-555-2671", "phone", "text {} after 5"),
    ("415.555.2671", "phone", "fax {}"),
    ("1-415-555-2671", "phone", "toll {}"),
    ("+49 30 901820", "phone", "Berlin: {}"),
    ("+33 1 23 45 67 89", "phone", "Paris: {}"),
    ("+442079460958", "phone", "E.164 {}"),
    ("+81 3-1234-5678", "phone", "Tokyo {}"),
    ("+91 98765 43210", "phone", "mobile {}"),
    ("020 7946 0958", "phone", "London {}"),
    ("4111 1111 1111 1111", "credit_card", "card {} exp 12/27"),
    ("4111-1111-1111-1111", "credit_card", "card {}"),
    ("4111111111111111", "credit_card", "pan={}"),
    ("5500 0000 0000 0004", "credit_card", "mc {}"),
    ("2223 0031 2200 3222", "credit_card", "mc2 {}"),
    ("3782 822463 10005", "credit_card", "amex {}"),
    ("6011 0009 9013 9424", "credit_card", "discover {}"),
    ("3530 1113 3330 0000", "credit_card", "jcb {}"),
    ("30569309025904", "credit_card", "diners {}"),
    ("GB82 WEST 1234 5698 7654 32", "iban", "IBAN: {}"),
    ("DE89370400440532013000", "iban", "pay to {} today"),
    ("DE89 3704 0044 0532 0130 00", "iban", "Konto {}"),
    ("FR14 2004 1010 0505 0001 3M02 606", "iban", "RIB {}"),
    ("NL91ABNA0417164300", "iban", "rekening {}"),
    ("123-45-6789", "us_ssn", "SSN {}"),
    ("078-05-1120", "us_ssn", "ssn: {}."),
    ("192.168.1.20", "ipv4", "from {} via"),
    ("8.8.8.8", "ipv4", "dns {}"),
    ("203.0.113.42", "ipv4", "client {}:51234"),
    ("2001:db8::8a2e:370:7334", "ipv6", "addr {}"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6", "full {}"),
    ("fe80::1ff:fe23:4567:890a", "ipv6", "link-local {}"),
    ("::ffff:192.0.2.128", "ipv6", "mapped {}"),
    ("sk-proj-abc123DEF456ghi789JKL012mno345pqr678", "secret", "OPENAI_API_KEY={}"),
    ("sk-abcdefghij1234567890ABCDEFGHIJ", "secret", "key {}"),
    ("sk-ant-api03-AbCdEf0123456789_xyz-ABCDEFGHIJKLMNOP", "secret", "ANTHROPIC_API_KEY={}"),
    ("AKIAIOSFODNN7EXAMPLE", "secret", "aws_access_key_id = {}"),
    ("ASIAY34FZKBOKMUTVV7A", "secret", "AccessKeyId: {}"),
    ("abcdef1234567890abcdef.ghijk", "secret", "Authorization: Bearer {}"),
    ("ya29.a0AfH6SMBx3q-token_value", "secret", "authorization: bearer {}"),
    (JWT, "secret", "token={}"),
    (PEM, "secret", "key:\n{}\n"),
    ("ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3", "secret", "GITHUB_TOKEN={}"),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "secret", "key={}"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "secret", "slack {}"),
]

NEGATIVES: list[str] = [
    "4111 1111 1111 1112",  # fails Luhn
    "1234 5678 9012 3456",
    "4111111111111112",
    "550e8400-e29b-41d4-a716-446655440000",  # UUID
    "4bf92f3577b34da6a3ce929d0e0e4736",  # trace id
    "00f067aa0ba902b7",  # span id
    "2024-08-06T10:30:00Z",
    "2024-08-06T10:30:00.123456+00:00",
    "2026-11-23 10:55:24",
    "06/08/2024 at 10:30",
    "created 1709819153000",  # epoch millis
    "created 1709819153",
    "1709819153000000000",  # epoch nanos
    "version 1.2.3",
    "v1.2.3.4",
    "Windows version 10.0.19041.1",
    "python 3.11.7",
    "total 1234.56 EUR",
    "$1,234,567.89",
    "EUR 189.99 to 265.00",
    "chatcmpl-908MD9ivBBLb6EaIjlqwFokntayQK",
    "msg_01XFDUDYJgAACzvnptvVoYEL",
    "resp_0269f3aed1fd415900698212189ed88190b8bb13919d420b02",
    "call_abc123XYZ789",
    "fp_2b778c6b35",
    "gpt-4o-2024-08-06",
    "claude-3-5-sonnet-20241022",
    "gpt-3.5-turbo-0125",
    "localhost:8080",
    "listening on port 4317",
    "127.0.0.1:4318",
    "0.0.0.0:4317",
    "::1",
    "std::vector<int> and a::b",
    "12:30:45",
    "00:1A:2B:3C:4D:5E",
    "000-12-3456",
    "666-12-3456",
    "900-12-3456",
    "123-00-4567",
    "123-45-0000",
    "256.1.1.1",
    "ISBN 978-3-16-148410-0",
    "order 1234567890",
    "id 20240806103000123",
    "+1 800",
    "48.8566, 2.3522",
    "#ff0000",
    "scikit sk-learn-tutorial-for-beginners",
    "a bearer of bad news",
    "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
    "user at example dot com",
    "@decorator and @user handles",
    "Flights AF1234 at 09:35, LH2231 at 10:20",
    "DE89370400440532013001",  # IBAN with a wrong check
    "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxIn0.c2ln",  # header has no alg
    "1 000 000 tokens, 250 000 requests",
    "tokens: 412 in, 188 out, 600 total",
    "<EMAIL> and <PHONE:hmac:1a2b3c4d5e6f>",  # our own markers
    "traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "toolu_01A09q90qw90lq917835lq9",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Mon, 06 Aug 2024 10:30:00 GMT",
    "ubuntu 22.04.3 LTS, build 20240806.1, image python:3.11-slim",
    "ratio 16:9 at 1920x1080",
    "ISBN-13: 978-0-596-52068-7",
    "lat=48.858844&lon=2.294351",
    "12345678901234567890",
    "Use std::string::npos or a:b:c:d",
    "cost $0.0025 per 1K tokens, 10:30-11:45, 1-800-FLOWERS",
    "x-request-id: req_8f7e6d5c4b3a2910",
]

LABELS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "credit_card": "CREDIT_CARD",
    "iban": "IBAN",
    "us_ssn": "US_SSN",
    "ipv4": "IPV4",
    "ipv6": "IPV6",
    "secret": "SECRET",
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(BUILTIN_DETECTORS)


@pytest.mark.parametrize(("value", "kind", "sentence"), POSITIVES, ids=[p[0][:40] for p in POSITIVES])
def test_positive_is_found_with_its_type(scanner: Scanner, value: str, kind: str, sentence: str) -> None:
    text = sentence.format(value)
    findings = scanner.scan(text)
    assert [(text[f.start : f.end], f.type) for f in findings] == [(value, kind)]


@pytest.mark.parametrize(("value", "kind", "sentence"), POSITIVES, ids=[p[0][:40] for p in POSITIVES])
def test_positive_is_replaced_by_typed_placeholder_in_a_span(
    redactor, value: str, kind: str, sentence: str
) -> None:
    r = redactor()
    view = r.span({"gen_ai.prompt.0.content": sentence.format(value)})
    assert view.get("gen_ai.prompt.0.content") == sentence.format(f"<{LABELS[kind]}>")
    assert view.get("genai_lens.redaction.types") == [kind]
    assert view.get("genai_lens.redaction.count") == 1


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_is_untouched(scanner: Scanner, text: str) -> None:
    assert [text[f.start : f.end] for f in scanner.scan(text)] == []


def test_negatives_all_together_in_one_span_stay_byte_identical(redactor) -> None:
    r = redactor()
    attributes = {f"llm.input_messages.{i}.message.content": text for i, text in enumerate(NEGATIVES)}
    attributes["input.value"] = json.dumps({"messages": [{"role": "user", "content": t} for t in NEGATIVES]})
    request = build_request(attributes)
    before = request.SerializeToString()
    r.run(request)
    assert request.SerializeToString() == before


def test_checksums_used_by_validators() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB82WEST12345698765433")
    assert not iban_ok("GB82WEST1234569876543")  # wrong length for GB


def _strings(node: object):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_real_span_samples_have_no_false_positives(scanner: Scanner) -> None:
    """Every string in the peer span dumps (real GenAI content, ids, timestamps, JSON) passes untouched."""
    files = sorted((SHARED / "span-samples").rglob("*.json"))
    assert len(files) >= 20
    strings = [s for f in files for s in _strings(json.loads(f.read_text()))]
    assert len(strings) > 1000
    found = {s[f.start : f.end] for s in strings for f in scanner.scan(s)}
    assert found == set()


def test_real_span_samples_with_pii_planted_are_caught(redactor) -> None:
    """The real OpenInference chat span, with a phone and an e-mail typed into the user's message."""
    sample = json.loads((SHARED / "span-samples/dialects/openinference/chat_basic.json").read_text())
    attributes = dict(sample["spans"][0]["attributes"])
    question = attributes["llm.input_messages.0.message.content"]
    planted = f"{question} -- reply to bob@example.org or +44 20 7946 0958"
    attributes["llm.input_messages.0.message.content"] = planted
    attributes["input.value"] = attributes["input.value"].replace(question, planted)
    view = redactor().span(attributes)
    assert view.get("llm.input_messages.0.message.content") == f"{question} -- reply to <EMAIL> or <PHONE>"
    assert json.loads(view.get("input.value"))["messages"][0]["content"] == (
        f"{question} -- reply to <EMAIL> or <PHONE>"
    )
    assert view.get("output.value") == attributes["output.value"]  # untouched, not even re-serialized
    assert view.get("genai_lens.redaction.count") == 4
    assert view.get("genai_lens.redaction.types") == ["email", "phone"]


ADJACENT: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "+44 20 7946 0958 4111 1111 1111 1111",
        [("+44 20 7946 0958", "phone"), ("4111 1111 1111 1111", "credit_card")],
    ),
    (
        "4111 1111 1111 1111 5500 0000 0000 0004",
        [("4111 1111 1111 1111", "credit_card"), ("5500 0000 0000 0004", "credit_card")],
    ),
    ("+1 415 555 2671 2024 was the year", [("+1 415 555 2671", "phone")]),
    ("IBAN DE89 3704 0044 0532 0130 00 1234 ref", [("DE89 3704 0044 0532 0130 00", "iban")]),
    ("ssn 123-45-6789, 078-05-1120", [("123-45-6789", "us_ssn"), ("078-05-1120", "us_ssn")]),
    (
        "a@example.com,b@example.org;10.0.0.1/10.0.0.2",
        [("a@example.com", "email"), ("b@example.org", "email"), ("10.0.0.1", "ipv4"), ("10.0.0.2", "ipv4")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), ADJACENT, ids=[a[0][:30] for a in ADJACENT])
def test_neighbouring_values_are_each_found(
    scanner: Scanner, text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(text[f.start : f.end], f.type) for f in scanner.scan(text)] == expected
