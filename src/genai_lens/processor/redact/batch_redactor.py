"""Redacts every span of one export request with a single scan over all of their strings.

Scanning string by string pays Python's per-call overhead (encode, shape, a dozen gate checks) once per
attribute, which dominated the stage's cost. Here every scannable string of the request is collected, the
strings are joined with a NUL separator (no detector matches a NUL, and every detector treats it as a word
boundary, like the start or end of a string), the joined text is scanned once, and each finding is mapped
back to the string that holds it. Only strings with findings are rewritten.

JSON content is rewritten where it stands when that is safe (``content.rewrite_json_in_place``), so a
document with findings is not parsed either.

Only for the built-in detectors in placeholder or hash mode; user patterns, the NER engine and drop mode
keep the per-string path of :class:`SpanRedactor`, whose results this reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genai_lens.processor.redact.content import JSON_STARTS, apply, json_probe
from genai_lens.processor.redact.keys import KeyAction
from genai_lens.processor.redact.scanner import Finding
from genai_lens.processor.redact.span_redactor import SpanRedactor
from genai_lens.processor.span_view import SpanView

SEPARATOR = "\x00"
_MIN_LENGTH = 6  # the shortest built-in match ("a@b.co")
_STATUS = None
"""The holder recorded for a span's status message (it is not an ``AnyValue``)."""


class BatchRedactor:
    """Redacts a batch of spans in one scan; the per-string work stays in the :class:`SpanRedactor`."""

    def __init__(self, redactor: SpanRedactor) -> None:
        self.redactor = redactor
        self.content = redactor.content
        self.scanner = redactor.content.scanner
        self.replacer = redactor.content.replacer

    @property
    def usable(self) -> bool:
        """Whether this configuration can be batched (built-in detectors only, not drop mode)."""
        return self.scanner.hints_are_exact and not self.redactor.drop

    def redact(self, views: Sequence[SpanView]) -> list[list[str] | None]:
        """Redact every span in place; for each span the types redacted, or ``None`` when none were."""
        found: list[list[str] | None] = [None] * len(views)
        slots: list[tuple[str, str | None, Any, int, Any]] = []
        """``(text, JSON probe or None, holder AnyValue or _STATUS, owner span index, clean-cache key)``"""
        cache = self.content.clean_cache
        policy = self.redactor.policy
        decided = policy.decisions
        action_of = policy.action
        min_cached = cache.min_length if cache.capacity > 0 else 1 << 62
        json_starts = JSON_STARTS
        scan_action = KeyAction.SCAN

        def add(text: str, holder: Any, owner: int) -> None:
            cache_key = cache.digest(text) if len(text) >= min_cached else None
            if cache_key is not None and cache_key in cache:
                return
            probe = json_probe(text) if text[:1] in json_starts else None
            slots.append((text, probe, holder, owner, cache_key))

        def collect(value: Any, owner: int, key: str) -> None:
            kind = value.WhichOneof("value")
            if kind == "string_value":
                text = value.string_value
                if len(text) >= _MIN_LENGTH:
                    add(text, value, owner)
            elif kind == "array_value":
                for item in value.array_value.values:
                    collect(item, owner, key)
            elif kind == "kvlist_value":
                pairs(value.kvlist_value.values, owner, key + ".")

        def pairs(key_values: Any, owner: int, prefix: str) -> None:
            for kv in key_values:
                key = prefix + kv.key if prefix else kv.key
                action = decided.get(key)
                if action is None:
                    action = action_of(key)
                if action is scan_action:
                    value = kv.value
                    if value.WhichOneof("value") == "string_value":  # the common case, inline
                        text = value.string_value
                        if len(text) >= _MIN_LENGTH:
                            add(text, value, owner)
                    else:
                        collect(value, owner, key)
                elif action is KeyAction.DENY:
                    types = found[owner]
                    if types is None:
                        types = found[owner] = []
                    self.redactor.deny(kv.value, types)

        for owner, view in enumerate(views):
            span = view.span
            pairs(span.attributes, owner, "")
            for event in span.events:
                pairs(event.attributes, owner, "")
            for link in span.links:
                pairs(link.attributes, owner, "")
            message = span.status.message
            if len(message) >= _MIN_LENGTH:
                add(message, _STATUS, owner)

        if slots:
            self._scan_and_rewrite(views, slots, found)
        for owner, types in enumerate(found):
            if types:
                views[owner].forget_values()
        return found

    def _scan_and_rewrite(
        self,
        views: Sequence[SpanView],
        slots: list[tuple[str, str | None, Any, int, Any]],
        found: list[list[str] | None],
    ) -> None:
        scanned = [text if probe is None else probe for text, probe, *_ in slots]
        findings = self.scanner.scan(SEPARATOR.join(scanned))
        # Findings come in text order: walk the strings alongside them.
        per_text: dict[int, list[Finding]] = {}
        index = 0
        base = 0
        end_of = len(scanned[0])
        for finding in findings:
            while finding.start >= end_of:
                index += 1
                base = end_of + 1
                end_of = base + len(scanned[index])
            per_text.setdefault(index, []).append(
                Finding(finding.start - base, finding.end - base, finding.type, finding.label)
            )
        cache = self.content.clean_cache
        for index, slot in enumerate(slots):
            if slot[4] is not None and index not in per_text:
                cache.add(slot[4])
        for index, hits in per_text.items():
            text, probe, holder, owner, _ = slots[index]
            types = found[owner]
            if types is None:
                types = found[owner] = []
            new = self._rewrite(text, probe, hits, types)
            if new is None:
                continue
            if holder is _STATUS:
                views[owner].span.status.message = new
            else:
                holder.string_value = new

    def _rewrite(self, text: str, probe: str | None, hits: list[Finding], types: list[str]) -> str | None:
        """The redacted text, or ``None`` when it stays as it is (never drop mode: see :attr:`usable`)."""
        if probe is None:
            types.extend(f.type for f in hits)
            return apply(text, hits, self.replacer)
        new = self.content.redact_json(text, probe, hits, types)
        return new if isinstance(new, str) else None
