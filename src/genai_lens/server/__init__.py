"""``genai-lens serve``: an OTLP receiver → processor stages → bounded queue → OTLP exporter service."""
