"""The PNG result's size with no colour under alpha 0 (what bgone writes) against the same
result with the photo's colours kept there (what it wrote before issue 14), and the time
each takes to encode with the server's encoder.

The "before" picture is rebuilt from the result itself: its alpha over the photo's own
colours, which is exactly the layer the compositor used to encode.
"""

from __future__ import annotations

import io
import statistics
import time

from PIL import Image

from bgone.inference.imageio import EncodeConfig, encode
from bgone.inference.pipeline import RemovalResult

ENCODE_RUNS = 3


def _encode_ms(image: Image.Image, encoding: EncodeConfig) -> tuple[int, float]:
    """Bytes and median milliseconds of encoding `image` as a PNG."""
    spent = []
    for _ in range(ENCODE_RUNS):
        started = time.perf_counter()
        data = encode(image, "png", None, encoding)
        spent.append(time.perf_counter() - started)
    return len(data), statistics.median(spent) * 1000


def png_before_after(photo: bytes, result: RemovalResult, encoding: EncodeConfig) -> str:
    """One line: the PNG now and as before, in MB, with both encode times."""
    now = Image.open(io.BytesIO(result.data))
    now.load()
    before = Image.open(io.BytesIO(photo)).convert("RGB")
    if now.mode != "RGBA" or before.size != now.size:  # only full-size cut-outs rebuild
        return f"PNG {len(result.data) / 1e6:.2f} MB"
    before.putalpha(now.getchannel("A"))
    now_bytes, now_ms = _encode_ms(now, encoding)
    before_bytes, before_ms = _encode_ms(before, encoding)
    change = (now_bytes / before_bytes - 1) * 100
    return (
        f"PNG {now_bytes / 1e6:.2f} MB, encode {now_ms:.0f} ms (with the photo under alpha 0, "
        f"as before issue 14: {before_bytes / 1e6:.2f} MB, {before_ms:.0f} ms; {change:+.0f}%)"
    )
