"""Walks one protobuf span in place: attributes (arrays and kvlists inside), events, links, status message.

Nothing is written unless something was found, so a clean span serializes to the same bytes as before.
"""

from __future__ import annotations

import json
from collections.abc import MutableSequence

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from genai_lens.processor.redact.content import DROP, ContentRedactor
from genai_lens.processor.redact.keys import KeyAction, KeyPolicy
from genai_lens.processor.redact.modes import DENIED_LABEL, Mode
from genai_lens.processor.redact.scanner import MARKER
from genai_lens.processor.span_view import SpanView, any_to_python
from genai_lens.semconv import GenaiLensRedactionTypesValues as RedactionType

DENIED_TYPE = RedactionType.CUSTOM.value
"""A denied key is a user-configured rule, so its redactions count as ``custom``."""


class SpanRedactor:
    """Redacts every place a span can carry text; returns one type per redaction made."""

    def __init__(self, content: ContentRedactor, policy: KeyPolicy) -> None:
        self.content = content
        self.policy = policy
        self.replacer = content.replacer
        self.drop = content.replacer.mode is Mode.DROP

    def redact(self, view: SpanView) -> list[str]:
        span = view.span
        found: list[str] = []
        doomed = self._key_values(span.attributes, "", found)
        if doomed:
            view.delete_many([span.attributes[i].key for i in doomed])
        for event in span.events:
            self._remove(event.attributes, self._key_values(event.attributes, "", found))
        for link in span.links:
            self._remove(link.attributes, self._key_values(link.attributes, "", found))
        message = span.status.message
        if message:
            new = self.content.redact(message, found)
            if new is not None:
                span.status.message = "" if new is DROP else new  # type: ignore[assignment]
        if found:
            view.forget_values()  # values were edited behind the view
        return found

    def _key_values(self, pairs: MutableSequence[KeyValue], prefix: str, found: list[str]) -> list[int]:
        """Redact each entry; return the indexes of entries to remove (drop mode)."""
        doomed: list[int] = []
        action_of = self.policy.action
        for i, kv in enumerate(pairs):
            key = prefix + kv.key
            action = action_of(key)
            if action is KeyAction.ALLOW:
                continue
            if action is KeyAction.DENY:
                if self.deny(kv.value, found):
                    doomed.append(i)
            elif self._value(kv.value, key, found):
                doomed.append(i)
        return doomed

    def _value(self, value: AnyValue, key: str, found: list[str]) -> bool:
        """Redact ``value`` in place; ``True`` when it must be removed instead."""
        kind = value.WhichOneof("value")
        if kind == "string_value":
            new = self.content.redact(value.string_value, found)
            if new is None:
                return False
            if new is DROP:
                return True
            value.string_value = new  # type: ignore[assignment]
        elif kind == "array_value":
            items = value.array_value.values
            self._remove(items, [i for i, item in enumerate(items) if self._value(item, key, found)])
        elif kind == "kvlist_value":
            entries = value.kvlist_value.values
            self._remove(entries, self._key_values(entries, key + ".", found))
        return False

    def deny(self, value: AnyValue, found: list[str]) -> bool:
        """Replace a denied key's whole value (any type) by one marker; ``True`` to remove it instead."""
        kind = value.WhichOneof("value")
        if kind is None:
            return False
        if kind == "string_value":
            text = value.string_value
            if not text or MARKER.fullmatch(text):
                return False  # empty, or already redacted by an earlier pass
        else:
            text = json.dumps(any_to_python(value), sort_keys=True, default=repr)
        found.append(DENIED_TYPE)
        if self.drop:
            return True
        value.Clear()
        value.string_value = self.replacer.marker(DENIED_LABEL, text)
        return False

    def withhold(self, view: SpanView) -> int:
        """Fail closed after an unexpected error: every value not on the allow list becomes ``<REDACTED>``.

        Returns how many values were withheld. Used when :meth:`redact` raised part-way, so a span is never
        forwarded half-scanned.
        """
        withheld = 0
        span = view.span
        holders = [span.attributes]
        holders += [event.attributes for event in span.events]
        holders += [link.attributes for link in span.links]
        marker = f"<{DENIED_LABEL}>"
        for pairs in holders:
            for kv in pairs:
                if self.policy.action(kv.key) is KeyAction.ALLOW or kv.value.WhichOneof("value") is None:
                    continue
                if kv.value.WhichOneof("value") == "string_value" and MARKER.fullmatch(kv.value.string_value):
                    continue
                kv.value.Clear()
                kv.value.string_value = marker
                withheld += 1
        if span.status.message:
            span.status.message = marker
            withheld += 1
        view.forget_values()
        return withheld

    @staticmethod
    def _remove(items: MutableSequence[object], doomed: list[int]) -> None:
        for i in reversed(doomed):
            del items[i]
