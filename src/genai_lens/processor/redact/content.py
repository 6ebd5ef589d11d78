"""Redacts one string value, as plain text or, when it holds JSON, inside its string values only.

GenAI content often arrives as a JSON string (``gen_ai.input.messages``, ``input.value``). The raw text is
scanned with its escapes blanked; when every finding lies inside a string value, it is replaced right
there: built-in matches and markers hold no quote or backslash, so the document stays valid JSON with the
sender's formatting, and it is never parsed. A finding in a number, a key or across an escape sends the
document the slow way: parsed, redacted leaf by leaf (never numbers or keys), re-serialized compactly.
"""

from __future__ import annotations

import json
from typing import Any

from genai_lens.processor.redact.clean_cache import CleanCache
from genai_lens.processor.redact.modes import Mode, Replacer
from genai_lens.processor.redact.scanner import Finding, Scanner

DROP = object()
"""Returned instead of a string when the holder of the value must be removed (drop mode)."""

# Escapes glued to a value ("\n+44 20 ...") would hide its left edge from the detectors when the raw JSON
# text is pre-scanned; blanking them keeps every offset (same length) and every boundary.
_ESCAPES = ("\\\\", "\\n", "\\t", "\\r", '\\"', "\\/")

JSON_STARTS = frozenset("{[ \t\r\n")
"""First characters of a string that may hold a JSON document (see :func:`json_probe`)."""


def json_probe(text: str) -> str | None:
    """``text`` with its escapes blanked (same length) when it looks like a JSON document, else ``None``."""
    first = text[:1]
    if first.isspace():
        first = text.lstrip()[:1]
    if first != "{" and first != "[":
        return None
    if "\\" in text:
        for escape in _ESCAPES:
            text = text.replace(escape, "  ")
    return text


def in_json_string_value(probe: str, start: int, end: int) -> bool:
    """Whether ``probe[start:end]`` lies inside one string value (not a key) of a JSON document.

    In the probe every escape is blanked, so each remaining quote is structural: an odd count before
    ``start`` means inside a string, and the string is a key when a colon follows its closing quote.
    """
    if probe.count('"', 0, start) % 2 == 0:
        return False
    close = probe.find('"', end)
    if close < 0:
        return False
    return not probe[close + 1 : close + 64].lstrip().startswith(":")


def apply(text: str, findings: list[Finding], replacer: Replacer) -> str:
    """``text`` with each finding replaced by its marker."""
    pieces: list[str] = []
    last = 0
    for f in findings:
        pieces.append(text[last : f.start])
        pieces.append(replacer.marker(f.label, text[f.start : f.end]))
        last = f.end
    pieces.append(text[last:])
    return "".join(pieces)


def rewrite_json_in_place(
    text: str, probe: str, findings: list[Finding], replacer: Replacer, found: list[str]
) -> str | None:
    """``text`` with each finding replaced where it stands, or ``None`` when that could break the JSON.

    Safe when every finding lies inside a string value and neither holds nor follows a backslash.
    """
    for f in findings:
        if (
            "\\" in text[f.start : f.end]
            or text[f.start - 1 : f.start] == "\\"
            or not in_json_string_value(probe, f.start, f.end)
        ):
            return None
    found.extend(f.type for f in findings)
    return apply(text, findings, replacer)


class ContentRedactor:
    """Scans and rewrites strings; ``redact`` reports the types found so the span can be annotated."""

    def __init__(self, scanner: Scanner, replacer: Replacer, clean_cache: CleanCache | None = None) -> None:
        self.scanner = scanner
        self.replacer = replacer
        self.drop = replacer.mode is Mode.DROP
        self.clean_cache = clean_cache if clean_cache is not None else CleanCache()

    def redact(self, text: str, found: list[str]) -> str | object | None:
        """The new value, :data:`DROP`, or ``None`` when nothing was found; types go to ``found``."""
        key = self.clean_cache.key(text)
        if key in self.clean_cache:
            return None
        result = self._redact(text, found)
        if result is None:
            self.clean_cache.add(key)
        return result

    def _redact(self, text: str, found: list[str]) -> str | object | None:
        probe = json_probe(text)
        if probe is None:
            return self._redact_plain(text, found)
        hints = self.scanner.scan(probe)
        return self.redact_json(text, probe, hints, found) if hints else None

    def redact_json(
        self, text: str, probe: str, hints: list[Finding], found: list[str]
    ) -> str | object | None:
        """Redact JSON-looking ``text`` given the findings in its ``probe`` (:func:`json_probe`).

        In place when that is safe (:func:`rewrite_json_in_place`); else parsed, redacted leaf by leaf and
        re-serialized; else, when it is not JSON after all, as plain text.
        """
        if self.scanner.hints_are_exact and not self.drop:
            new = rewrite_json_in_place(text, probe, hints, self.replacer, found)
            if new is not None:
                return new
        before = len(found)
        try:
            document = json.loads(text)
            if isinstance(document, dict | list):
                return self._redact_json(document, self._needles(probe, hints), found)
        except (ValueError, RecursionError):  # not JSON after all, or nested too deep: plain text below
            del found[before:]
        return self._redact_plain(text, found)

    def _redact_plain(self, text: str, found: list[str]) -> str | object | None:
        findings = self.scanner.scan(text)
        if not findings:
            return None
        found.extend(f.type for f in findings)
        return DROP if self.drop else apply(text, findings, self.replacer)

    def _needles(self, probe: str, hints: list[Finding]) -> list[tuple[str, Finding]] | None:
        """The raw-JSON findings as ``(text, finding)``, longest first, or ``None`` to rescan each leaf.

        Built-in matches never contain a quote, so each one found in the raw JSON lies inside one string
        leaf and appears there verbatim unless it holds an escape: the leaves can be rewritten by plain
        replacement instead of a second scan. User patterns and models promise nothing, so they rescan.
        """
        if not self.scanner.hints_are_exact:
            return None
        needles = {probe[h.start : h.end]: h for h in hints}
        if any("\\" in text or "  " in text for text in needles):
            return None
        return sorted(needles.items(), key=lambda item: -len(item[0]))

    def _redact_json(
        self,
        document: dict[str, Any] | list[Any],
        needles: list[tuple[str, Finding]] | None,
        found: list[str],
    ) -> str | object | None:
        before = len(found)
        redacted = self._leaves(document, needles, found)
        if len(found) == before:
            return None  # the raw hit was in a number or a key: leave the text as it was
        if self.drop:
            return DROP
        return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))

    def _leaves(self, node: Any, needles: list[tuple[str, Finding]] | None, found: list[str]) -> Any:
        if isinstance(node, str):
            if needles is None:
                findings = self.scanner.scan(node)
                if not findings:
                    return node
                found.extend(f.type for f in findings)
                return apply(node, findings, self.replacer)
            for needle, finding in needles:
                if needle in node:
                    found.extend([finding.type] * node.count(needle))
                    node = node.replace(needle, self.replacer.marker(finding.label, needle))
            return node
        if isinstance(node, dict):
            return {key: self._leaves(value, needles, found) for key, value in node.items()}
        if isinstance(node, list):
            return [self._leaves(item, needles, found) for item in node]
        return node
