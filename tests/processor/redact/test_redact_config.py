"""Config errors are clear and name the key; NER fails fast when its package is missing."""

from __future__ import annotations

import sys

import pytest
from redact_spans import HASH_KEY

from genai_lens.processor.redact import RedactStage
from genai_lens.processor.stage import StageConfigError, StageContext


def build(**config: object) -> RedactStage:
    return RedactStage.from_config(config, StageContext())


def test_empty_config_gives_placeholder_mode_with_every_detector() -> None:
    stage = build()
    assert stage.name == "redact"
    assert stage.config.mode.value == "placeholder"
    assert {d.type for d in stage.config.detectors} == {
        "email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6", "secret",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"mdoe": "hash"}, "unknown key(s) mdoe"),
        ({"mode": "mask"}, "mode: unknown mode 'mask'; known: placeholder, hash, drop"),
        ({"mode": "hash"}, "mode: hash needs hash_key"),
        ({"mode": "hash", "hash_key": "short"}, "hash_key: too short (5 characters)"),
        ({"mode": "hash", "hash_key": "${env:REDACT_KEY}"}, "unexpanded ${...} reference"),
        ({"mode": "hash", "hash_key": 1234567890123456789}, "hash_key: expected a string"),
        ({"hash_key": HASH_KEY}, "hash_key is only used with mode: hash"),
        ({"allow_keys": "gen_ai.*"}, "allow_keys: expected a list of non-empty strings"),
        ({"deny_keys": [""]}, "deny_keys: expected a list of non-empty strings"),
        ({"default_keys": "yes"}, "default_keys: expected true or false"),
        ({"detectors": ["email", "passport"]}, "detectors: unknown type(s) passport"),
        ({"custom_patterns": {"name": "x"}}, "custom_patterns: expected a list"),
        ({"custom_patterns": [{"name": "x"}]}, "custom_patterns[0]: name and pattern must both be non-empty"),
        (
            {"custom_patterns": [{"name": "x", "pattern": "("}]},
            "custom_patterns[0]: pattern for 'x' does not compile",
        ),
        ({"custom_patterns": [{"name": "x", "pattern": "a*"}]}, "matches the empty string"),
        ({"custom_patterns": [{"name": "9x", "pattern": "a"}]}, "must be a letter followed by"),
        ({"custom_patterns": [{"name": "x", "pattern": "a", "flags": "i"}]}, "unknown key(s) flags"),
        (
            {"custom_patterns": [{"name": "x", "pattern": "a"}, {"name": "x", "pattern": "b"}]},
            "custom_patterns[1]: name 'x' is used twice",
        ),
        ({"ner": True}, "ner: expected a mapping"),
        ({"ner": {"enabled": "on"}}, "ner.enabled: expected true or false"),
        ({"ner": {"engine": "spacy"}}, "ner.engine: unknown engine 'spacy'; known: presidio"),
        ({"ner": {"score_threshold": 2}}, "ner.score_threshold: expected a number between 0 and 1"),
        ({"ner": {"model": "x"}}, "ner: unknown key(s) model"),
        ({"clean_cache_size": -1}, "clean_cache_size: expected a whole number"),
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(config: dict, message: str) -> None:
    with pytest.raises(StageConfigError) as error:
        build(**config)
    assert str(error.value).startswith("processor 'redact': ")
    assert message in str(error.value)


def test_hash_key_never_appears_in_error_messages() -> None:
    with pytest.raises(StageConfigError) as error:
        build(mode="placeholder", hash_key="super-secret-value-123")
    assert "super-secret-value-123" not in str(error.value)


def test_ner_is_off_by_default_and_disabled_ner_needs_no_package() -> None:
    assert build().config.ner.enabled is False
    assert build(ner={"enabled": False, "engine": "presidio"}).config.ner.enabled is False


def test_enabling_ner_without_presidio_installed_is_a_clear_config_error(monkeypatch) -> None:
    # A None entry in sys.modules makes the import fail exactly as when the package is absent, whether or not
    # presidio happens to be installed where the tests run.
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)
    with pytest.raises(StageConfigError) as error:
        build(ner={"enabled": True})
    message = str(error.value)
    assert message.startswith("processor 'redact': ner.engine 'presidio' needs the presidio-analyzer package")
    assert "pip install 'genai-lens[ner]'" in message and "ner.enabled: false" in message


class GazetteerRecognizer:
    """A tiny real recognizer (a list of known names) standing in for a model behind the same interface."""

    def __init__(self, names: dict[str, tuple[str, str]]) -> None:
        self.names = names

    def find(self, text: str):
        from genai_lens.processor.redact.scanner import Finding

        found = []
        for name, (kind, label) in self.names.items():
            start = text.find(name)
            while start >= 0:
                found.append(Finding(start, start + len(name), kind, label))
                start = text.find(name, start + 1)
        return found


def test_recognizer_findings_join_pattern_findings() -> None:
    from redact_spans import build_request

    from genai_lens.processor.pipeline import Pipeline, span_views
    from genai_lens.processor.redact.config import parse_config

    context = StageContext()
    recognizer = GazetteerRecognizer(
        {"Jane Doe": ("ner_person", "PERSON"), "Lyon": ("ner_location", "LOCATION")}
    )
    stage = RedactStage(parse_config({}), context, recognizer)
    request = build_request({"c": "Jane Doe (jane@example.com) lives in Lyon", "d": "Hi"})
    Pipeline([stage]).process(request)
    view = span_views(request)[0]
    assert view.get("c") == "<PERSON> (<EMAIL>) lives in <LOCATION>"
    assert view.get("d") == "Hi"  # short strings still reach the recognizer, which found nothing
    assert view.get("genai_lens.redaction.types") == ["email", "ner_location", "ner_person"]
    assert context.stats.get("genai_lens_redactions_total", type="ner_person") == 1


def test_serve_config_yaml_with_env_hash_key_builds_a_working_stage(tmp_path) -> None:
    """The way users configure it: YAML, ${env:...} for the key, the processor registry builds the stage."""
    from redact_spans import build_request

    from genai_lens.processor.pipeline import span_views
    from genai_lens.processor.registry import build_pipeline
    from genai_lens.server.config import load_config

    path = tmp_path / "serve.yaml"
    path.write_text(
        "processors:\n"
        "  redact:\n"
        "    mode: hash\n"
        "    hash_key: ${env:GENAI_LENS_TEST_REDACT_KEY}\n"
        "    deny_keys: [enduser.id]\n"
        "service:\n"
        "  pipeline:\n"
        "    processors: [redact]\n"
    )
    config = load_config(path, env={"GENAI_LENS_TEST_REDACT_KEY": HASH_KEY})
    pipeline = build_pipeline([(p.name, p.config) for p in config.processors], StageContext())
    request = build_request({"c": "mail jane@example.com", "enduser.id": "u-1"})
    pipeline.process(request)
    view = span_views(request)[0]
    assert view.get("c").startswith("mail <EMAIL:hmac:")
    assert view.get("enduser.id").startswith("<REDACTED:hmac:")


def test_registry_reports_redact_config_errors_by_name() -> None:
    from genai_lens.processor.registry import build_pipeline

    with pytest.raises(StageConfigError, match=r"processor 'redact': mode: hash needs hash_key"):
        build_pipeline([("redact", {"mode": "hash"})], StageContext())
