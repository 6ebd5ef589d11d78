"""genai-lens: OpenTelemetry observability for LLM and RAG applications."""

__version__ = "0.1.0"
