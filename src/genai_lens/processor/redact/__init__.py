"""PII and credential redaction for spans (the ``redact`` processor stage).

Where things live: ``detectors.py`` (what is sensitive: regex + validator per kind), ``scanner.py`` (all
detectors over one string), ``gate_index.py`` (their hot spots found in one Hyperscan pass), ``content.py``
(plain text or JSON), ``span_redactor.py`` (every place a span holds text), ``batch_redactor.py`` (a whole
request in one scan), ``keys.py`` (allow/deny lists), ``modes.py`` (placeholder, keyed hash, drop),
``config.py`` (the stage's config keys), ``ner.py`` (optional Presidio names/places), ``stage.py``.
"""

from genai_lens.processor.redact.stage import RedactStage

__all__ = ["RedactStage"]
