"""Patch a library when it is imported, not when the instrumentor starts.

``opentelemetry-instrument`` instruments every installed library at startup; importing llama-index,
chromadb, qdrant-client and langchain-core just to patch them would add seconds to every process, used or
not. ``when_imported`` applies the patch at once if the module is already loaded, else from a post-import
hook. A hook that fires after ``uninstrument`` (or for an older ``instrument``) does nothing: each
instrumentation gets a fresh ``Activation`` and the hook checks it is still the live one.

``LazyInstrumentor`` is the base of the RAG/framework instrumentors built on that. Its state lives from
``instrument()`` to ``uninstrument()``, never from ``__init__``: ``BaseInstrumentor`` is a singleton whose
``__init__`` runs again on every ``XInstrumentor()``, so ``XInstrumentor().uninstrument()`` must still find
what the earlier ``XInstrumentor().instrument()`` patched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens.instrumentation._genai import Patches, report_internal_error

Wrapper = Callable[[Callable[..., Any], Any, Any, Any], Any]


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


class LazyInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """An instrumentor whose patches wait for their library's import; subclasses give ``_start``/``_stop``."""

    _instruments: tuple[str, ...] = ()
    _patches: Patches | None = None
    _activation: Activation | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return self._instruments

    def _instrument(self, **kwargs: Any) -> None:
        self._patches = Patches()
        self._activation = Activation()
        self._start(**kwargs)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._activation is not None:
            self._activation.active = False  # hooks still waiting for an import now do nothing
        try:
            self._stop()
        finally:
            if self._patches is not None:
                self._patches.unwrap_all()

    def _start(self, **kwargs: Any) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        """Undo what ``_start`` did besides the patches (which are undone for it)."""

    def when_imported(self, module: str, apply: Callable[[], Any]) -> None:
        """``apply()`` once ``module`` is imported, unless this instrumentation has ended by then."""
        assert self._activation is not None, "only from _start"
        when_imported(module, self._activation, apply)

    def wrap_when_imported(self, module: str, wrappers: Mapping[str, Wrapper]) -> None:
        """Wrap ``module``'s ``"Class.method"`` attributes (the keys) once ``module`` is imported."""
        patches = self._patches
        assert patches is not None, "only from _start"

        def apply() -> None:
            for attribute, wrapper in wrappers.items():
                patches.wrap(module, attribute, wrapper)

        self.when_imported(module, apply)
