"""What the RAG examples share to run offline: a loopback provider and a deterministic embedding.

Without ``OPENAI_BASE_URL`` an example serves a recorded cassette from ``../shared/cassettes`` on a loopback
port (``genai_lens.replay``); with it, the example talks to that endpoint instead. Embeddings are a hashing
bag-of-words function, so no model is downloaded and retrieval is the same on every run.
"""

from __future__ import annotations

import hashlib
import math
import os
from contextlib import ExitStack
from pathlib import Path

CASSETTES = Path(__file__).resolve().parents[1] / ".." / "shared" / "cassettes"
DIMENSIONS = 64


def cassette(relative: str) -> Path:
    """A recorded provider conversation, e.g. ``cassette("langchain/chatopenai_invoke_gpt4omini.yaml")``."""
    return (CASSETTES / relative).resolve()


def provider_base_url(stack: ExitStack, *cassettes: Path) -> str:
    """``OPENAI_BASE_URL`` if set, else a replay server for ``cassettes`` (stopped when ``stack`` closes)."""
    base_url = os.environ.get("OPENAI_BASE_URL")
    if base_url:
        return base_url
    from genai_lens.replay import ReplayServer

    server = stack.enter_context(ReplayServer(list(cassettes)))
    return server.base_url + "/v1"


def api_key() -> str:
    """The key the OpenAI client sends (the replay server accepts any)."""
    return os.environ.get("OPENAI_API_KEY", "x")


def hashing_embedding(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """A deterministic bag-of-words embedding: each word hashed into one of ``dimensions`` buckets."""
    vector = [0.0] * dimensions
    for word in text.lower().split():
        digest = hashlib.blake2b(word.strip(".,?!;:").encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "little") % dimensions] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
