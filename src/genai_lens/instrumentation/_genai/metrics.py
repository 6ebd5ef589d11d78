"""The GenAI client metrics, with the bucket boundaries the semantic conventions recommend."""

from __future__ import annotations

from opentelemetry.metrics import Meter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes as error
from opentelemetry.semconv.attributes import server_attributes as server
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._genai.invocation import Invocation

# From the GenAI metrics conventions: powers of 4 for tokens, doubling seconds from 10 ms for durations.
TOKEN_USAGE_BUCKETS = tuple(4**i for i in range(14))  # 1, 4, 16, ... 67108864
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TIME_TO_FIRST_CHUNK_BUCKETS = DURATION_BUCKETS

_TOKEN_INPUT = "input"
_TOKEN_OUTPUT = "output"
# the metric attributes of a call depend only on these; each distinct key's dicts are built once
_MetricKey = tuple[str, str, str | None, str | None, str | None, int | None, str | None]
_AttributeSets = tuple[dict[str, AttributeValue], dict[str, AttributeValue], dict[str, AttributeValue]]
_MAX_CACHED_KEYS = 1024


class GenAIMetrics:
    """Histograms shared by every instrumentor built on this layer."""

    __slots__ = ("_attribute_sets", "_duration", "_time_to_first_chunk", "_token_usage")

    def __init__(self, meter: Meter) -> None:
        self._attribute_sets: dict[_MetricKey, _AttributeSets] = {}
        self._token_usage = meter.create_histogram(
            name=gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_USAGE_BUCKETS),
        )
        self._duration = meter.create_histogram(
            name=gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self._time_to_first_chunk = meter.create_histogram(
            name=gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=list(TIME_TO_FIRST_CHUNK_BUCKETS),
        )

    def record(self, invocation: Invocation, duration_s: float, error_type: str | None) -> None:
        key = (
            invocation.operation,
            invocation.provider,
            invocation.request_model,
            invocation.response_model,
            invocation.server_address,
            invocation.server_port,
            error_type,
        )
        try:
            attribute_sets = self._attribute_sets.get(key)
        except TypeError:  # an unhashable value (a provider bug): build the dicts without caching
            attribute_sets = self._attribute_sets_of(key)
        if attribute_sets is None:
            attribute_sets = self._attribute_sets[key] = self._attribute_sets_of(key)
        common, input_tokens, output_tokens = attribute_sets
        self._duration.record(duration_s, common)
        if invocation.time_to_first_chunk is not None:
            self._time_to_first_chunk.record(invocation.time_to_first_chunk, common)
        if invocation.input_tokens is not None:
            self._token_usage.record(invocation.input_tokens, input_tokens)
        if invocation.output_tokens is not None:
            self._token_usage.record(invocation.output_tokens, output_tokens)

    def _attribute_sets_of(self, key: _MetricKey) -> _AttributeSets:
        """The three attribute dicts of one key, built once: the SDK copies them, so sharing is safe."""
        operation, provider, request_model, response_model, address, port, error_type = key
        common: dict[str, AttributeValue] = {
            genai.GEN_AI_OPERATION_NAME: operation,
            genai.GEN_AI_PROVIDER_NAME: provider,
        }
        if request_model:
            common[genai.GEN_AI_REQUEST_MODEL] = request_model
        if response_model:
            common[genai.GEN_AI_RESPONSE_MODEL] = response_model
        if address:
            common[server.SERVER_ADDRESS] = address
        if port:
            common[server.SERVER_PORT] = port
        if error_type:
            common[error.ERROR_TYPE] = error_type
        if len(self._attribute_sets) >= _MAX_CACHED_KEYS:  # many models or hosts: start over, stay bounded
            self._attribute_sets.clear()
        return (
            common,
            {**common, genai.GEN_AI_TOKEN_TYPE: _TOKEN_INPUT},
            {**common, genai.GEN_AI_TOKEN_TYPE: _TOKEN_OUTPUT},
        )
