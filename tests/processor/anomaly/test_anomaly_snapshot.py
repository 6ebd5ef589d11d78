"""Baselines survive a restart: snapshot on close and periodically, atomic, corrupt files ignored."""

from __future__ import annotations

import json
import logging
import random

import pytest
from anomaly_spans import WORKLOADS, Recorder, draw

from genai_lens.processor.anomaly import AnomalyStage
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import GENAI_LENS_ANOMALY_FLAGS


def warmed_stage(path, n: int = 80, **config) -> AnomalyStage:
    rng = random.Random(1)
    anomaly = AnomalyStage.from_config({"state_path": str(path), **config}, StageContext())
    recorder = Recorder()
    for _ in range(n):
        recorder.add(draw(WORKLOADS[0], rng))
    anomaly.process_batch(recorder.views())
    return anomaly


def one_outlier():
    call = draw(WORKLOADS[0], random.Random(2))
    call.duration_s = WORKLOADS[0].latency_s * 30
    recorder = Recorder()
    recorder.add(call)
    return recorder.views()


def test_restart_restores_baselines_and_flags_immediately(tmp_path):
    path = tmp_path / "state" / "baselines.json"
    first = warmed_stage(path)
    first.close()
    assert path.exists() and not [
        p for p in path.parent.iterdir() if p.name != path.name
    ]  # no temp files left

    restarted = AnomalyStage.from_config({"state_path": str(path)}, StageContext())
    views = one_outlier()
    restarted.process_batch(views)

    assert "latency_outlier" in views[0].get(GENAI_LENS_ANOMALY_FLAGS)
    old = next(iter(first.store._keys.values()))["latency"]
    new = next(iter(restarted.store._keys.values()))["latency"]
    assert new.count == old.count + 1


def test_without_the_snapshot_the_same_span_is_not_flagged(tmp_path):
    fresh = AnomalyStage.from_config({"state_path": str(tmp_path / "none.json")}, StageContext())
    views = one_outlier()
    fresh.process_batch(views)
    assert views[0].get(GENAI_LENS_ANOMALY_FLAGS) is None


def test_periodic_snapshot_is_written_while_running(tmp_path):
    path = tmp_path / "baselines.json"
    anomaly = warmed_stage(path, snapshot_interval_s=0.000001)
    document = json.loads(path.read_text())
    assert document["format"] == "genai-lens-anomaly-baselines" and len(document["keys"]) == 1
    assert anomaly.store._keys  # still serving


def test_state_dir_from_the_context_is_the_default_location(tmp_path):
    anomaly = AnomalyStage.from_config({}, StageContext(state_dir=tmp_path))
    recorder = Recorder()
    recorder.add(draw(WORKLOADS[1], random.Random(4)))
    anomaly.process_batch(recorder.views())
    anomaly.close()
    assert (tmp_path / "anomaly-baselines.json").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff not json",
        b'{"format": "genai-lens-anomaly-baselines", "version": 1, "keys": [',
        json.dumps({"format": "genai-lens-anomaly-baselines", "version": 0, "keys": []}).encode(),
        json.dumps({"format": "something-else", "version": 1, "keys": []}).encode(),
        json.dumps(
            {"format": "genai-lens-anomaly-baselines", "version": 1, "keys": [{"key": ["a"], "metrics": {}}]}
        ).encode(),
        json.dumps(
            {
                "format": "genai-lens-anomaly-baselines",
                "version": 1,
                "keys": [{"key": ["s", "p", "m", "m", "chat"], "metrics": {"latency": [3, "x", 1.0, None]}}],
            }
        ).encode(),
    ],
    ids=["binary", "truncated", "old-version", "other-format", "short-key", "bad-number"],
)
def test_corrupt_or_old_snapshot_starts_fresh_with_a_warning(tmp_path, caplog, content):
    path = tmp_path / "baselines.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="genai_lens.processor.anomaly"):
        anomaly = warmed_stage(path, n=40)
    assert "starting fresh" in caplog.text
    assert len(anomaly.store) == 1  # works from scratch
    anomaly.close()
    assert json.loads(path.read_text())["version"] == 1  # replaced by a good snapshot


def test_unwritable_state_path_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    anomaly = warmed_stage(blocker / "baselines.json", n=5)
    with caplog.at_level(logging.WARNING, logger="genai_lens.processor.anomaly"):
        anomaly.close()
    assert "cannot write baseline snapshot" in caplog.text


def test_snapshot_respects_max_keys_on_restore(tmp_path):
    path = tmp_path / "baselines.json"
    rng = random.Random(8)
    big = AnomalyStage.from_config({"state_path": str(path), "max_keys": 50}, StageContext())
    recorder = Recorder()
    for k in range(20):
        workload = type(WORKLOADS[0])(**{**WORKLOADS[0].__dict__, "model": f"m{k}"})
        recorder.add(draw(workload, rng))
    big.process_batch(recorder.views())
    big.close()
    small = AnomalyStage.from_config({"state_path": str(path), "max_keys": 5}, StageContext())
    assert [key[2] for key in small.store._keys] == [f"m{k}" for k in range(15, 20)]
