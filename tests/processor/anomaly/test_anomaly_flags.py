"""Categorical flags from recorded provider responses: error, truncated, content filter, empty output."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from anomaly_spans import WORKLOADS, Call, Recorder, Workload, draw

from genai_lens.processor.anomaly import AnomalyStage
from genai_lens.processor.stage import StageContext
from genai_lens.replay.cassette import load_cassette
from genai_lens.semconv import GENAI_LENS_ANOMALY_FLAGS, GENAI_LENS_ANOMALY_SCORE

CASSETTES = Path(__file__).resolve().parents[3] / ".." / "shared" / "cassettes"


def response(relative: str, index: int) -> dict:
    return json.loads(load_cassette(CASSETTES / relative)[index].body)


def flagged(*calls: Call, context: StageContext | None = None) -> list[list[str]]:
    anomaly = AnomalyStage.from_config({}, context or StageContext())
    recorder = Recorder()
    for call in calls:
        recorder.add(call)
    views = recorder.views()
    anomaly.process_batch(views)
    return [v.get(GENAI_LENS_ANOMALY_FLAGS) or [] for v in views]


def call(workload: Workload = WORKLOADS[0], **changes) -> Call:
    base = draw(workload, random.Random(0))
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_truncated_openai_legacy_completion_length():
    body = response("openai/legacy_completion_davinci002.yaml", 0)
    completion = Workload("batch", "openai", body["model"], operation="text_completion", streaming=False)
    reasons = tuple(c["finish_reason"] for c in body["choices"])
    usage = body["usage"]
    assert flagged(
        call(completion, finish_reasons=reasons, input_tokens=usage["prompt_tokens"], output_tokens=16)
    ) == [["truncated"]]


def test_truncated_raw_anthropic_stop_reason_on_bedrock():
    body = response("bedrock/invoke_model_claude35haiku_prompt_cache.yaml", 0)
    bedrock = Workload("batch", "aws.bedrock", body["model"])
    assert flagged(call(bedrock, finish_reasons=(body["stop_reason"],))) == [["truncated"]]


def test_content_filter_finish_reason_from_azure():
    body = response("openai/azure_chat_content_filter_finish_reason.yaml", 0)
    azure = Workload("support", "azure.ai.openai", body["model"])
    reasons = tuple(c["finish_reason"] for c in body["choices"])
    assert flagged(call(azure, finish_reasons=reasons)) == [["content_filter"]]


def test_gemini_safety_finish_reason_is_a_content_filter():
    assert flagged(call(WORKLOADS[4], finish_reasons=("SAFETY",))) == [["content_filter"]]


def test_prompt_blocked_by_azure_is_an_error_and_a_content_filter():
    error = response("openai/azure_prompt_content_filter_error.yaml", 0)["error"]
    azure = Workload("support", "azure.ai.openai", "gpt-4.1-mini")
    blocked = call(
        azure, error_type="BadRequestError", status_error=error["message"], finish_reasons=(), output_tokens=0
    )
    assert flagged(blocked) == [["error", "content_filter"]]


def test_error_from_status_or_error_type_and_kept_out_of_baselines():
    error = response("openai/chat_error_404_model_not_found.yaml", 0)["error"]
    context = StageContext()
    anomaly = AnomalyStage.from_config({}, context)
    recorder = Recorder()
    for i in range(60):
        failed = call(duration_s=0.05, output_tokens=0, input_tokens=0, finish_reasons=())
        if i % 2:
            failed.status_error = error["message"]
        else:
            failed.error_type = error["code"]
        recorder.add(failed)
    views = recorder.views()
    anomaly.process_batch(views)
    assert all(v.get(GENAI_LENS_ANOMALY_FLAGS) == ["error"] for v in views)
    assert all(v.get(GENAI_LENS_ANOMALY_SCORE) == 0.0 for v in views)
    assert all(not baselines for baselines in anomaly.store._keys.values())  # errors taught it nothing
    assert context.stats.get("genai_lens_anomalies_total", flag="error") == 60


def test_zero_output_tokens_on_a_successful_chat_is_an_empty_completion():
    assert flagged(call(output_tokens=0)) == [["empty_completion"]]


def test_zero_output_tokens_on_embeddings_is_normal():
    assert flagged(call(WORKLOADS[3], output_tokens=0)) == [[]]


@pytest.mark.parametrize(
    ("messages", "empty"),
    [
        ([{"role": "assistant", "parts": [{"type": "text", "content": ""}], "finish_reason": "stop"}], True),
        ([{"role": "assistant", "parts": [{"type": "reasoning", "content": "hmm"}]}], True),
        ([], True),
        ([{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}]}], False),
        (
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {}}],
                }
            ],
            False,
        ),
    ],
    ids=["empty-text", "reasoning-only", "no-messages", "text", "tool-call-only"],
)
def test_empty_output_messages_when_content_is_captured(messages, empty):
    """gpt-5-nano can spend every output token on reasoning and return no text (tokens > 0, no answer)."""
    body = response("openai/chat_gpt5nano_reasoning_tokens.yaml", 0)
    nano = Workload("checkout", "openai", body["model"])
    captured = call(
        nano,
        output_tokens=body["usage"]["completion_tokens"],
        extra={"gen_ai.output.messages": json.dumps(messages)},
    )
    assert flagged(captured) == [["empty_completion"] if empty else []]


def test_categorical_flags_need_no_history_and_are_counted():
    context = StageContext()
    result = flagged(
        call(finish_reasons=("length",)),
        call(finish_reasons=("length",)),
        call(output_tokens=0),
        context=context,
    )
    assert result == [["truncated"], ["truncated"], ["empty_completion"]]
    assert context.stats.get("genai_lens_anomalies_total", flag="truncated") == 2
    assert context.stats.get("genai_lens_anomalies_total", flag="empty_completion") == 1


# Raw output texts that look like the one-text-part shape the stage checks without parsing, but where a
# later duplicate key, an escaped quote or a blank start decides the answer: the shortcut must agree with
# the parser on every one.
_TRICKY_OUTPUTS = [
    ('[{"role":"assistant","parts":[{"type":"text","content":"Paris."}],"finish_reason":"stop"}]', False),
    (json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}]}]), False),
    ('[{"role":"assistant","parts":[{"type":"text","content":"Paris."}],"parts":[]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"Paris.","type":"reasoning"}]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"Paris.","content":"  "}]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"say \\"hi\\" \\\\"}]}]', False),
    ('[{"role":"assistant","parts":[{"type":"text","content":" \\n "}]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"\\u0020"}]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"\u3000"}]}]', True),
    ('[{"role":"assistant","parts":[{"type":"text","content":"Paris."}]', False),  # not JSON: not flagged
]


@pytest.mark.parametrize(("raw", "empty"), _TRICKY_OUTPUTS, ids=range(len(_TRICKY_OUTPUTS)))
def test_unparsed_shortcut_agrees_with_the_parser(raw, empty):
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if parsed is not None:  # the expectation above is what the schema rule says of the parsed value
        has_text = any(
            p.get("type") not in ("text", "reasoning") or (p.get("type") == "text" and p["content"].strip())
            for m in parsed
            for p in m["parts"]
        )
        assert empty == (not has_text)
    body = response("openai/chat_gpt5nano_reasoning_tokens.yaml", 0)
    nano = Workload("checkout", "openai", body["model"])
    tokens = body["usage"]["completion_tokens"]
    captured = call(nano, output_tokens=tokens, extra={"gen_ai.output.messages": raw})
    assert flagged(captured) == [["empty_completion"] if empty else []]
