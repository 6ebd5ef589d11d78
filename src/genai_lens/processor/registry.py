"""Stage name → stage class, imported lazily so a missing or broken stage module only matters if configured.

``genai-lens serve`` builds its pipeline from names in the config; an unknown name or a stage module that
cannot be imported is a config error naming the processor, not a crash at import time. A name of the form
``package.module:Class`` loads that class directly (third-party stages; the server tests' own stages).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from genai_lens.processor.pipeline import Pipeline
from genai_lens.processor.stage import Stage, StageConfigError, StageContext

STAGES: dict[str, str] = {
    "normalize": "genai_lens.processor.normalize:NormalizeStage",
    "redact": "genai_lens.processor.redact:RedactStage",
    "cost": "genai_lens.processor.cost:CostStage",
    "anomaly": "genai_lens.processor.anomaly:AnomalyStage",
}


def register_stage(name: str, target: str) -> None:
    """Add a stage under ``name`` (``"package.module:Class"``) — for plugins and test-only stages."""
    STAGES[name] = target


def stage_class(name: str) -> type[Stage]:
    """Import the class registered as ``name``; raise :class:`StageConfigError` saying why it is unusable."""
    target = STAGES.get(name) or (name if ":" in name else None)  # "package.module:Class" names a plugin
    if target is None:
        raise StageConfigError(f"processor '{name}': unknown processor (known: {', '.join(sorted(STAGES))})")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StageConfigError(
            f"processor '{name}': cannot import {module_name} ({type(exc).__name__}: {exc})"
        ) from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Stage)):
        raise StageConfigError(f"processor '{name}': {target} is not a Stage class")
    return cls


def build_pipeline(specs: Sequence[tuple[str, Mapping[str, Any]]], context: StageContext) -> Pipeline:
    """Build every stage in order; collect all stage errors so one run of ``validate`` shows them all."""
    stages: list[Stage] = []
    errors: list[str] = []
    for name, config in specs:
        try:
            stage = stage_class(name).from_config(config, context)
        except StageConfigError as exc:
            errors.append(str(exc))
            continue
        except Exception as exc:  # a stage's own bug while reading its config is still a config-time error
            errors.append(f"processor '{name}': failed to build ({type(exc).__name__}: {exc})")
            continue
        stages.append(stage)
    if errors:
        for stage in stages:
            stage.close()
        raise StageConfigError("\n".join(errors))
    return Pipeline(stages)
