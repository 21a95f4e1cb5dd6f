"""The bad-input battery: every broken, hostile or tricky-but-valid request, as data rows.

Pure generators (Pillow, numpy, stdlib; no network, no downloads, no pytest), shared by the
tests (tests/hardening/test_bad_input.py), bench/reliability.py and the fuzzers.

API:
    all_cases(max_upload_bytes=BATTERY_MAX_UPLOAD_BYTES) -> list[Case]
        Every case, names unique. Byte-limit cases are sized from `max_upload_bytes`, which
        must match the server's BGONE_MAX_UPLOAD_BYTES (see SERVER_SETTINGS).
    SERVER_SETTINGS: the `bgone serve` settings the battery expects (for
        tests.support.stack.Stack.start_server(**SERVER_SETTINGS)).
    Case: name, path, body (a `Body`), status, code (the error code, None for a 200),
        and `verify(content_type, content) -> list[str]` (failures; empty when right).
    Body: `encoding` says how to send it. MULTIPART, FORM, JSON and RAW go through
        `httpx_arguments()` (keyword arguments for httpx.post); STREAM (a chunked body of
        `stream_bytes` that never ends on its own) and DECLARED (headers claiming
        `declared_length`, no body) need a raw socket: tests.support.case_sender does both.
    seed_images() -> dict[str, bytes]: the valid images, for fuzzers to mutate.
    result_image(content_type, content): the result picture of any contract's answer.
    tests.support.case_sender.send(case, base_url, api_key) -> Sent: sends one case
        (httpx for ordinary bodies, a raw socket for STREAM and DECLARED).

Every request needs a valid API key in `x-api-key`; the sender adds it. Use an account
with rate and credit limits far above the battery's (~40 results), so that every case gets
its own answer. The rows live in file_cases.py (formats, broken files, bombs, modes,
orientations, byte limits) and request_cases.py (base64, body shapes, sources, options);
the files themselves are built in badfiles.py.
"""

from __future__ import annotations

from tests.support import badfiles as files
from tests.support.case_model import Body, Case, Encoding, Upload, result_image
from tests.support.file_cases import file_cases
from tests.support.imagegen import encode
from tests.support.request_cases import request_cases

__all__ = [
    "BATTERY_MAX_UPLOAD_BYTES",
    "SERVER_SETTINGS",
    "Body",
    "Case",
    "Encoding",
    "Upload",
    "all_cases",
    "result_image",
    "seed_images",
]

BATTERY_MAX_UPLOAD_BYTES = 1 << 20
SERVER_SETTINGS = {"max_upload_bytes": str(BATTERY_MAX_UPLOAD_BYTES)}


def all_cases(max_upload_bytes: int = BATTERY_MAX_UPLOAD_BYTES) -> list[Case]:
    cases = file_cases(max_upload_bytes) + request_cases()
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"duplicate case names: {sorted(duplicates)}")
    return cases


def seed_images() -> dict[str, bytes]:
    """Small valid inputs of every accepted format and mode, for mutation fuzzing."""
    picture = files.quadrants()
    return {
        "png": encode(picture, "PNG"),
        "jpeg": encode(picture, "JPEG", quality=90),
        "webp": encode(picture, "WEBP", quality=80),
        "webp_lossless": encode(picture, "WEBP", lossless=True),
        "png_palette_transparent": files.palette_with_transparency(),
        "png_16bit_grey": files.png_sixteen_bit((100,)),
        "png_la": files.grey_alpha(),
        "jpeg_cmyk": files.cmyk_jpeg(),
        "jpeg_exif_6": files.jpeg_with_orientation(6),
        "webp_animated": files.animated_webp(frames=5),
    }
