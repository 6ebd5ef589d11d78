"""Fixtures for the serve tests: loopback backends and serve subprocesses that are always torn down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import GrpcBackend, HttpBackend, ServeProcess


@pytest.fixture
def http_backend() -> Iterator[HttpBackend]:
    backend = HttpBackend().start()
    yield backend
    backend.stop()


@pytest.fixture
def grpc_backend() -> Iterator[GrpcBackend]:
    backend = GrpcBackend().start()
    yield backend
    backend.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Factory for ``genai-lens serve`` subprocesses; every one is killed at teardown."""
    started: list[ServeProcess] = []

    def factory(
        config: dict[str, Any] | None, *args: str, start: bool = True, wait_for: str = "admin=", **kwargs: Any
    ) -> ServeProcess:
        process = ServeProcess(tmp_path, config, args, name=f"serve{len(started)}", **kwargs)
        started.append(process)
        return process.start(wait_for=wait_for) if start else process

    yield factory
    for process in started:
        process.kill()
