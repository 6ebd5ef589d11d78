"""Generated semconv.py and attributes.md must match the registry; the stale check must be able to fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR_PATH = REPO_ROOT / "conventions" / "generate.py"


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR_PATH), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_generated_files_are_up_to_date() -> None:
    result = run_generator("--check")
    assert result.returncode == 0, (
        f"generated files are stale; run `python conventions/generate.py`\n{result.stderr}"
    )
    assert "up to date" in result.stdout


def test_check_fails_when_the_registry_changes(
    tmp_path: Path, registry_copy: Path, generator: ModuleType
) -> None:
    out_root = tmp_path / "out"
    written = run_generator("--registry", str(registry_copy), "--out-root", str(out_root))
    assert written.returncode == 0, written.stderr
    assert (
        run_generator("--check", "--registry", str(registry_copy), "--out-root", str(out_root)).returncode
        == 0
    )

    model_file = registry_copy / "model" / "genai_lens.yaml"
    document = yaml.safe_load(model_file.read_text(encoding="utf-8"))
    stream_group = next(g for g in document["groups"] if g["id"] == "registry.genai_lens.stream")
    stream_group["attributes"][0]["type"]["members"].append(
        {
            "id": "cancelled",
            "value": "cancelled",
            "brief": "The task reading the stream was cancelled.",
            "stability": "development",
        }
    )
    model_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    stale = run_generator("--check", "--registry", str(registry_copy), "--out-root", str(out_root))
    assert stale.returncode == 1
    assert "src/genai_lens/semconv.py" in stale.stderr
    assert "conventions/attributes.md" in stale.stderr
    assert "python conventions/generate.py" in stale.stderr

    rendered = generator.render_all(registry_copy)
    assert 'CANCELLED = "cancelled"' in rendered[Path("src/genai_lens/semconv.py")]
    assert "| `cancelled` |" in rendered[Path("conventions/attributes.md")]
    assert rendered[Path("src/genai_lens/semconv.py")] != (out_root / "src/genai_lens/semconv.py").read_text()


def test_check_fails_when_a_generated_file_is_hand_edited(tmp_path: Path, registry_copy: Path) -> None:
    out_root = tmp_path / "out"
    assert run_generator("--registry", str(registry_copy), "--out-root", str(out_root)).returncode == 0
    markdown = out_root / "conventions" / "attributes.md"
    markdown.write_text(markdown.read_text(encoding="utf-8") + "\nA hand-written line.\n", encoding="utf-8")

    result = run_generator("--check", "--registry", str(registry_copy), "--out-root", str(out_root))
    assert result.returncode == 1
    assert "conventions/attributes.md" in result.stderr
    assert "semconv.py" not in result.stderr


def test_check_fails_when_a_generated_file_is_missing(tmp_path: Path, registry_copy: Path) -> None:
    result = run_generator("--check", "--registry", str(registry_copy), "--out-root", str(tmp_path / "empty"))
    assert result.returncode == 1
    assert "src/genai_lens/semconv.py" in result.stderr


def test_invalid_registry_is_reported_without_writing(tmp_path: Path, registry_copy: Path) -> None:
    model_file = registry_copy / "model" / "genai_lens.yaml"
    model_file.write_text(model_file.read_text(encoding="utf-8").replace("type: double", "type: float", 1))
    out_root = tmp_path / "out"

    result = run_generator("--registry", str(registry_copy), "--out-root", str(out_root))

    assert result.returncode == 2
    assert "unknown type 'float'" in result.stderr
    assert not out_root.exists()


def test_output_is_deterministic(generator: ModuleType) -> None:
    assert generator.render_all() == generator.render_all()


def test_generated_python_is_ruff_clean(tmp_path: Path, generator: ModuleType) -> None:
    """pyproject excludes semconv.py from ruff (it is generated), so lint it here with the project rules."""
    target = tmp_path / "semconv.py"
    target.write_text(generator.render_all()[Path("src/genai_lens/semconv.py")], encoding="utf-8")
    config = ["--config", str(REPO_ROOT / "pyproject.toml")]
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *config, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *config, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
