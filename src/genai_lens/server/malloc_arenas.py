"""Caps glibc's malloc arenas so a thread-per-connection receiver does not hoard freed memory.

glibc gives busy threads their own arenas (up to 8 per core) and keeps freed blocks in them; with one
thread per OTLP/HTTP connection each handling megabyte-sized requests, that retained memory added about
25 MiB to peak RSS under overload in ``bench/serve_throughput.py`` (16 MiB queue, 8 senders) — more than
the queue itself. Two arenas keep RSS close to what the queue bounds; the GIL already serializes the
Python work, so allocator contention does not cost throughput. A ``MALLOC_ARENA_MAX`` set by the operator
wins; on a libc without ``mallopt`` (musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("genai_lens.server")

M_ARENA_MAX = -8  # from glibc's <malloc.h>
DEFAULT_ARENAS = 2


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Set glibc's arena limit (call before starting threads); return whether it was applied."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = mallopt(M_ARENA_MAX, arenas) == 1
    if not applied:
        log.debug("mallopt(M_ARENA_MAX, %d) was refused", arenas)
    return applied
