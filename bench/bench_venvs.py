"""Isolated virtualenvs for the overhead benchmark: one per (peer, openai major), never the project's .venv.

Each venv is built from pinned requirement files in ``bench/peers/`` (``openai<major>.txt`` shared by every
peer, plus ``<peer>.txt``) and rebuilt only when those files change (a stamp file holds their hash).
genai-lens is installed editable from this checkout, so the benchmark always measures the working tree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_ROOT = Path(__file__).resolve().parent
REPO_ROOT = BENCH_ROOT.parent
PEERS_DIR = BENCH_ROOT / "peers"
PROJECT_PEER = "genai-lens"
_STAMP = ".bench-stamp"


def bench_dir() -> Path:
    """Where venvs, fixtures and results live (``$GENAI_LENS_BENCH_DIR`` or ``~/.cache/genai-lens/bench``)."""
    configured = os.environ.get("GENAI_LENS_BENCH_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "genai-lens" / "bench"


def requirement_files(peer: str, openai_major: str) -> list[Path]:
    files = [PEERS_DIR / f"openai{openai_major}.txt", PEERS_DIR / f"{peer}.txt"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SystemExit(f"missing requirement file(s): {', '.join(missing)}")
    return files


def _stamp(files: list[Path], editable: bool) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    if editable:  # dependency changes of the project itself also need a reinstall
        digest.update((REPO_ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(peer: str, openai_major: str, log: bool = True) -> Path:
    """Return the python of the peer's venv, creating or rebuilding it when its requirements changed."""
    venv = bench_dir() / f"venv-{peer}-openai{openai_major}"
    files = requirement_files(peer, openai_major)
    editable = peer == PROJECT_PEER
    stamp = _stamp(files, editable)
    stamp_file = venv / _STAMP
    if stamp_file.is_file() and stamp_file.read_text() == stamp and venv_python(venv).exists():
        return venv_python(venv)
    if log:
        print(f"[setup] building {venv.name} (first time or requirements changed) ...", flush=True)
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = [str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for path in files:
        command += ["-r", str(path)]
    if editable:
        command += ["-e", str(REPO_ROOT)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"pip failed for {venv.name}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    stamp_file.write_text(stamp)
    return venv_python(venv)
