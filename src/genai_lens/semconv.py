# Generated from conventions/ by `python conventions/generate.py`. Do not edit by hand.
"""Attribute names and allowed values that genai-lens emits and OpenTelemetry does not define.

Standard `gen_ai.*` names come from `opentelemetry.semconv`; this module holds only our registry.
"""

from enum import Enum
from typing import Final


class _StringValues(str, Enum):
    """Base of the value enums: a member is its string, also under `str()` and in f-strings."""

    def __str__(self) -> str:
        return str.__str__(self)


# GenAI usage extensions: GenAI usage attributes outside the `genai_lens` namespace that OpenTelemetry does
# not define but that genai-lens emits because other tools already use the name.

GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"
"""Total cost of the GenAI call in US dollars.

Not an OpenTelemetry semantic convention: OpenTelemetry defines no cost attribute. The name is the
de-facto one written by OpenLIT and read by Langfuse, so genai-lens uses it rather than inventing one. It
is the sum of the `genai_lens.cost.*` parts and is absent when no price is known (see
`genai_lens.cost.model_unknown`).

Type: double. Stability: development.
"""


# genai-lens cost attributes: Breakdown of the cost that the genai-lens processor computed for a GenAI call.

GENAI_LENS_COST_INPUT: Final = "genai_lens.cost.input"
"""Cost in US dollars of the uncached input tokens.

Excludes cache reads and cache writes, which have their own attributes.

Type: double. Stability: development.
"""

GENAI_LENS_COST_OUTPUT: Final = "genai_lens.cost.output"
"""Cost in US dollars of the output tokens, reasoning tokens included.

Type: double. Stability: development.
"""

GENAI_LENS_COST_CACHE_READ: Final = "genai_lens.cost.cache_read"
"""Cost in US dollars of the input tokens read from the provider's prompt cache.

Type: double. Stability: development.
"""

GENAI_LENS_COST_CACHE_CREATION: Final = "genai_lens.cost.cache_creation"
"""Cost in US dollars of the input tokens written to the provider's prompt cache.

Type: double. Stability: development.
"""

GENAI_LENS_COST_SOURCE: Final = "genai_lens.cost.source"
"""Where the cost on the span came from.

Type: string enum. Stability: development.
Values: see `GenaiLensCostSourceValues`.
"""

GENAI_LENS_COST_MODEL_UNKNOWN: Final = "genai_lens.cost.model_unknown"
"""True when no price was found for the model, so no cost was set.

When true, `gen_ai.usage.cost` and the `genai_lens.cost.*` amounts are absent.

Type: boolean. Stability: development.
"""

GENAI_LENS_COST_PRICING_VERSION: Final = "genai_lens.cost.pricing_version"
"""Version of the price table used to compute the cost.

Type: string. Stability: development.
"""


class GenaiLensCostSourceValues(_StringValues):
    """Allowed values of `genai_lens.cost.source`."""

    GENAI_PRICES = "genai_prices"
    """Priced from the genai-prices table."""

    OVERRIDES = "overrides"
    """Priced from the user's price overrides."""

    SPAN = "span"
    """The span already carried a cost, which was kept."""


# genai-lens redaction attributes: What the genai-lens processor redacted from a span's content.

GENAI_LENS_REDACTION_COUNT: Final = "genai_lens.redaction.count"
"""Number of values replaced by redaction markers on the span.

Type: int. Stability: development.
"""

GENAI_LENS_REDACTION_TYPES: Final = "genai_lens.redaction.types"
"""Distinct kinds of sensitive data that were redacted, each listed once.

Each element is one of the values listed in `annotations.genai_lens.array_members` (OpenTelemetry enum
types cannot be arrays).

Type: string[]. Stability: development.
Values: see `GenaiLensRedactionTypesValues`.
"""


class GenaiLensRedactionTypesValues(_StringValues):
    """Allowed elements of `genai_lens.redaction.types`."""

    EMAIL = "email"
    """An e-mail address."""

    PHONE = "phone"
    """A telephone number."""

    CREDIT_CARD = "credit_card"
    """A payment card number that passes the Luhn check."""

    IBAN = "iban"
    """An international bank account number."""

    US_SSN = "us_ssn"
    """A United States social security number."""

    IPV4 = "ipv4"
    """An IPv4 address."""

    IPV6 = "ipv6"
    """An IPv6 address."""

    SECRET = "secret"
    """An API key, token or other credential."""

    CUSTOM = "custom"
    """A match of a user-configured pattern."""

    NER_PERSON = "ner_person"
    """A person's name found by named-entity recognition."""

    NER_LOCATION = "ner_location"
    """A location found by named-entity recognition."""


# genai-lens anomaly attributes: Anomalies that the genai-lens processor found on a GenAI call.

GENAI_LENS_ANOMALY_FLAGS: Final = "genai_lens.anomaly.flags"
"""The kinds of anomaly found on the call, each listed once.

Each element is one of the values listed in `annotations.genai_lens.array_members` (OpenTelemetry enum
types cannot be arrays). Absent when the call looks normal.

Type: string[]. Stability: development.
Values: see `GenaiLensAnomalyFlagsValues`.
"""

GENAI_LENS_ANOMALY_SCORE: Final = "genai_lens.anomaly.score"
"""How anomalous the call is; 0 is normal and higher is more anomalous.

Unbounded above; comparable between calls to the same model.

Type: double. Stability: development.
"""


class GenaiLensAnomalyFlagsValues(_StringValues):
    """Allowed elements of `genai_lens.anomaly.flags`."""

    LATENCY_OUTLIER = "latency_outlier"
    """Duration far above what is usual for the model."""

    TTFT_OUTLIER = "ttft_outlier"
    """Time to first token far above what is usual for the model."""

    INPUT_TOKENS_OUTLIER = "input_tokens_outlier"
    """Input token count far from what is usual for the model."""

    OUTPUT_TOKENS_OUTLIER = "output_tokens_outlier"
    """Output token count far from what is usual for the model."""

    COST_OUTLIER = "cost_outlier"
    """Cost far above what is usual for the model."""

    EMPTY_COMPLETION = "empty_completion"
    """The call succeeded but produced no output."""

    TRUNCATED = "truncated"
    """The output stopped at the token limit."""

    CONTENT_FILTER = "content_filter"
    """The provider's content filter blocked or cut the output."""

    ERROR = "error"
    """The call ended in an error."""


# genai-lens normalization attributes: How the genai-lens processor rewrote a span into current
# OpenTelemetry GenAI conventions.

GENAI_LENS_NORMALIZE_SOURCE_DIALECT: Final = "genai_lens.normalize.source_dialect"
"""The attribute dialect the normalizer recognised on the incoming span.

Type: string enum. Stability: development.
Values: see `GenaiLensNormalizeSourceDialectValues`.
"""


class GenaiLensNormalizeSourceDialectValues(_StringValues):
    """Allowed values of `genai_lens.normalize.source_dialect`."""

    OPENLLMETRY = "openllmetry"
    """OpenLLMetry (Traceloop) 0.55 and later."""

    OPENLLMETRY_LEGACY = "openllmetry_legacy"
    """OpenLLMetry before 0.55 (`gen_ai.prompt.N.*`, `llm.*` attributes)."""

    OPENINFERENCE = "openinference"
    """Arize OpenInference (`llm.*`, `openinference.span.kind`)."""

    OPENLIT = "openlit"
    """OpenLIT."""

    OTEL_GENAI_LEGACY = "otel_genai_legacy"
    """OpenTelemetry GenAI conventions before the `gen_ai.input.messages` revision."""

    OTEL_GENAI = "otel_genai"
    """Current OpenTelemetry GenAI conventions; nothing needed rewriting."""

    GENAI_OTEL_INSTRUMENT = "genai_otel_instrument"
    """The genai-otel-instrument package."""

    VERCEL_AI = "vercel_ai"
    """Vercel AI SDK (`ai.*` attributes)."""

    ANTHROPIC_NATIVE = "anthropic_native"
    """The Anthropic SDK's own spans (scope `com.anthropic.sdk.python`)."""


# genai-lens streaming attributes: How the span of a streamed GenAI call ended.

GENAI_LENS_STREAM_END_REASON: Final = "genai_lens.stream.end_reason"
"""How the span of a streamed call was ended.

Spans of streamed calls end when the stream ends rather than when the call returns; this says which event
ended it.

Type: string enum. Stability: development.
Values: see `GenaiLensStreamEndReasonValues`.
"""


class GenaiLensStreamEndReasonValues(_StringValues):
    """Allowed values of `genai_lens.stream.end_reason`."""

    EXHAUSTED = "exhausted"
    """The caller read the stream to its end."""

    CLOSED = "closed"
    """The caller closed the stream before its end."""

    ERROR = "error"
    """Reading the stream raised an error."""

    GARBAGE_COLLECTED = "garbage_collected"
    """The stream was dropped unread and the span was ended when it was garbage collected."""
