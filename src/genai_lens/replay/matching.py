"""Choose which recorded interaction answers an incoming request.

Method and path must agree (host and query are ignored: tests point clients at a loopback base URL and
Azure adds ``api-version``). Among several candidates the one whose JSON request body is most alike wins;
ties go to the first interaction not served yet, so a cassette recorded N times replays in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from genai_lens.replay.cassette import Interaction

# Request fields that decide the response *shape*; a mismatch here matters more than a different prompt.
_SHAPE_KEYS = {"model": 3, "stream": 3, "n": 2, "tools": 2, "functions": 2, "input": 1, "messages": 1}


def body_similarity(recorded: Any, received: Any) -> int:
    """Score how alike two JSON request bodies are (higher is closer; equal bodies score highest)."""
    if recorded == received:
        return 1000
    if not isinstance(recorded, dict) or not isinstance(received, dict):
        return 0
    score = 0
    for key in recorded.keys() | received.keys():
        weight = _SHAPE_KEYS.get(key, 1)
        if key in recorded and key in received:
            score += weight if recorded[key] == received[key] else -weight
        else:
            score -= 1
    return score


def _path_matches(recorded: str, received: str) -> bool:
    recorded, received = recorded.rstrip("/"), received.rstrip("/")
    return recorded == received


def _suffix_matches(recorded: str, received: str) -> bool:
    recorded, received = recorded.rstrip("/"), received.rstrip("/")
    return bool(received) and (recorded.endswith(received) or received.endswith(recorded))


def choose(
    interactions: Sequence[Interaction],
    used: set[int],
    method: str,
    path: str,
    request_json: Any,
) -> int | None:
    """Return the index (into ``interactions``) of the best match, or None when nothing fits."""

    def candidates(same_path) -> Iterable[int]:
        return (i for i, it in enumerate(interactions) if it.method == method and same_path(it.path, path))

    indexes = list(candidates(_path_matches)) or list(candidates(_suffix_matches))
    if not indexes:
        return None
    best = max(
        indexes,
        key=lambda i: (body_similarity(interactions[i].request_json, request_json), i not in used, -i),
    )
    return best
