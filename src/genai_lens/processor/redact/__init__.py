"""PII and credential redaction for spans (the ``redact`` processor stage)."""

from genai_lens.processor.redact.stage import RedactStage

__all__ = ["RedactStage"]
