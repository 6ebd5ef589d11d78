"""Which attribute keys are never scanned (allow), always redacted whole (deny), or scanned.

Precedence, most specific intent first: the user's deny list, the user's allow list, the default deny list,
the default allow list; anything else is scanned. Entries are exact keys or ``fnmatch`` globs
(``http.request.header.*``). Nested kvlist entries are matched by their dotted path (``parent.child``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from enum import IntEnum


class KeyAction(IntEnum):
    SCAN = 0
    ALLOW = 1
    DENY = 2


DEFAULT_ALLOW_KEYS: tuple[str, ...] = (
    # Identity of the call: model names, providers, operation, ids that join spans and responses.
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.output.type",
    "gen_ai.token.type",
    "gen_ai.request.encoding_formats",
    "gen_ai.conversation.id",
    "gen_ai.agent.id",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "gen_ai.tool.type",
    "gen_ai.tool.call.id",
    "gen_ai.data_source.id",
    "openai.request.service_tier",
    "openai.response.service_tier",
    "openai.response.system_fingerprint",
    "llm.model_name",
    "llm.provider",
    "llm.system",
    "llm.request.type",
    "openinference.span.kind",
    "input.mime_type",
    "output.mime_type",
    "traceloop.span.kind",
    # The provider's endpoint is infrastructure, not a person (an IP here is the LLM server's, and dashboards
    # group by it). client.address, the caller's address, is scanned.
    "server.address",
    "server.port",
    "url.scheme",
    "http.request.method",
    "http.response.status_code",
    "error.type",
    "db.system",
    "db.system.name",
    "db.operation.name",
    "db.collection.name",
    # Our own annotations.
    "genai_lens.*",
)
"""Structural keys: never scanned, so ids, model names and versions are never mistaken for PII."""

DEFAULT_DENY_KEYS: tuple[str, ...] = (
    "http.request.header.authorization",
    "http.request.header.proxy-authorization",
    "http.request.header.cookie",
    "http.request.header.x-api-key",
    "http.request.header.api-key",
    "http.response.header.set-cookie",
)
"""Credential headers: the whole value is a secret whatever its shape."""


class _KeyList:
    def __init__(self, patterns: Iterable[str]) -> None:
        patterns = list(patterns)
        self.exact = frozenset(p for p in patterns if not any(ch in p for ch in "*?["))
        globs = [fnmatch.translate(p) for p in patterns if p not in self.exact]
        self.glob = re.compile("|".join(globs)) if globs else None

    def __contains__(self, key: str) -> bool:
        return key in self.exact or (self.glob is not None and self.glob.match(key) is not None)


class KeyPolicy:
    """Decides per key; decisions are cached (attribute keys repeat across spans)."""

    _CACHE_LIMIT = 20_000

    def __init__(self, allow: Iterable[str], deny: Iterable[str], use_defaults: bool = True) -> None:
        self._layers = [(_KeyList(deny), KeyAction.DENY), (_KeyList(allow), KeyAction.ALLOW)]
        if use_defaults:
            self._layers += [
                (_KeyList(DEFAULT_DENY_KEYS), KeyAction.DENY),
                (_KeyList(DEFAULT_ALLOW_KEYS), KeyAction.ALLOW),
            ]
        self.decisions: dict[str, KeyAction] = {}
        """Decisions made so far, by key; a hot loop may look here before calling :meth:`action`."""

    def action(self, key: str) -> KeyAction:
        cached = self.decisions.get(key)
        if cached is not None:
            return cached
        decision = next((action for keys, action in self._layers if key in keys), KeyAction.SCAN)
        if len(self.decisions) >= self._CACHE_LIMIT:  # flattened keys (llm.input_messages.N...) can be many
            self.decisions.clear()
        self.decisions[key] = decision
        return decision
