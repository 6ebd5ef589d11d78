"""Remembers long strings already scanned and found clean, so content repeated on every span is scanned once.

System prompts, tool schemas and retrieved documents come back verbatim span after span; scanning a
kilobyte costs far more than hashing it. Entries are 128-bit BLAKE2b digests (never the text itself, and no
collision can make unseen text pass as clean); the oldest entry goes when the cache is full.
"""

from __future__ import annotations

import hashlib


class CleanCache:
    """A bounded set of digests of strings that held nothing to redact."""

    def __init__(self, capacity: int = 8192, min_length: int = 256) -> None:
        self.capacity = capacity
        self.min_length = min_length
        self._digests: dict[bytes, None] = {}

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def key(self, text: str) -> bytes | None:
        """The cache key for ``text``, or ``None`` when it is too short to be worth caching."""
        return self.digest(text) if len(text) >= self.min_length and self.capacity > 0 else None

    def __contains__(self, key: bytes | None) -> bool:
        return key is not None and key in self._digests

    def add(self, key: bytes | None) -> None:
        if key is None or key in self._digests:
            return
        if len(self._digests) >= self.capacity:
            try:
                del self._digests[next(iter(self._digests))]  # dicts keep insertion order: oldest first
            except (StopIteration, KeyError, RuntimeError):  # a concurrent eviction got there first
                pass
        self._digests[key] = None

    def __len__(self) -> int:
        return len(self._digests)
