"""Fixtures for the redact tests; the builders live in ``redact_spans.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redact_spans import Redactor


@pytest.fixture
def redactor() -> Callable[..., Redactor]:
    """``redactor(**config)`` → a :class:`Redactor` with that stage config."""

    def make(**config: Any) -> Redactor:
        return Redactor(config)

    return make
