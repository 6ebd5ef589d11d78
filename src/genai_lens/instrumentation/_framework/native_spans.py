"""Notice provider SDKs' own spans (anthropic >= 2 records ``anthropic.messages.create`` with usage itself).

Those spans exist even when our anthropic instrumentor is off, so a framework model span around them must
defer to them like it defers to ours. One shared, reference-counted patch of the SDK's span starter serves
every framework instrumentor (LangChain and LlamaIndex may both be on), so uninstrumenting one never
removes the other's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from genai_lens.instrumentation._framework.lazy import Activation, when_imported
from genai_lens.instrumentation._genai import Patches, report_internal_error
from genai_lens.instrumentation._genai.model_call import current_scope

# where anthropic's client looks up the function that starts its call span
_ANTHROPIC_MODULE = "anthropic._base_client"
_ANTHROPIC_STARTER = "start_api_call_span"

_lock = threading.Lock()
_users = 0
_patches = Patches()
_activation = Activation()


def _note_native_span(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    span = wrapped(*args, **kwargs)
    try:
        scope = current_scope()
        if scope is not None and span is not None and span.is_recording():
            scope.native_provider_spans += 1
    except Exception as exc:
        report_internal_error("native_spans.anthropic", exc)
    return span


def acquire() -> None:
    """Start watching (first user patches the SDK)."""
    global _users, _activation
    with _lock:
        _users += 1
        if _users == 1:
            _activation = Activation()
            when_imported(
                _ANTHROPIC_MODULE,
                _activation,
                lambda: _patches.wrap(_ANTHROPIC_MODULE, _ANTHROPIC_STARTER, _note_native_span),
            )


def release() -> None:
    """Stop watching (last user restores the SDK)."""
    global _users
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0:
            _activation.active = False
            _patches.unwrap_all()
