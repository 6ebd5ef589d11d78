"""Bad cost configuration fails at start-up with a message naming the key, file, entry and field."""

from __future__ import annotations

import pytest

from genai_lens.processor.cost import CostStage
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageConfigError, StageContext


def build(config: dict) -> CostStage:
    return CostStage.from_config(config, StageContext())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"overides_file": "x.yaml"}, "unknown key(s) overides_file"),
        ({"cache_size": 0}, "cache_size must be a positive integer"),
        ({"cache_size": "big"}, "cache_size must be a positive integer"),
        ({"cache_size": True}, "cache_size must be a positive integer"),
        ({"overrides_file": 42}, "overrides_file must be a path"),
        ({"overrides_file": ""}, "overrides_file must be a path"),
    ],
)
def test_bad_stage_config(config, message):
    with pytest.raises(StageConfigError) as error:
        build(config)
    assert message in str(error.value) and "processor 'cost'" in str(error.value)


def test_missing_overrides_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(StageConfigError, match=r"nope\.yaml.*cannot be read"):
        build({"overrides_file": str(missing)})


GOOD = "  - model: m\n    input_mtok: 1\n    output_mtok: 2\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: [", "is not valid YAML"),
        ("- model: m\n", "exactly one key 'prices'"),
        ("prices: {}\n", "'prices' must be a list"),
        ("prices:\n  - just-a-string\n", r"prices\[0\]: must be a mapping"),
        ("prices:\n" + GOOD + "  - model: n\n    input_mtok: 1\n", r"prices\[1\]: missing 'output_mtok'"),
        (
            "prices:\n  - model: m\n    input_mtok: -1\n    output_mtok: 2\n",
            r"prices\[0\]: 'input_mtok' must be a non-neg",
        ),
        (
            "prices:\n  - model: m\n    input_mtok: '1'\n    output_mtok: 2\n",
            "'input_mtok' must be a non-negative",
        ),
        (
            "prices:\n  - model: m\n    input_mtok: .nan\n    output_mtok: 2\n",
            "'input_mtok' must be a non-negative",
        ),
        (
            "prices:\n  - model: ''\n    input_mtok: 1\n    output_mtok: 2\n",
            "'model' must be a non-empty string",
        ),
        ("prices:\n" + GOOD + "    cache_mtok: 1\n", r"unknown key\(s\) cache_mtok"),
        ("prices:\n" + GOOD + "    valid_from: someday\n", "'valid_from' must be an ISO date"),
        ("prices:\n" + GOOD + "    provider: 7\n", "'provider' must be a non-empty string"),
        ("prices:\n" + GOOD + GOOD, r"prices\[1\] repeats model 'm'"),
    ],
)
def test_bad_overrides_file(tmp_path, text, message):
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(StageConfigError, match=message) as error:
        build({"overrides_file": str(path)})
    assert "prices.yaml" in str(error.value)


def test_registry_reports_cost_errors_at_build_time(tmp_path):
    with pytest.raises(StageConfigError, match="processor 'cost'"):
        build_pipeline([("cost", {"bogus": 1})], StageContext())


def test_valid_overrides_file_loads(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text(
        "prices:\n"
        + GOOD
        + "  - model: m\n    input_mtok: 3\n    output_mtok: 4\n    valid_from: 2026-01-01T06:00:00+02:00\n"
    )
    stage = build({"overrides_file": str(path), "cache_size": 16})
    assert isinstance(stage, CostStage)
