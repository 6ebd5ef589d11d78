"""Optional named-entity recognition (people, places) behind a small interface; Presidio is the one engine.

Patterns cannot find names. A model can, at a cost of milliseconds per string, so it is off by default and
its package is imported only when enabled (``pip install 'genai-lens[ner]'`` plus a spaCy model).
"""

from __future__ import annotations

from typing import Any

from genai_lens.processor.redact.scanner import EntityRecognizer, Finding
from genai_lens.semconv import GenaiLensRedactionTypesValues as RedactionType

ENGINES = ("presidio",)

# Presidio entity → (our redaction type, placeholder label).
PRESIDIO_ENTITIES = {
    "PERSON": (RedactionType.NER_PERSON.value, "PERSON"),
    "LOCATION": (RedactionType.NER_LOCATION.value, "LOCATION"),
}


class NerUnavailable(RuntimeError):
    """NER was enabled but its engine cannot run here; the message says what to install."""


class PresidioRecognizer:
    """Adapter over ``presidio_analyzer.AnalyzerEngine`` limited to people and places."""

    def __init__(self, language: str = "en", score_threshold: float = 0.5) -> None:
        try:
            from presidio_analyzer import AnalyzerEngine  # noqa: PLC0415 - optional, heavy
        except ImportError as exc:
            raise NerUnavailable(
                "ner.engine 'presidio' needs the presidio-analyzer package and a spaCy model: "
                "pip install 'genai-lens[ner]' && python -m spacy download en_core_web_lg "
                "(or set ner.enabled: false)"
            ) from exc
        try:
            self._engine: Any = AnalyzerEngine(supported_languages=[language])
        except Exception as exc:  # a missing spaCy model surfaces as OSError/ValueError from deep inside
            raise NerUnavailable(
                f"ner.engine 'presidio' could not start: {type(exc).__name__}: {exc}"
            ) from exc
        self._language = language
        self._threshold = score_threshold

    def find(self, text: str) -> list[Finding]:
        results = self._engine.analyze(
            text=text,
            language=self._language,
            entities=list(PRESIDIO_ENTITIES),
            score_threshold=self._threshold,
        )
        findings = []
        for result in results:
            kind, label = PRESIDIO_ENTITIES[result.entity_type]
            findings.append(Finding(result.start, result.end, kind, label))
        return findings


def build_recognizer(engine: str, language: str, score_threshold: float) -> EntityRecognizer:
    """The recognizer for ``engine``; raises :class:`NerUnavailable` when it cannot run."""
    if engine == "presidio":
        return PresidioRecognizer(language=language, score_threshold=score_threshold)
    raise NerUnavailable(f"unknown ner.engine {engine!r}; known: {', '.join(ENGINES)}")
