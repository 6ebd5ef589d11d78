"""Embeddings: ``embeddings.create``."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.instrumentation._genai import Invocation
from genai_lens.instrumentation.openai.common import (
    OpenAIHooks,
    add_response_common,
    given,
    new_invocation,
    parsed,
    record_error,
)

OPERATION_EMBEDDINGS = genai.GenAiOperationNameValues.EMBEDDINGS.value


class EmbeddingsHooks(OpenAIHooks):
    """Hooks for ``Embeddings.create`` (sync and async). Embedding inputs are never captured as content."""

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation:
        invocation = new_invocation(instance, OPERATION_EMBEDDINGS, kwargs)
        encoding = given(kwargs, "encoding_format")
        if isinstance(encoding, str):
            invocation.request_attributes[genai.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        dimensions = given(kwargs, "dimensions")
        if isinstance(dimensions, int):
            invocation.request_attributes[genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return invocation

    def on_response(self, invocation: Invocation, response: Any) -> None:
        response = parsed(response)
        add_response_common(invocation, response)
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None)
        if isinstance(prompt, int):
            invocation.input_tokens = prompt
        data = getattr(response, "data", None) or []
        vector = getattr(data[0], "embedding", None) if data else None
        if isinstance(vector, list) and vector:
            invocation.response_attributes[genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)

    def on_error(self, invocation: Invocation, exc: BaseException) -> None:
        record_error(invocation, exc)
