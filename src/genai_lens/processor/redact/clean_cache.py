"""Remembers long strings already scanned and found clean, so content repeated on every span is scanned once.

System prompts, tool schemas and retrieved documents come back verbatim span after span; scanning a
kilobyte costs far more than hashing it. Entries are 128-bit digests, never the text itself: two SipHash
values (Python's own string hash, keyed with a random secret per process, so an outsider cannot aim at a
collision) of the text and of the text less its first character. BLAKE2b would cost four times as much per
string, which at serve's rates was more than the scans the cache saves. The oldest entry goes when full.
"""

from __future__ import annotations

from collections import OrderedDict


class CleanCache:
    """A bounded set of digests of strings that held nothing to redact."""

    def __init__(self, capacity: int = 8192, min_length: int = 256) -> None:
        self.capacity = capacity
        self.min_length = min_length
        # OrderedDict, not dict: dropping a plain dict's oldest entry again and again leaves a growing run of
        # deleted slots that every next(iter(...)) walks over.
        self._digests: OrderedDict[tuple[int, int], None] = OrderedDict()

    @staticmethod
    def digest(text: str) -> tuple[int, int]:
        return hash(text), hash(text[1:])

    def key(self, text: str) -> tuple[int, int] | None:
        """The cache key for ``text``, or ``None`` when it is too short to be worth caching."""
        return self.digest(text) if len(text) >= self.min_length and self.capacity > 0 else None

    def __contains__(self, key: tuple[int, int] | None) -> bool:
        return key is not None and key in self._digests

    def add(self, key: tuple[int, int] | None) -> None:
        if key is None or key in self._digests:
            return
        if len(self._digests) >= self.capacity:
            try:
                self._digests.popitem(last=False)  # the oldest
            except KeyError:  # a concurrent eviction emptied it first
                pass
        self._digests[key] = None

    def __len__(self) -> int:
        return len(self._digests)
