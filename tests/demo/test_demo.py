"""`genai-lens demo` — the README's main job — run exactly as a user runs it, checked on its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def demo_output() -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [str(BIN / "genai-lens"), "demo"], capture_output=True, text=True, timeout=180, env=env, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(output: str) -> dict[str, str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("span ")) + 2
    rows = {}
    for line in lines[start:]:
        if not line.strip():
            break
        rows[line[:32].strip()] = line
    return rows


def test_every_call_is_one_enriched_span(demo_output: str) -> None:
    assert "6 model calls made" in demo_output
    assert "6 spans reached the backend through genai-lens serve; 6 are GenAI calls" in demo_output
    rows = _rows(demo_output)
    assert set(rows) == {
        "chat gpt-3.5-turbo",
        "chat gpt-4",
        "chat this-model-does-not-exist",
        "chat claude-3-opus-20240229",
        "chat claude-3-haiku-20240307",
    }


def test_tokens_cost_and_flags_come_through(demo_output: str) -> None:
    rows = _rows(demo_output)
    # usage as recorded in the bundled cassettes
    assert " 12/5 " in rows["chat gpt-4"]
    assert " 17/220 " in rows["chat claude-3-opus-20240229"]
    assert " 17/171 " in rows["chat claude-3-haiku-20240307"]
    assert "unpriced" not in rows["chat gpt-4"]
    assert "error" in rows["chat this-model-does-not-exist"]


def test_pii_never_leaves_the_processor(demo_output: str) -> None:
    assert "jane.doe@example.com" not in demo_output
    assert "4111 1111 1111 1111" not in demo_output
    assert "<EMAIL>" in demo_output and "<CREDIT_CARD>" in demo_output
