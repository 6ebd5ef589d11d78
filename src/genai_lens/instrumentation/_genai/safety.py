"""Keep instrumentation failures out of the user's call path.

Anything that goes wrong inside genai-lens code is logged (exception type and where, never message text,
which could carry prompt content) and swallowed. The user's own exceptions are never caught here: wrappers
call the wrapped function outside of these guards.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger("genai_lens.instrumentation")

_F = TypeVar("_F", bound=Callable[..., Any])
_reported: set[str] = set()


def report_internal_error(where: str, exc: BaseException) -> None:
    """Log an internal failure: a warning the first time per place, debug afterwards."""
    message = "genai-lens instrumentation error in %s (%s); the call itself was not affected"
    if where in _reported:
        logger.debug(message, where, type(exc).__qualname__)
    else:
        _reported.add(where)
        logger.warning(message, where, type(exc).__qualname__)


def never_raise(default: Any = None) -> Callable[[_F], _F]:
    """Decorate an instrumentation helper so an error inside it returns ``default`` instead of raising."""

    def decorate(func: _F) -> _F:
        where = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                report_internal_error(where, exc)
                return default

        return guarded  # type: ignore[return-value]

    return decorate
