"""Loads conventions/generate.py (a script, not a package module) once for the conventions tests."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR_PATH = REPO_ROOT / "conventions" / "generate.py"


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("genai_lens_conventions_generate", GENERATOR_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def registry_copy(tmp_path: Path, generator: ModuleType) -> Path:
    """A scratch copy of the registry root (manifest + model files) that a test may edit."""
    copy = tmp_path / "registry"
    shutil.copytree(
        generator.REGISTRY_DIR,
        copy,
        ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"),
    )
    return copy
