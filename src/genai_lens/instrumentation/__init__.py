"""Zero-code OpenTelemetry instrumentors for LLM and RAG libraries.

One sub-package per library (``openai``, ``anthropic``, ...), each a thin ``BaseInstrumentor`` registered
as an ``opentelemetry_instrumentor`` entry point (``genai_lens_<library>``) for ``opentelemetry-instrument``.
They share ``_genai``: invocation → span + metrics, stream proxies, opt-in content capture, error isolation.
Importing this package imports no instrumented library.
"""
