"""Anthropic fixtures: an SDK instrumented with the in-memory providers (helpers: ``anthropic_support``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from genai_lens.instrumentation.anthropic import AnthropicInstrumentor


@pytest.fixture
def instrument(
    tracer_provider: Any, meter_provider: Any, no_content_env: None
) -> Iterator[Callable[..., Any]]:
    """``instrument()`` instruments anthropic with the in-memory providers; undone at teardown."""
    instrumentors: list[AnthropicInstrumentor] = []

    def apply(**options: Any) -> AnthropicInstrumentor:
        instrumentor = AnthropicInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **options)
        instrumentors.append(instrumentor)
        return instrumentor

    yield apply
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument: Callable[..., Any]) -> Any:
    return instrument()
