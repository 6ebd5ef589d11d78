"""Exponential backoff with jitter for exports, honoring a server's Retry-After / RetryInfo."""

from __future__ import annotations

import random
import time

from genai_lens.server.config import RetryConfig


class Backoff:
    """Delays for one batch's successive retries; ``None`` once ``max_elapsed`` is used up."""

    def __init__(self, config: RetryConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.rng = rng or random.Random()
        self.started = time.monotonic()
        self.attempt = 0

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The wait before the next try: the server's hint if it gave one, else the jittered exponential."""
        cfg = self.config
        base = min(cfg.max_interval, cfg.initial_interval * cfg.multiplier**self.attempt)
        self.attempt += 1
        delay = base * self.rng.uniform(1 - cfg.jitter, 1 + cfg.jitter)
        if retry_after is not None:
            delay = max(0.0, retry_after)
        if cfg.max_elapsed > 0 and time.monotonic() - self.started + delay > cfg.max_elapsed:
            return None
        return delay
