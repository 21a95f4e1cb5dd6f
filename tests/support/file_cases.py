"""Battery rows about files: refused formats, lies, broken files, bombs, tricky-but-valid
modes and orientations, and byte limits.

Public entry point: tests.support.cases.all_cases.
"""

from __future__ import annotations

from PIL import Image

from tests.support import badfiles as files
from tests.support.case_model import (
    Body,
    Case,
    Encoding,
    Upload,
    as_json,
    b64,
    form,
    has_size,
    no_colour_under_transparency,
    raw,
    upload,
    upright_quadrants,
)
from tests.support.imagegen import encode

V2 = "/v2"
BYBYBG = "/v1/remove-bg"
REMOVE_BG = "/v1.0/removebg"

SMALL_PNG = encode(files.quadrants(), "PNG")
SMALL_JPEG = encode(files.quadrants(), "JPEG", quality=90)
SMALL_WEBP = encode(files.quadrants(), "WEBP", quality=80)
GIF = encode(files.quadrants(), "GIF")
QUADRANTS = upright_quadrants()


def _refused_formats() -> list[tuple[str, bytes]]:
    """Files of formats bgone does not take; the real thing wherever Pillow can write it."""
    picture = files.quadrants()
    return [
        ("text", b"just some words, not a picture\n"),
        ("html", b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"),
        ("pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"),
        ("svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9e9" height="9e9"></svg>'),
        (
            "svg_with_xml_prolog",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        ),
        ("eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 30000 30000\nshowpage\n"),
        ("psd_huge_canvas", files.psd_header()),
        ("tiff", encode(picture, "TIFF")),
        ("tiff_big_endian", b"MM\x00*" + encode(picture, "TIFF")[4:]),
        ("bmp", encode(picture, "BMP")),
        ("bmp_huge_canvas", files.bmp_header_claiming()),
        ("ico", encode(picture, "ICO")),
        ("gif", GIF),
        ("gif_animated", encode(picture, "GIF", save_all=True, append_images=[picture])),
        ("heic_box", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        ("jpeg2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 64),
    ]


def _file_type_cases() -> list[Case]:
    cases = [
        Case(
            f"refused_{name}",
            V2,
            upload(data, f"upload.{name}", "image/png"),
            415,
            "invalid_file_type",
        )
        for name, data in _refused_formats()
    ]
    cases += [
        Case(
            "refused_gif_on_bybybg",
            BYBYBG,
            upload(GIF, "a.gif", "image/gif", "file"),
            415,
            "invalid_file_type",
        ),
        Case(
            "refused_pdf_on_removebg",
            REMOVE_BG,
            upload(b"%PDF-1.4\n", "a.pdf"),
            415,
            "invalid_file_type",
        ),
        Case(
            "lie_gif_named_png", V2, upload(GIF, "photo.png", "image/png"), 415, "invalid_file_type"
        ),
        Case(
            "lie_html_raw_as_jpeg",
            V2,
            raw(b"<html><body>hi</body></html>", "image/jpeg"),
            415,
            "invalid_file_type",
        ),
        Case(
            "lie_png_named_jpg",
            V2,
            upload(SMALL_PNG, "photo.jpg", "image/jpeg"),
            200,
            check=QUADRANTS,
        ),
        Case("lie_jpeg_raw_as_text", V2, raw(SMALL_JPEG, "text/plain"), 200, check=QUADRANTS),
        Case(
            "lie_webp_as_octet_stream",
            BYBYBG,
            upload(SMALL_WEBP, "blob", "application/octet-stream", "file"),
            200,
            check=has_size(64, 48),
        ),
        Case("lie_png_body_as_json", V2, raw(SMALL_PNG, "application/json"), 400, "invalid_json"),
    ]
    return cases


def _broken_file_cases() -> list[Case]:
    broken = [
        ("empty_file", b""),
        ("truncated_jpeg", files.truncated(SMALL_JPEG)),
        ("truncated_jpeg_markers_only", SMALL_JPEG[:20]),
        ("truncated_png", files.truncated(SMALL_PNG)),
        ("truncated_png_signature_only", SMALL_PNG[:8]),
        ("truncated_webp", files.truncated(SMALL_WEBP)),
        ("truncated_webp_riff_only", SMALL_WEBP[:12]),
        ("jpeg_magic_then_garbage", b"\xff\xd8\xff" + bytes(range(256)) * 4),
        ("png_bad_crc_ihdr", files.png_with_bad_crc(b"IHDR")),
        ("png_zero_width", files.png_with_zero_width()),
        ("png_ztxt_bomb", files.png_compressed_metadata_bomb(b"zTXt")),
        ("png_iccp_bomb", files.png_compressed_metadata_bomb(b"iCCP")),
    ]
    bombs = [
        ("bomb_png_header_70000", files.png_header_claiming(70_000, 70_000)),
        ("bomb_png_header_9000", files.png_header_claiming(9000, 9000)),
        ("bomb_png_real_64mp", files.png_real_bomb()),
        ("bomb_jpeg_header_65000", files.jpeg_claiming(65_000, 65_000)),
        ("bomb_jpeg_header_9000", files.jpeg_claiming(9000, 9000)),
        ("bomb_webp_lossless_16383", files.webp_lossless_claiming(16_383, 16_383)),
        ("bomb_webp_lossy_16383", files.webp_lossy_claiming(16_383, 16_383)),
        ("bomb_webp_lossy_9000", files.webp_lossy_claiming(9000, 9000)),
    ]
    # Within 50 MP, but a side past BGONE_MAX_SIDE_PIXELS (20,000): refused from the header.
    lines = [
        ("line_png_50000000x1", files.png_header_claiming(50_000_000, 1)),
        ("line_jpeg_1x50000", files.jpeg_claiming(1, 50_000)),
    ]
    return (
        [Case(name, V2, upload(data), 400, "failed_to_read_image") for name, data in broken]
        + [Case(name, V2, upload(data), 400, "resolution_too_high") for name, data in bombs]
        + [Case(name, V2, upload(data), 400, "invalid_dimensions") for name, data in lines]
    )


def _accepted_file_cases() -> list[Case]:
    one_by_tall = encode(files.solid(1, 20_000), "PNG")
    cases = [
        Case("valid_png", V2, upload(SMALL_PNG), 200, check=QUADRANTS),
        Case(
            "valid_jpeg_bybybg",
            BYBYBG,
            upload(SMALL_JPEG, "a.jpg", "image/jpeg", "file"),
            200,
            check=QUADRANTS,
        ),
        Case("valid_webp_removebg", REMOVE_BG, upload(SMALL_WEBP, "a.webp", "image/webp"), 200),
        Case("valid_raw_png_body", V2, raw(SMALL_PNG), 200, check=QUADRANTS),
        Case(
            "png_bad_crc_idat",
            V2,
            upload(files.png_with_bad_crc(b"IDAT")),
            200,
            check=has_size(32, 24),
        ),
        Case(
            "size_1x1",
            V2,
            upload(encode(files.solid(1, 1), "PNG")),
            200,
            check=has_size(1, 1),
        ),
        Case("size_1x20000", V2, upload(one_by_tall), 200, check=has_size(1, 20_000)),
        Case(
            "size_20000x1",
            V2,
            upload(encode(files.solid(20_000, 1), "PNG")),
            200,
            check=has_size(20_000, 1),
        ),
        Case(
            "animated_webp_300_frames",
            V2,
            upload(files.animated_webp(), "a.webp"),
            200,
            check=has_size(24, 24),
        ),
        Case(
            "animated_png_200_frames", V2, upload(files.animated_png()), 200, check=has_size(24, 24)
        ),
        Case(
            "mode_16bit_grey",
            V2,
            upload(files.png_sixteen_bit((100,))),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_16bit_rgb",
            V2,
            upload(files.png_sixteen_bit((200, 50, 100))),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_16bit_grey_alpha",
            V2,
            upload(files.png_sixteen_bit((100, 255))),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_16bit_rgba",
            V2,
            upload(files.png_sixteen_bit((200, 50, 100, 255))),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_palette_transparency",
            V2,
            upload(files.palette_with_transparency()),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_la",
            V2,
            upload(files.grey_alpha()),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_cmyk_jpeg",
            V2,
            upload(files.cmyk_jpeg(), "a.jpg", "image/jpeg"),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_grey_jpeg",
            V2,
            upload(files.grey("JPEG"), "a.jpg"),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_grey_png",
            V2,
            upload(files.grey("PNG")),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "mode_bilevel_png",
            V2,
            upload(encode(Image.new("1", (32, 24), 1), "PNG")),
            200,
            check=no_colour_under_transparency(32, 24),
        ),
        Case(
            "exif_malformed",
            V2,
            upload(files.jpeg_with_broken_exif(), "a.jpg"),
            200,
            check=QUADRANTS,
        ),
    ]
    cases += [
        Case(
            f"exif_orientation_{orientation}",
            V2,
            upload(files.jpeg_with_orientation(orientation), "a.jpg", "image/jpeg"),
            200,
            check=QUADRANTS,
        )
        for orientation in range(1, 9)
    ]
    return cases


def _size_limit_cases(max_upload_bytes: int) -> list[Case]:
    over = files.PNG_SIGNATURE + b"\x00" * (max_upload_bytes + 1000)
    # The middleware's whole-body cap is a few times the upload limit; go far past it.
    far_over = 64 * max_upload_bytes
    return [
        Case("limit_file_over_upload_limit", V2, upload(over), 413, "file_too_large"),
        Case("limit_raw_body_over_upload_limit", V2, raw(over), 413, "file_too_large"),
        Case(
            "limit_declared_length_over_body_limit",
            V2,
            Body(Encoding.DECLARED, content_type="image/png", declared_length=far_over),
            413,
            "file_too_large",
        ),
        Case(
            "limit_chunked_stream_over_body_limit",
            V2,
            Body(Encoding.STREAM, content_type="image/png", stream_bytes=far_over),
            413,
            "file_too_large",
        ),
        Case(
            "limit_base64_json_over_upload_limit",
            V2,
            as_json({"image_base64": b64(over)}),
            413,
            "file_too_large",
        ),
        Case(
            "limit_base64_field_over_part_limit",
            REMOVE_BG,
            form(image_file_b64=b64(over + b"\x00" * 8192)),
            413,
            "file_too_large",
        ),
        Case(
            "limit_bg_image_over_upload_limit",
            REMOVE_BG,
            Body(
                Encoding.MULTIPART,
                uploads=(
                    Upload("image_file", "a.png", SMALL_PNG),
                    Upload("bg_image_file", "b.png", over),
                ),
            ),
            413,
            "file_too_large",
        ),
    ]


def file_cases(max_upload_bytes: int) -> list[Case]:
    return (
        _file_type_cases()
        + _broken_file_cases()
        + _accepted_file_cases()
        + _size_limit_cases(max_upload_bytes)
    )
