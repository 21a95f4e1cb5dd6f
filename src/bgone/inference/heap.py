"""Handing freed C-heap memory back to the system (glibc's malloc_trim).

Loading an ONNX model parses its file into temporary copies of the weights; once freed,
glibc keeps those pages in the process's heap for reuse, and nothing later reuses that
much. For IS-Net that is about 240 MB that the process would carry for its whole life,
on top of which every 12 MP request's peak stacks (bench.quality_timing best 12: 1537 MB
before, see the README's Quality section). Trimming once after each load returns them; it
changes no allocation after it, so it costs no speed on the serving path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    # musl and the BSD libcs have no malloc_trim: there, freed memory is theirs to manage.
    return library if hasattr(library, "malloc_trim") else None


def release_freed_heap() -> bool:
    """Return the heap's free pages to the system; False where the C library cannot."""
    library = _glibc()
    if library is None:
        return False
    library.malloc_trim(ctypes.c_size_t(0))
    return True
