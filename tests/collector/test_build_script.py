"""collector-config/build-otelcol: cache keyed on its inputs, path on the last line, clear failures."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from collector_harness import BUILD_SCRIPT, BUILDER_MANIFEST, CONFIG_DIR

pytestmark = pytest.mark.timeout(2400)  # fixtures may trigger cold builds
# What the script runs before it needs Go (resolved from this machine's PATH into a Go-free PATH).
TOOLS_BEFORE_GO = ["bash", "dirname", "sed", "head", "sha256sum", "cut", "cat"]


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUILD_SCRIPT), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_collector_cache_dir_is_keyed_on_the_manifest_hash(otelcol_binary: Path) -> None:
    digest = hashlib.sha256(BUILDER_MANIFEST.read_bytes()).hexdigest()[:16]
    assert otelcol_binary.parent.name == f"otelcol-{digest}"
    assert otelcol_binary.name == "otelcol-genai-lens"
    assert (otelcol_binary.parent / "builder-config.yaml").read_bytes() == BUILDER_MANIFEST.read_bytes()
    assert not otelcol_binary.is_relative_to(CONFIG_DIR.parent), "the build cache must live outside the repo"


def test_second_run_reuses_the_cached_binary(otelcol_binary: Path) -> None:
    before = otelcol_binary.stat().st_mtime_ns
    result = run_script()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(otelcol_binary)
    assert "cached" in result.stderr
    assert otelcol_binary.stat().st_mtime_ns == before


def test_built_collector_reports_the_pinned_components(otelcol_binary: Path) -> None:
    result = subprocess.run([str(otelcol_binary), "components"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for module in (
        "otlpreceiver",
        "loadbalancingexporter",
        "fileexporter",
        "filestorage",
        "redactionprocessor",
    ):
        assert f"{module} v0.161.0" in result.stdout
    for scheme in ("env", "file", "yaml"):
        assert f"scheme: {scheme}" in result.stdout


def test_jaeger_cache_dir_is_keyed_on_go_mod_and_go_sum(jaeger_binary: Path) -> None:
    inputs = (CONFIG_DIR / "jaeger" / "go.mod").read_bytes() + (CONFIG_DIR / "jaeger" / "go.sum").read_bytes()
    assert jaeger_binary.parent.name == f"jaeger-{hashlib.sha256(inputs).hexdigest()[:16]}"
    result = run_script("--jaeger")
    assert result.returncode == 0 and result.stdout.strip().splitlines()[-1] == str(jaeger_binary)


def test_missing_go_is_a_clear_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS_BEFORE_GO:
        found = shutil.which(tool)
        assert found is not None, f"{tool} not on PATH"
        (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    result = run_script(env=env)
    assert result.returncode != 0
    assert "Go is not installed or not on PATH" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "empty-cache").exists(), "nothing is created when the build cannot start"


def test_unknown_argument_is_rejected() -> None:
    result = run_script("--jager")
    assert result.returncode != 0
    assert "unknown argument: --jager" in result.stderr


def test_script_is_executable() -> None:
    assert os.access(BUILD_SCRIPT, os.X_OK)
