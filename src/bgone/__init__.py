"""bgone: self-hostable background removal.

`bgone.remove(data, options)` is the library entry point; it loads the default engine
lazily on first call (importing this package does no work).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from bgone.inference.options import RemovalOptions
    from bgone.inference.pipeline import RemovalResult, Remover
    from bgone.settings import Settings

__all__ = ["remove"]
__version__ = "0.1.0"

_default_remover: Remover | None = None
_default_lock = threading.Lock()


def remove(
    source: bytes | Image.Image,
    options: RemovalOptions | None = None,
    settings: Settings | None = None,
) -> RemovalResult:
    """Remove the background of one image (bytes or PIL image)."""
    from bgone.inference.engine_config import EngineConfig
    from bgone.inference.pipeline import Remover
    from bgone.settings import Settings

    global _default_remover
    if settings is not None:
        return Remover(EngineConfig.from_settings(settings)).remove(source, options)
    with _default_lock:
        if _default_remover is None:
            _default_remover = Remover(EngineConfig.from_settings(Settings()))
    return _default_remover.remove(source, options)
