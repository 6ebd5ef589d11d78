"""Odd input never crashes the stage, and an internal failure withholds content instead of leaking it."""

from __future__ import annotations

import logging

from redact_spans import build_request

from genai_lens.processor.pipeline import Pipeline, span_views
from genai_lens.processor.redact import RedactStage
from genai_lens.processor.redact.config import parse_config
from genai_lens.processor.span_view import any_to_python
from genai_lens.processor.stage import StageContext

EMAIL = "jane.doe@example.com"


def test_deeply_nested_json_falls_back_to_text(redactor) -> None:
    deep = "[" * 50_000 + f'"{EMAIL}"' + "]" * 50_000
    view = redactor().span({"input.value": deep})
    assert view.get("input.value") == "[" * 50_000 + '"<EMAIL>"' + "]" * 50_000
    assert view.get("genai_lens.redaction.count") == 1


def test_large_and_odd_strings(redactor) -> None:
    r = redactor()
    big = ("lorem ipsum 2024 " * 20_000) + EMAIL
    assert r.text(big).endswith("<EMAIL>")
    assert r.text("\x00\ud7ff\U0001f600 " + EMAIL) == "\x00\ud7ff\U0001f600 <EMAIL>"
    assert r.text("@" * 5000) == "@" * 5000
    assert r.text("") == ""


class ExplodingRecognizer:
    """A recognizer that fails the way a model library can (bad input, model error)."""

    def find(self, text: str):
        if "boom" in text:
            raise RuntimeError(f"model failed on {text!r}")
        return []


def test_internal_failure_fails_closed_and_logs_no_content(caplog) -> None:
    context = StageContext()
    stage = RedactStage(parse_config({}), context, ExplodingRecognizer())
    request = build_request(
        {"gen_ai.request.model": "gpt-4o", "a": f"first {EMAIL}", "b": "boom secret plans", "n": 3},
        events=[("exception", {"exception.message": "private detail"})],
        status_message="private status",
    )
    with caplog.at_level(logging.WARNING, logger="genai_lens.processor.redact"):
        Pipeline([stage]).process(request)
    view = span_views(request)[0]
    assert view.get("gen_ai.request.model") == "gpt-4o"  # allow-listed structure survives
    assert view.get("a") == "<REDACTED>" and view.get("b") == "<REDACTED>" and view.get("n") == "<REDACTED>"
    assert any_to_python(view.span.events[0].attributes[0].value) == "<REDACTED>"
    assert view.span.status.message == "<REDACTED>"
    assert view.get("genai_lens.redaction.count") == 5
    assert context.stats.get("genai_lens_redaction_errors_total", error="RuntimeError") == 1
    assert context.stats.get("genai_lens_redactions_total", type="withheld") == 5
    logged = caplog.text
    assert "RuntimeError" in logged
    assert "secret plans" not in logged and EMAIL not in logged and "private" not in logged


def test_stage_is_reusable_after_a_failure() -> None:
    context = StageContext()
    stage = RedactStage(parse_config({}), context, ExplodingRecognizer())
    Pipeline([stage]).process(build_request({"b": "boom"}))
    request = build_request({"c": f"hello {EMAIL}"})
    Pipeline([stage]).process(request)
    assert span_views(request)[0].get("c") == "hello <EMAIL>"


def test_clean_cache_skips_repeated_clean_text_but_never_hides_new_pii(redactor) -> None:
    prompt = "You are a helpful assistant for Example Air. Quote prices in EUR. " * 10
    r = redactor()
    cache = r.stage.redactor.content.clean_cache
    r.span({"gen_ai.system_instructions": prompt})
    assert len(cache) == 1
    r.span({"gen_ai.system_instructions": prompt})
    assert len(cache) == 1  # the same text is recognised, not added again
    changed = prompt[:-1] + f" {EMAIL}"
    view = r.span({"gen_ai.system_instructions": changed})
    assert view.get("gen_ai.system_instructions").endswith("<EMAIL>")
    assert r.span({"c": "short and clean"}).get("c") == "short and clean"
    assert len(cache) == 1  # short strings are not worth caching


def test_clean_cache_is_bounded_and_can_be_switched_off(redactor) -> None:
    r = redactor(clean_cache_size=3)
    cache = r.stage.redactor.content.clean_cache
    for i in range(10):
        r.span({"c": f"clean text number {i} " * 20})
    assert len(cache) == 3
    off = redactor(clean_cache_size=0)
    off.span({"c": "clean text " * 50})
    assert len(off.stage.redactor.content.clean_cache) == 0
