"""Load VCR.py cassettes into plain interaction records the replay server can serve.

Bodies come in three encodings (see shared/cassettes/PROVENANCE.md): gzip bytes stored as YAML ``!!binary``,
plain strings (JSON or SSE), and raw binary frames. We decode gzip once here so the server can always send
an identity-encoded body with a correct Content-Length, whatever client library is on the other side.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

try:  # the C loader is ~10x faster on the larger cassettes
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

# Headers that describe the original connection or encoding, never the payload we re-serve.
_DROPPED_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "te",
        "trailer",
        "upgrade",
        "set-cookie",
        "date",
        "server",
    }
)


class CassetteError(ValueError):
    """A cassette file could not be read or has an unexpected shape."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One recorded request/response pair, with the response body already decoded to identity bytes."""

    source: str
    index: int
    method: str
    path: str
    query: str
    request_json: Any
    request_body: bytes
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    is_event_stream: bool = field(default=False)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    # contrib cassettes sometimes store parsed JSON objects
    return json.dumps(value).encode("utf-8")


def _response_body(raw: Any, encodings: list[str]) -> bytes:
    if isinstance(raw, dict):
        raw = raw.get("string", raw.get("base64_string"))
    body = _as_bytes(raw)
    if body[:2] == b"\x1f\x8b" or any("gzip" in e.lower() for e in encodings):
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            pass  # header says gzip but the recorder stored it decoded already
    return body


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _interaction(source: str, index: int, raw: dict[str, Any]) -> Interaction:
    request = raw["request"]
    response = raw["response"]
    url = urlsplit(request["uri"])
    raw_headers: dict[str, Any] = response.get("headers") or {}
    encodings: list[str] = []
    headers: list[tuple[str, str]] = []
    for name, values in raw_headers.items():
        values = values if isinstance(values, list) else [values]
        if name.lower() == "content-encoding":
            encodings.extend(str(v) for v in values)
        if name.lower() in _DROPPED_HEADERS:
            continue
        headers.extend((name, str(v)) for v in values)
    request_body = _as_bytes(request.get("body"))
    status = response.get("status") or {}
    body = _response_body(response.get("body"), encodings)
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    return Interaction(
        source=source,
        index=index,
        method=str(request.get("method", "GET")).upper(),
        path=url.path or "/",
        query=url.query,
        request_json=_parse_json(request_body),
        request_body=request_body,
        status=int(status.get("code", 200)),
        reason=str(status.get("message", "")),
        headers=tuple(headers),
        body=body,
        is_event_stream="text/event-stream" in content_type.lower(),
    )


@functools.lru_cache(maxsize=256)
def _load_file(path: str, mtime_ns: int) -> tuple[Interaction, ...]:
    try:
        with open(path, "rb") as handle:
            document = yaml.load(handle, Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise CassetteError(f"cannot read cassette {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        raise CassetteError(f"{path} is not a VCR cassette (no 'interactions' list)")
    try:
        return tuple(_interaction(path, i, item) for i, item in enumerate(document["interactions"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CassetteError(f"{path}: malformed interaction: {exc!r}") from exc


def load_cassette(path: str | Path) -> tuple[Interaction, ...]:
    """Return the interactions recorded in one cassette file (cached per file version)."""
    resolved = Path(path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise CassetteError(f"cannot read cassette {path}: {exc}") from exc
    return _load_file(str(resolved), mtime)


def expand_paths(paths: str | Path | list[str | Path] | tuple[str | Path, ...]) -> list[Path]:
    """Accept one path or several; a directory stands for every ``*.yaml`` file inside it (sorted)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    result: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            result.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")))
        else:
            result.append(p)
    return result
