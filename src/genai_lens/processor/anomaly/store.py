"""Baselines per key in a bounded LRU, and their on-disk snapshot.

A key is (service.name, provider, request model, response model, operation). Memory is bounded by
``max_keys``: the least recently seen key is dropped first. The snapshot is one JSON document written
atomically (temp file in the same directory, fsync, rename), so a crash leaves the old or the new file,
never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

from genai_lens.processor.anomaly.baseline import RobustBaseline

logger = logging.getLogger(__name__)

BaselineKey = tuple[str, str, str, str, str]
SNAPSHOT_FORMAT = "genai-lens-anomaly-baselines"
SNAPSHOT_VERSION = 1


class BaselineStore:
    """key → {metric name → baseline}, least recently used first."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._keys: OrderedDict[BaselineKey, dict[str, RobustBaseline]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def baselines(self, key: BaselineKey) -> dict[str, RobustBaseline]:
        """The key's baselines (created empty if new), marking it most recently used."""
        found = self._keys.get(key)
        if found is not None:
            self._keys.move_to_end(key)
            return found
        found = self._keys[key] = {}
        if len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return found

    # -- snapshot --------------------------------------------------------------------------------
    def to_document(self) -> dict[str, object]:
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "saved_at": datetime.now(timezone.utc).isoformat(),
            "keys": [
                {"key": list(key), "metrics": {name: b.to_state() for name, b in metrics.items()}}
                for key, metrics in self._keys.items()
            ],
        }

    def load_document(self, document: object) -> None:
        """Replace the contents with a snapshot; ``ValueError`` (contents untouched) when it is not one."""
        if not isinstance(document, dict) or document.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a genai-lens anomaly baseline snapshot")
        if document.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot version {document.get('version')!r}, expected {SNAPSHOT_VERSION}")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ValueError("snapshot 'keys' must be a list")
        loaded: OrderedDict[BaselineKey, dict[str, RobustBaseline]] = OrderedDict()
        for entry in entries[-self.max_keys :]:
            if not isinstance(entry, dict):
                raise ValueError("snapshot entry must be an object")
            key, metrics = entry.get("key"), entry.get("metrics")
            if not isinstance(key, list) or len(key) != 5 or not all(isinstance(k, str) for k in key):
                raise ValueError("snapshot key must be a list of 5 strings")
            if not isinstance(metrics, dict):
                raise ValueError("snapshot metrics must be an object")
            loaded[tuple(key)] = {str(n): RobustBaseline.from_state(s) for n, s in metrics.items()}  # type: ignore[index]
        self._keys = loaded

    def encode(self) -> bytes:
        return json.dumps(self.to_document(), separators=(",", ":")).encode()

    def save(self, path: Path) -> None:
        """Write the snapshot atomically; raises ``OSError`` on failure (the old file stays)."""
        write_atomically(path, self.encode())

    def restore(self, path: Path) -> bool:
        """Load ``path`` if it exists; a corrupt or old file is reported and the store starts empty."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            logger.warning("anomaly: cannot read baseline snapshot %s (%s); starting fresh", path, exc)
            return False
        try:
            self.load_document(json.loads(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            logger.warning("anomaly: ignoring baseline snapshot %s (%s); starting fresh", path, exc)
            return False
        return True


def write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
