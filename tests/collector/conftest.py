"""Fixtures for the collector tests: the built collector binary and factories for the middle tier."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_harness import (
    BUILD_SCRIPT,
    CONFIG_DIR,
    Collector,
    GenaiLensServe,
    JaegerBackend,
    Middle,
    PassthroughCollector,
    release_ports,
)

# A cold build (empty Go caches) takes minutes; it runs once per session inside the first test's setup.
BUILD_TIMEOUT_S = 1500


def build(*args: str) -> Path:
    """Run build-otelcol (cached) and return the binary it printed last; fail the test, never skip."""
    command = [str(BUILD_SCRIPT), *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"could not run {' '.join(command)}: {exc}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed with exit code {result.returncode}:\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    lines = result.stdout.strip().splitlines()
    binary = Path(lines[-1]) if lines else Path()
    if not lines or not binary.is_file():
        pytest.fail(
            f"{' '.join(command)} did not print a binary path (stdout: {result.stdout!r})", pytrace=False
        )
    return binary


@pytest.fixture(autouse=True)
def _port_reservations() -> Iterator[None]:
    """Ports picked by a test stay reserved until its processes are stopped (autouse: torn down last)."""
    yield
    release_ports()


@pytest.fixture(scope="session")
def otelcol_binary() -> Path:
    """The collector built from collector-config/builder-config.yaml (cached)."""
    return build()


@pytest.fixture(scope="session")
def jaeger_binary() -> Path:
    """Jaeger v2 built from collector-config/jaeger/go.mod (cached)."""
    return build("--jaeger")


@pytest.fixture(params=["passthrough-collector", "genai-lens-serve"])
def middle_factory(request: pytest.FixtureRequest, otelcol_binary: Path, tmp_path: Path) -> Iterator:
    """Builds the tier between the two pipelines: a plain forwarding collector (the control group that
    proves the collector side) or ``genai-lens serve``. Everything started is stopped at teardown."""
    started: list[Middle] = []

    def make(name: str, forward_to: str) -> Middle:
        middle: Middle
        if request.param == "genai-lens-serve":
            middle = GenaiLensServe(tmp_path, name, forward_to)
        else:
            middle = PassthroughCollector(otelcol_binary, tmp_path, name, forward_to)
        started.append(middle)
        return middle

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for middle in started:
        middle.stop()


@pytest.fixture
def start_collector(otelcol_binary: Path, tmp_path: Path) -> Iterator:
    """Start the built collector on a shipped config; stopped at teardown."""
    started: list[Collector] = []

    def start(
        config: str, env: dict[str, str], overlay: dict | None = None, name: str = "agent"
    ) -> Collector:
        collector = Collector(otelcol_binary, CONFIG_DIR / config, env, tmp_path, overlay=overlay, name=name)
        started.append(collector)
        collector.start()
        return collector

    yield start
    for collector in started:
        collector.stop()


@pytest.fixture
def jaeger(jaeger_binary: Path, tmp_path: Path) -> Iterator[JaegerBackend]:
    """A running Jaeger v2 (in-memory store) on loopback ports; stopped at teardown."""
    backend = JaegerBackend(jaeger_binary, tmp_path)
    backend.start()
    yield backend
    backend.stop()
