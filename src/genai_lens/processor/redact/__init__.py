"""PII and credential redaction for spans (the ``redact`` processor stage).

Where things live: ``detectors.py`` (what is sensitive: regex + validator per kind), ``scanner.py`` (all
detectors over one string), ``content.py`` (plain text or JSON leaf by leaf), ``span_redactor.py`` (every
place a span holds text), ``keys.py`` (allow/deny lists), ``modes.py`` (placeholder, keyed hash, drop),
``config.py`` (the stage's config keys), ``ner.py`` (optional Presidio names/places), ``stage.py``.
"""

from genai_lens.processor.redact.stage import RedactStage

__all__ = ["RedactStage"]
