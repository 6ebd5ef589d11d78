"""Patch a library when it is imported, not when the instrumentor starts.

``opentelemetry-instrument`` instruments every installed library at startup; importing llama-index,
chromadb, qdrant-client and langchain-core just to patch them would add seconds to every process, used or
not. ``when_imported`` applies the patch at once if the module is already loaded, else from a post-import
hook. A hook that fires after ``uninstrument`` (or for an older ``instrument``) does nothing: each
instrumentation gets a fresh ``Activation`` and the hook checks it is still the live one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import wrapt

from genai_lens.instrumentation._genai import report_internal_error


class Activation:
    """One ``instrument()`` .. ``uninstrument()`` period of an instrumentor."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = True


def when_imported(module: str, activation: Activation, apply: Callable[[], Any]) -> None:
    """Run ``apply()`` now if ``module`` is loaded, else right after it is first imported."""

    def run(_module: Any = None) -> None:
        if not activation.active:
            return
        try:
            apply()
        except Exception as exc:
            report_internal_error(f"lazy.{module}", exc)

    if module in sys.modules:
        run()
    else:
        wrapt.register_post_import_hook(run, module)
