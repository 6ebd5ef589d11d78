"""The ``anomaly`` processor stage: per-key robust baselines and categorical flags on GenAI spans."""

from genai_lens.processor.anomaly.stage import AnomalyStage

__all__ = ["AnomalyStage"]
