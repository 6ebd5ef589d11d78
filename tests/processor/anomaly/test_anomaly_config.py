"""Bad anomaly configuration fails at start-up with a message naming the key."""

from __future__ import annotations

import pytest

from genai_lens.processor.anomaly import AnomalyStage
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageConfigError, StageContext


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"max_key": 10}, "unknown key(s) max_key"),
        ({"max_keys": 0}, "max_keys must be an integer >= 1"),
        ({"max_keys": 2.5}, "max_keys must be an integer >= 1"),
        ({"min_samples": 1}, "min_samples must be an integer >= 3"),
        ({"min_samples": True}, "min_samples must be an integer >= 3"),
        ({"threshold": 0}, "threshold must be a number > 0"),
        ({"threshold": "high"}, "threshold must be a number > 0"),
        ({"alpha": 1.5}, "alpha must be a number > 0.0 and <= 1.0"),
        ({"alpha": float("nan")}, "alpha must be a number"),
        ({"snapshot_interval_s": -1}, "snapshot_interval_s must be a number > 0"),
        ({"state_path": ""}, "state_path must be a file path"),
        ({"state_path": 3}, "state_path must be a file path"),
    ],
)
def test_bad_config(config, message):
    with pytest.raises(StageConfigError) as error:
        AnomalyStage.from_config(config, StageContext())
    assert message in str(error.value) and "processor 'anomaly'" in str(error.value)


def test_state_path_that_is_a_directory(tmp_path):
    with pytest.raises(StageConfigError, match="is a directory"):
        AnomalyStage.from_config({"state_path": str(tmp_path)}, StageContext())


def test_registry_builds_the_stage_with_every_key(tmp_path):
    config = {
        "max_keys": 100,
        "min_samples": 20,
        "threshold": 5,
        "alpha": 0.05,
        "snapshot_interval_s": 30,
        "state_path": str(tmp_path / "b.json"),
    }
    pipeline = build_pipeline([("anomaly", config)], StageContext())
    (stage,) = pipeline.stages
    assert isinstance(stage, AnomalyStage) and stage.store.max_keys == 100
