"""What a finding becomes: a typed placeholder, a keyed hash that stays joinable, or nothing at all."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

HASH_HEX_CHARS = 12
"""48 bits of the HMAC: enough to tell values apart within a deployment, short enough to read."""

DENIED_LABEL = "REDACTED"
"""Placeholder label for values of denied keys, whose kind is not known."""


class Mode(str, Enum):
    """How a sensitive value is replaced."""

    PLACEHOLDER = "placeholder"
    """``<EMAIL>``: the kind survives, the value does not."""
    HASH = "hash"
    """``<EMAIL:hmac:1a2b3c4d5e6f>``: equal values give equal markers across spans, without the key they
    cannot be reversed or guessed by hashing candidates."""
    DROP = "drop"
    """The whole attribute (or array element, or kvlist entry) that held the value is removed."""


class Replacer:
    """Turns a finding's text into its marker (unused in drop mode, where the holder goes away)."""

    def __init__(self, mode: Mode, hash_key: bytes | None = None) -> None:
        if mode is Mode.HASH and not hash_key:
            raise ValueError("hash mode needs a key")
        self.mode = mode
        self._key = hash_key

    def marker(self, label: str, value: str) -> str:
        if self.mode is Mode.HASH:
            assert self._key is not None
            digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            return f"<{label}:hmac:{digest[:HASH_HEX_CHARS]}>"
        return f"<{label}>"
