"""Apply and undo wrapt patches by dotted name, tolerating attributes that an SDK version lacks."""

from __future__ import annotations

import importlib
from typing import Any

import wrapt

from genai_lens.instrumentation._genai.safety import logger

_MISSING = object()


class Patches:
    """The patches one instrumentor applied, so ``uninstrument`` restores the originals exactly."""

    __slots__ = ("_applied",)

    def __init__(self) -> None:
        self._applied: list[tuple[Any, str, Any]] = []

    def wrap(self, module: str, qualname: str, wrapper: Any) -> bool:
        """Wrap ``module.qualname`` (e.g. ``"Completions.create"``); False when it does not exist."""
        try:
            owner: Any = importlib.import_module(module)
            *path, name = qualname.split(".")
            for part in path:
                owner = getattr(owner, part)
        except (ImportError, AttributeError):
            logger.debug("genai-lens: %s.%s not found, not instrumented", module, qualname)
            return False
        if not hasattr(owner, name):
            logger.debug("genai-lens: %s.%s not found, not instrumented", module, qualname)
            return False
        if any(o is owner and n == name for o, n, _ in self._applied):
            return True  # same class reachable under two module paths
        original = vars(owner).get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        wrapt.wrap_function_wrapper(owner, name, wrapper)
        self._applied.append((owner, name, original))
        return True

    def unwrap_all(self) -> None:
        """Put back exactly what was there before (or remove an attribute we added to a subclass)."""
        while self._applied:
            owner, name, original = self._applied.pop()
            if original is _MISSING:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
            else:
                setattr(owner, name, original)

    def __len__(self) -> int:
        return len(self._applied)
