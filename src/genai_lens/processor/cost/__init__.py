"""The ``cost`` processor stage: USD cost of GenAI calls from genai-prices or the user's overrides."""

from genai_lens.processor.cost.stage import CostStage

__all__ = ["CostStage"]
