"""Which instrumentation wrote a span, from a handful of marker keys (one set intersection, no value read).

Runs on every span, so the common case (not a GenAI span) costs one intersection of the span's keys with
the marker set and nothing else. The order matters: several dialects share ``gen_ai.*`` names and differ
only in the extra keys they add, so the most specific markers are checked first.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.span_view import SpanView
from genai_lens.semconv import GENAI_LENS_NORMALIZE_SOURCE_DIALECT, GenaiLensNormalizeSourceDialectValues

_D = GenaiLensNormalizeSourceDialectValues
OPENLLMETRY = _D.OPENLLMETRY.value
OPENLLMETRY_LEGACY = _D.OPENLLMETRY_LEGACY.value
OPENINFERENCE = _D.OPENINFERENCE.value
OPENLIT = _D.OPENLIT.value
OTEL_GENAI_LEGACY = _D.OTEL_GENAI_LEGACY.value
OTEL_GENAI = _D.OTEL_GENAI.value
GENAI_OTEL = _D.GENAI_OTEL_INSTRUMENT.value
VERCEL_AI = _D.VERCEL_AI.value
ANTHROPIC_NATIVE = _D.ANTHROPIC_NATIVE.value

ALL_DIALECTS = tuple(member.value for member in _D)

ANTHROPIC_SCOPE = "com.anthropic.sdk.python"
OPENLIT_SCOPE_PREFIX = "openlit."  # its tracer is ``get_tracer(__name__)`` in ``openlit.otel.tracing``

# Marker keys, each written by exactly one family of instrumentations.
_OI_KIND = "openinference.span.kind"
_VERCEL_OPERATION = "ai.operationId"
_VERCEL_MODEL = "ai.model.id"
_OLL_REQUEST_TYPE = "llm.request.type"
_OLL_LEGACY_KEYS = (
    _OLL_REQUEST_TYPE,
    "llm.usage.total_tokens",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.0.role",
    "gen_ai.completion.0.content",
    "gen_ai.completion.0.role",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
_OLL_NEW_KEYS = (
    "gen_ai.usage.total_tokens",
    "gen_ai.is_streaming",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.openai.api_base",
)
_GENAI_OTEL_KEYS = ("gen_ai.usage.token_count_estimated", "gen_ai.request.type", "gen_ai.server.ttft")
_OPENLIT_SDK_KEY = "telemetry.sdk.name"
_OPENLIT_KEYS = ("gen_ai.client.token.usage", "gen_ai.sdk.version")
_OTEL_LEGACY_KEYS = (
    ga.GEN_AI_USAGE_PROMPT_TOKENS,
    ga.GEN_AI_USAGE_COMPLETION_TOKENS,
    ga.GEN_AI_PROMPT,
    ga.GEN_AI_COMPLETION,
)


_GEN_AI_IDENTITY_KEYS = frozenset(
    {ga.GEN_AI_PROVIDER_NAME, ga.GEN_AI_SYSTEM, ga.GEN_AI_OPERATION_NAME, ga.GEN_AI_REQUEST_MODEL}
)
_MARKERS = frozenset(
    {
        GENAI_LENS_NORMALIZE_SOURCE_DIALECT,
        *_GEN_AI_IDENTITY_KEYS,
        _OI_KIND,
        _VERCEL_OPERATION,
        _VERCEL_MODEL,
        _OPENLIT_SDK_KEY,
        *_OLL_LEGACY_KEYS,
        *_OLL_NEW_KEYS,
        *_GENAI_OTEL_KEYS,
        *_OPENLIT_KEYS,
        *_OTEL_LEGACY_KEYS,
    }
)
"""Every key the decision below looks at: one set intersection with the span's keys answers them all."""


def detect(view: SpanView) -> str | None:
    """The dialect of ``view``; ``None`` for a span that is not a GenAI call or is already normalized."""
    present = _MARKERS.intersection(view.keys())
    if not present:
        return None  # the common case: an HTTP, database or messaging span
    if GENAI_LENS_NORMALIZE_SOURCE_DIALECT in present:
        return None  # idempotence: a span is normalized once
    if present.isdisjoint(_GEN_AI_IDENTITY_KEYS):
        if _OI_KIND in present:
            return OPENINFERENCE
        if _VERCEL_OPERATION in present or _VERCEL_MODEL in present:
            return VERCEL_AI
        if _OLL_REQUEST_TYPE in present:
            return OPENLLMETRY_LEGACY
        return None
    return _detect_gen_ai_family(view, present)


def _detect_gen_ai_family(view: SpanView, present: frozenset[str] | set[str]) -> str:
    """Tell apart the instrumentations that all write some ``gen_ai.*`` keys."""
    if _OI_KIND in present:
        return OPENINFERENCE  # OI with OPENINFERENCE_ENABLE_GENAI_SEMCONV dual-emits gen_ai.*
    if _VERCEL_OPERATION in present:
        return VERCEL_AI  # AI SDK provider spans carry gen_ai.system too
    scope = view.scope.name
    if scope == ANTHROPIC_SCOPE:
        return ANTHROPIC_NATIVE
    if (
        scope.startswith(OPENLIT_SCOPE_PREFIX)
        or (_OPENLIT_SDK_KEY in present and view.get(_OPENLIT_SDK_KEY) == "openlit")
        or not present.isdisjoint(_OPENLIT_KEYS)
    ):
        return OPENLIT
    has_system = ga.GEN_AI_SYSTEM in present
    if (has_system and ga.GEN_AI_PROVIDER_NAME in present) or not present.isdisjoint(_GENAI_OTEL_KEYS):
        return GENAI_OTEL
    if not present.isdisjoint(_OLL_LEGACY_KEYS):
        return OPENLLMETRY_LEGACY
    if not present.isdisjoint(_OLL_NEW_KEYS):
        return OPENLLMETRY
    if has_system or not present.isdisjoint(_OTEL_LEGACY_KEYS):
        return OTEL_GENAI_LEGACY
    return OTEL_GENAI
