"""Undoing a download's Content-Encoding with a bound on the output.

httpx inflates each received chunk whole before anyone can count the bytes, so a small
gzip bomb becomes hundreds of megabytes at once. Here zlib is asked for at most one byte
more than still fits, which tells "too large" without ever inflating the rest.
"""

from __future__ import annotations

import zlib

from bgone.errors import FailedImageDownload, FileTooLarge

# zlib window bits per Content-Encoding: gzip framing, zlib framing ("deflate").
DECODER_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 15}


class CappedDecoder:
    """Undoes one Content-Encoding, never producing more than `max_bytes` in all."""

    def __init__(self, encoding: str, max_bytes: int, failed: type[FailedImageDownload]) -> None:
        self.max_bytes = max_bytes
        self.failed = failed
        self.produced = 0
        names = [part.strip().lower() for part in encoding.split(",") if part.strip()]
        names = [name for name in names if name != "identity"]
        if len(names) > 1 or (names and names[0] not in DECODER_WBITS):
            raise failed(
                f"The image URL answered with Content-Encoding {encoding!r}; "
                "send the image unencoded or gzip-compressed."
            )
        self._zlib = zlib.decompressobj(DECODER_WBITS[names[0]]) if names else None

    def feed(self, data: bytes) -> bytes:
        room = self.max_bytes - self.produced
        if self._zlib is None:
            output = data
        else:
            try:
                # Asking for one byte more than fits tells "too large" without inflating it.
                output = self._zlib.decompress(data, room + 1)
            except zlib.error as error:
                raise self.failed(f"The compressed download is corrupt: {error}.") from None
        return self._counted(output)

    def finish(self) -> bytes:
        """Whatever the decompressor still holds, once the body has ended."""
        return self._counted(self._zlib.flush() if self._zlib is not None else b"")

    def _counted(self, output: bytes) -> bytes:
        self.produced += len(output)
        if self.produced > self.max_bytes:
            raise FileTooLarge(f"The image at the URL exceeds {self.max_bytes} bytes.")
        return output
