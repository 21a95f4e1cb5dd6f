"""Safe decoding of untrusted uploads, and encoding of results.

Only JPEG, PNG and WebP are accepted, recognised by their magic bytes before any
decoder runs. Size limits are checked from the header, before pixels are allocated.
"""

from __future__ import annotations

import importlib
import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from PIL import Image, ImageCms, ImageOps

from bgone.errors import (
    FailedToReadImage,
    FileTooLarge,
    InvalidDimensions,
    InvalidFileType,
    ResolutionTooHigh,
)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")


def _optional_fpng() -> ModuleType | None:
    try:  # an accelerator; Pillow's encoder is the fallback
        return importlib.import_module("fpng")
    except ImportError:  # pragma: no cover - depends on the platform's wheels
        return None


fpng = _optional_fpng()

# Signatures of formats people commonly send by mistake, so the error can name them.
_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"%PDF", "pdf"),
    (b"8BPS", "psd"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"%!PS", "eps"),
    (b"\xc5\xd0\xd3\xc6", "eps"),
    (b"<svg", "svg"),
    (b"<?xml", "xml/svg"),
    (b"<!DOCTYPE", "html"),
    (b"<html", "html"),
)


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_megapixels: float = 50.0
    # A 50,000,000 x 1 line is within 50 MP, yet no model or resize is meant for it.
    max_side_pixels: int = 20_000


@dataclass(frozen=True)
class EncodeConfig:
    png_encoder: str = "fpng"
    png_compress_level: int = 1
    jpeg_quality: int = 92
    webp_quality: int = 90


@dataclass
class DecodedImage:
    rgb: Image.Image  # mode RGB, EXIF orientation applied
    alpha: Image.Image | None  # mode L, only when the source had real transparency
    icc_profile: bytes | None  # an RGB profile to carry into the output, if any
    source_format: str


def sniff_format(data: bytes) -> str | None:
    """The accepted format these bytes start with, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def describe_unaccepted(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    for signature, name in _KNOWN_SIGNATURES:
        if head.startswith(signature.lower()):
            return name
    return "an unrecognised format"


def check_header(data: bytes, limits: DecodeLimits) -> str:
    """Cheap checks that need no decoder: emptiness, byte size, format. Returns the format."""
    if not data:
        raise FailedToReadImage("The image file is empty.")
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"File exceeds the limit of {limits.max_bytes // (1024 * 1024)} MB "
            f"({len(data)} bytes received)."
        )
    kind = sniff_format(data)
    if kind is None:
        raise InvalidFileType(
            f"Expected a JPEG, PNG or WebP image, received {describe_unaccepted(data)}."
        )
    return kind


def _opened_header(data: bytes, kind: str, limits: DecodeLimits) -> Image.Image:
    """Open (parse the header only) and check dimensions against the limits."""
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns below its hard limit; here a warning is an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ResolutionTooHigh(
                f"The {kind} header claims a decompression bomb's size; the maximum supported "
                f"input resolution is {limits.max_megapixels:g} megapixels."
            ) from exc
        except Exception as exc:  # Pillow raises many types for malformed headers
            # Pillow's reason ("broken PNG file", "Decompressed Data Too Large" for a
            # compressed text or colour-profile bomb) helps the sender; keep it short.
            reason = str(exc)[:120] or type(exc).__name__
            raise FailedToReadImage(f"The {kind} header could not be read: {reason}.") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise FailedToReadImage("The image has no pixels.")
    megapixels = width * height / 1_000_000
    if megapixels > limits.max_megapixels:
        raise ResolutionTooHigh(
            f"The image is {width}x{height} ({megapixels:.1f} MP); the maximum supported input "
            f"resolution is {limits.max_megapixels:g} megapixels."
        )
    check_sides(width, height, limits)
    return image


def check_sides(width: int, height: int, limits: DecodeLimits) -> None:
    if max(width, height) > limits.max_side_pixels:
        raise InvalidDimensions(
            f"The image is {width}x{height}; no side may be longer than "
            f"{limits.max_side_pixels} pixels."
        )


def _open(data: bytes, kind: str, limits: DecodeLimits) -> Image.Image:
    image = _opened_header(data, kind, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()  # first frame only, for animated WebP
    except Exception as exc:
        raise FailedToReadImage(f"The {kind} data is corrupt or truncated.") from exc
    return image


def peek_dimensions(data: bytes, limits: DecodeLimits) -> tuple[int, int]:
    """Width and height from the header alone, with every limit checked; no pixels decoded."""
    kind = check_header(data, limits)
    with _opened_header(data, kind, limits) as image:
        return image.size


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    # Pillow's own convert("L") clips 16-bit values at 255 (white); scale them instead.
    values = np.asarray(image).astype(np.uint32)
    return Image.fromarray((values // 257).clip(0, 255).astype(np.uint8))


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: fall back to the naive conversion below
    return image.convert("RGB")


def normalise_mode(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """Any decoded mode -> RGB or RGBA, and the ICC profile that still applies."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image, icc
    if mode.startswith("I;16") or mode == "I":
        return _sixteen_bit_to_l(image).convert("RGB"), None
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc), None
    if mode == "P":
        palette_mode = image.palette.mode if image.palette is not None else ""
        has_transparency = "transparency" in image.info or palette_mode == "RGBA"
        return image.convert("RGBA" if has_transparency else "RGB"), icc
    if mode in ("LA", "La", "PA", "RGBa"):
        return image.convert("RGBA"), None if mode == "LA" else icc
    # L, 1, YCbCr and the rest. A grey profile does not describe RGB pixels: drop it.
    return image.convert("RGB"), icc if mode == "YCbCr" else None


def decode(data: bytes, limits: DecodeLimits) -> DecodedImage:
    kind = check_header(data, limits)
    image = _open(data, kind, limits)
    icc = image.info.get("icc_profile") or None
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception as exc:  # malformed EXIF must not become a 500
        raise FailedToReadImage("The image's EXIF data is malformed.") from exc
    image, icc = normalise_mode(image, icc)
    alpha: Image.Image | None = None
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
        image = image.convert("RGB")
    return DecodedImage(rgb=image, alpha=alpha, icc_profile=icc, source_format=kind)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _fpng_encode(image: Image.Image, icc_profile: bytes | None) -> bytes:
    """PNG through fpng: 10-20x faster than zlib level 6, files ~20% larger."""
    assert fpng is not None
    channels = 4 if image.mode == "RGBA" else 3
    data: bytes = fpng.from_bytes(image.tobytes(), image.width, image.height, channels)
    if not icc_profile:
        return data
    # fpng writes no colour profile: insert an iCCP chunk right after IHDR (offset 33).
    iccp = _png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc_profile))
    return data[:33] + iccp + data[33:]


def encode(
    image: Image.Image, image_format: str, icc_profile: bytes | None, config: EncodeConfig
) -> bytes:
    """Encode a result as png, webp or jpg (JPEG takes RGB or L only)."""
    buffer = io.BytesIO()
    extra: dict[str, object] = {}
    if icc_profile and image.mode in ("RGB", "RGBA"):
        extra["icc_profile"] = icc_profile
    if image_format == "png":
        if config.png_encoder == "fpng" and fpng is not None and image.mode in ("RGB", "RGBA"):
            return _fpng_encode(image, icc_profile)
        image.save(buffer, "PNG", compress_level=config.png_compress_level, **extra)
    elif image_format == "webp":
        # exact: libwebp otherwise rewrites the colour under alpha 0 from the visible pixels
        # around it; compose has zeroed it, and zeros are what must be in the file.
        image.save(buffer, "WEBP", quality=config.webp_quality, method=4, exact=True, **extra)
    elif image_format == "jpg":
        if image.mode not in ("RGB", "L"):
            raise ValueError(f"JPEG cannot hold mode {image.mode}; flatten first")
        image.save(buffer, "JPEG", quality=config.jpeg_quality, **extra)
    else:
        raise ValueError(f"unknown output format {image_format}")
    return buffer.getvalue()
