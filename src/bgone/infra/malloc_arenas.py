"""How many malloc arenas glibc may give this process's threads.

glibc gives threads arenas of their own, up to eight per core, so that they rarely share a
lock; memory freed in one arena is not reused by another. A worker's model threads, decoder
and encoder each allocate and free a 12 MP photo's arrays (tens of MB apiece) in whichever
arena they hold, so the process's peak grew with the arenas in play: 1005-1049 MB on six
12 MP items, 871-925 MB with two arenas, in the same time (`bgone worker`, 2 cores). Two is
the figure commonly advised for threaded Python servers. `mallopt` applies to the arenas
made after it, so the commands call this before starting any thread of their own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int) -> bool:
    """At most `arenas` arenas from now on (0: glibc's default); False where there is no
    glibc (musl, macOS), which has no such setting and changes nothing."""
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, arenas) != 1:
        log.warning("mallopt(M_ARENA_MAX, %d) was refused", arenas)
        return False
    return True
