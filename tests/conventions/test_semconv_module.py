"""The generated module is what instrumentation and processor code import: check it as they use it."""

from __future__ import annotations

from types import ModuleType

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from genai_lens import semconv


def test_module_exposes_every_registry_attribute_and_value(generator: ModuleType) -> None:
    for group in generator.load_registry():
        for attribute in group.attributes:
            assert getattr(semconv, generator.constant_name(attribute.name)) == attribute.name
            if attribute.members:
                enum_class = getattr(semconv, generator.enum_class_name(attribute.name))
                assert [member.value for member in enum_class] == [m.value for m in attribute.members]


def test_enum_members_read_as_their_values() -> None:
    member = semconv.GenaiLensStreamEndReasonValues.GARBAGE_COLLECTED
    assert member == "garbage_collected"
    assert str(member) == "garbage_collected"
    assert f"{member}" == "garbage_collected"
    assert semconv.GenaiLensCostSourceValues("overrides") is semconv.GenaiLensCostSourceValues.OVERRIDES


def test_members_set_on_a_span_export_as_plain_strings() -> None:
    """Real SDK span, real OTLP encoder: what a backend receives must be the bare values."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    flags = [semconv.GenaiLensAnomalyFlagsValues.COST_OUTLIER, semconv.GenaiLensAnomalyFlagsValues.TRUNCATED]
    with provider.get_tracer("test").start_as_current_span("chat gpt-4o") as span:
        span.set_attribute(semconv.GENAI_LENS_COST_SOURCE, semconv.GenaiLensCostSourceValues.GENAI_PRICES)
        span.set_attribute(semconv.GENAI_LENS_ANOMALY_FLAGS, flags)
        span.set_attribute(semconv.GEN_AI_USAGE_COST, 0.00042)
    provider.shutdown()

    request = encode_spans(exporter.get_finished_spans())
    exported = request.resource_spans[0].scope_spans[0].spans[0]
    attributes = {kv.key: kv.value for kv in exported.attributes}
    assert attributes["genai_lens.cost.source"].string_value == "genai_prices"
    assert [v.string_value for v in attributes["genai_lens.anomaly.flags"].array_value.values] == [
        "cost_outlier",
        "truncated",
    ]
    assert attributes["gen_ai.usage.cost"].double_value == 0.00042
    assert type(request.SerializeToString()) is bytes
