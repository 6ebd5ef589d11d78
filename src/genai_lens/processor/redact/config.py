"""The redact stage's configuration, checked once at start-up with messages that name the bad key.

Keys (all optional; ``processors: {redact: {}}`` redacts every built-in type with placeholders)::

    mode: placeholder            # placeholder (<EMAIL>) | hash (<EMAIL:hmac:1a2b3c4d5e6f>) | drop
    hash_key: ${env:REDACT_KEY}  # required for mode: hash, at least 16 characters; never logged
    detectors: [email, phone, credit_card, iban, us_ssn, ipv4, ipv6, secret]   # default: all
    custom_patterns:             # extra regexes; marker <EMPLOYEE_ID>, type "custom"
      - {name: employee_id, pattern: 'EMP-[0-9]{6}'}
    allow_keys: [app.build.*]    # never scanned (exact keys or globs), on top of the defaults in keys.py
    deny_keys: [enduser.id]      # whole value replaced by <REDACTED> (type "custom"), any value type
    default_keys: true           # false drops the built-in allow/deny lists
    ner: {enabled: false, engine: presidio, language: en, score_threshold: 0.5}
    clean_cache_size: 8192       # digests of long strings found clean (repeated prompts); 0 turns it off
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from genai_lens.processor.redact.detectors import BUILTIN_TYPES, Detector, custom_detector, select_detectors
from genai_lens.processor.redact.modes import Mode
from genai_lens.processor.redact.ner import ENGINES
from genai_lens.processor.stage import StageConfigError, reject_unknown_keys

STAGE = "redact"
KEYS = {
    "mode",
    "hash_key",
    "allow_keys",
    "deny_keys",
    "default_keys",
    "detectors",
    "custom_patterns",
    "ner",
    "clean_cache_size",
}
NER_KEYS = {"enabled", "engine", "language", "score_threshold"}
MIN_HASH_KEY_CHARS = 16


@dataclass(frozen=True)
class NerConfig:
    enabled: bool = False
    engine: str = "presidio"
    language: str = "en"
    score_threshold: float = 0.5


@dataclass(frozen=True)
class RedactConfig:
    """Parsed config: ``detectors`` holds built-ins then user patterns, in tie-break order."""

    mode: Mode = Mode.PLACEHOLDER
    hash_key: bytes | None = field(default=None, repr=False)
    allow_keys: tuple[str, ...] = ()
    deny_keys: tuple[str, ...] = ()
    default_keys: bool = True
    detectors: tuple[Detector, ...] = ()
    ner: NerConfig = NerConfig()
    clean_cache_size: int = 8192


def _error(message: str) -> StageConfigError:
    return StageConfigError(f"processor '{STAGE}': {message}")


def _string_list(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(f"{key}: expected a list of non-empty strings")
    return tuple(value)


def _bool(config: Mapping[str, Any], key: str, default: bool, path: str = "") -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise _error(f"{path}{key}: expected true or false, got {type(value).__name__}")
    return value


def _hash_key(config: Mapping[str, Any], mode: Mode) -> bytes | None:
    value = config.get("hash_key")
    if mode is not Mode.HASH:
        if value is not None:
            raise _error(f"hash_key is only used with mode: hash (mode is {mode.value})")
        return None
    # Never echo the key itself in a message.
    if value is None or value == "":
        raise _error("mode: hash needs hash_key (for example hash_key: ${env:GENAI_LENS_REDACT_KEY})")
    if not isinstance(value, str):
        raise _error(f"hash_key: expected a string, got {type(value).__name__}")
    if value.startswith("${"):
        raise _error("hash_key: looks like an unexpanded ${...} reference; set the environment variable")
    if len(value) < MIN_HASH_KEY_CHARS:
        raise _error(f"hash_key: too short ({len(value)} characters); use at least {MIN_HASH_KEY_CHARS}")
    return value.encode("utf-8")


def _detectors(config: Mapping[str, Any]) -> tuple[Detector, ...]:
    types = config.get("detectors", list(BUILTIN_TYPES))
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise _error(f"detectors: expected a list of detector types ({', '.join(BUILTIN_TYPES)})")
    unknown = sorted(set(types) - set(BUILTIN_TYPES))
    if unknown:
        raise _error(f"detectors: unknown type(s) {', '.join(unknown)}; known: {', '.join(BUILTIN_TYPES)}")
    detectors = list(select_detectors(types))
    patterns = config.get("custom_patterns", []) or []
    if not isinstance(patterns, list):
        raise _error("custom_patterns: expected a list of {name, pattern} mappings")
    names: set[str] = set()
    for i, entry in enumerate(patterns):
        path = f"custom_patterns[{i}]"
        if not isinstance(entry, Mapping):
            raise _error(f"{path}: expected a mapping with name and pattern")
        extra = sorted(set(entry) - {"name", "pattern"})
        if extra:
            raise _error(f"{path}: unknown key(s) {', '.join(map(str, extra))}; allowed: name, pattern")
        name, pattern = entry.get("name"), entry.get("pattern")
        if not isinstance(name, str) or not isinstance(pattern, str) or not pattern:
            raise _error(f"{path}: name and pattern must both be non-empty strings")
        if name in names:
            raise _error(f"{path}: name {name!r} is used twice")
        names.add(name)
        try:
            detectors.append(custom_detector(name, pattern))
        except ValueError as exc:
            raise _error(f"{path}: {exc}") from exc
    return tuple(detectors)


def _ner(config: Mapping[str, Any]) -> NerConfig:
    raw = config.get("ner")
    if raw is None:
        return NerConfig()
    if not isinstance(raw, Mapping):
        raise _error("ner: expected a mapping (enabled, engine, language, score_threshold)")
    unknown = sorted(set(raw) - NER_KEYS)
    if unknown:
        raise _error(
            f"ner: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(NER_KEYS))}"
        )
    engine = raw.get("engine", "presidio")
    if engine not in ENGINES:
        raise _error(f"ner.engine: unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    language = raw.get("language", "en")
    if not isinstance(language, str) or not language:
        raise _error("ner.language: expected a language code such as 'en'")
    threshold = raw.get("score_threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise _error("ner.score_threshold: expected a number between 0 and 1")
    return NerConfig(_bool(raw, "enabled", False, "ner."), engine, language, float(threshold))


def parse_config(config: Mapping[str, Any]) -> RedactConfig:
    """Check ``config`` and build a :class:`RedactConfig`; raises ``StageConfigError``."""
    if not isinstance(config, Mapping):
        raise _error(f"expected a mapping, got {type(config).__name__}")
    reject_unknown_keys(STAGE, config, KEYS)
    mode_name = config.get("mode", Mode.PLACEHOLDER.value)
    try:
        mode = Mode(mode_name)
    except ValueError:
        raise _error(f"mode: unknown mode {mode_name!r}; known: {', '.join(m.value for m in Mode)}") from None
    return RedactConfig(
        mode=mode,
        hash_key=_hash_key(config, mode),
        allow_keys=_string_list(config, "allow_keys"),
        deny_keys=_string_list(config, "deny_keys"),
        default_keys=_bool(config, "default_keys", True),
        detectors=_detectors(config),
        ner=_ner(config),
        clean_cache_size=_cache_size(config),
    )


def _cache_size(config: Mapping[str, Any]) -> int:
    value = config.get("clean_cache_size", RedactConfig.clean_cache_size)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise _error("clean_cache_size: expected a whole number from 0 (off) to 1000000")
    return value
