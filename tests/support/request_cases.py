"""Battery rows about requests: base64, body shapes, image sources and option values.

Public entry point: tests.support.cases.all_cases.
"""

from __future__ import annotations

from tests.support.case_model import (
    Body,
    Case,
    Encoding,
    Upload,
    as_json,
    b64,
    form,
    raw,
    upload,
)
from tests.support.file_cases import BYBYBG, GIF, QUADRANTS, REMOVE_BG, SMALL_PNG, V2


def _base64_cases() -> list[Case]:
    # Bytes after IEND are ignored by decoders; they make the length need "==" padding.
    padded_seed = SMALL_PNG + b"\x00" * ((1 - len(SMALL_PNG)) % 3)
    encoded = b64(padded_seed)
    unpadded = encoded.rstrip("=")
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    urlsafe = encoded.replace("+", "-").replace("/", "_")
    return [
        Case("b64_valid", V2, as_json({"image_base64": encoded}), 200, check=QUADRANTS),
        Case("b64_unpadded", V2, as_json({"image_base64": unpadded}), 200, check=QUADRANTS),
        Case("b64_mime_line_breaks", V2, as_json({"image_base64": wrapped}), 200, check=QUADRANTS),
        Case("b64_urlsafe_alphabet", V2, as_json({"image_base64": urlsafe}), 200, check=QUADRANTS),
        Case(
            "b64_data_uri",
            REMOVE_BG,
            as_json({"image_file_b64": "data:image/png;base64," + encoded, "format": "png"}),
            200,
        ),
        Case(
            "b64_invalid_characters",
            V2,
            as_json({"image_base64": "not*base64!"}),
            400,
            "invalid_image_base64",
        ),
        Case(
            "b64_length_one_mod_four",
            V2,
            as_json({"image_base64": "AAAAA"}),
            400,
            "invalid_image_base64",
        ),
        Case(
            "b64_three_padding_chars",
            V2,
            as_json({"image_base64": unpadded + "==="}),
            400,
            "invalid_image_base64",
        ),
        Case(
            "b64_padding_in_the_middle",
            V2,
            as_json({"image_base64": encoded[:8] + "==" + encoded[8:]}),
            400,
            "invalid_image_base64",
        ),
        Case("b64_empty_string", V2, as_json({"image_base64": ""}), 400, "invalid_image_base64"),
        Case("b64_of_a_gif", V2, as_json({"image_base64": b64(GIF)}), 415, "invalid_file_type"),
        Case(
            "b64_invalid_removebg_form",
            REMOVE_BG,
            form(image_file_b64="%%%"),
            400,
            "invalid_image_file_b64",
        ),
        Case(
            "b64_invalid_legacy_image_field", V2, as_json({"image": "@@@@"}), 400, "invalid_image"
        ),
    ]


def _body_shape_cases() -> list[Case]:
    picture = Upload("image_file", "a.png", SMALL_PNG, "image/png")
    return [
        Case("empty_body", V2, raw(b"", None), 400, "missing_source"),
        Case("empty_body_as_png", V2, raw(b""), 400, "missing_source"),
        Case("neither_source", V2, form(size="preview"), 400, "missing_source"),
        Case("neither_source_json", REMOVE_BG, as_json({"size": "preview"}), 400, "missing_source"),
        Case("image_file_as_text_field", V2, form(image_file="photo.png"), 400, "missing_source"),
        Case(
            "json_on_bybybg_has_no_base64",
            BYBYBG,
            as_json({"image_base64": b64(SMALL_PNG)}),
            400,
            "missing_source",
        ),
        Case(
            "both_file_and_url",
            V2,
            upload(SMALL_PNG, image_url="https://example.com/a.png"),
            400,
            "multiple_sources",
        ),
        Case(
            "both_file_and_url_removebg",
            REMOVE_BG,
            upload(SMALL_PNG, image_url="https://example.com/a.png"),
            400,
            "multiple_sources",
        ),
        Case(
            "both_file_and_base64",
            V2,
            upload(SMALL_PNG, image_base64=b64(SMALL_PNG)),
            400,
            "multiple_sources",
        ),
        Case(
            "both_base64_and_url",
            V2,
            as_json({"image_base64": b64(SMALL_PNG), "image_url": "https://example.com/a"}),
            400,
            "multiple_sources",
        ),
        Case("json_malformed", V2, as_json('{"image_url": '), 400, "invalid_json"),
        Case("json_not_an_object", V2, as_json([1, 2, 3]), 400, "invalid_json"),
        Case("json_deeply_nested", V2, as_json("[" * 100_000 + "]" * 100_000), 400, "invalid_json"),
        Case(
            "json_integer_too_long",
            V2,
            as_json('{"scale": ' + "9" * 5000 + "}"),
            400,
            "invalid_json",
        ),
        Case(
            "json_not_utf8",
            V2,
            raw(b'{"image_url": "\xff\xfe"}', "application/json"),
            400,
            "invalid_json",
        ),
        Case(
            "multipart_without_boundary",
            V2,
            raw(b"--x\r\n\r\n", "multipart/form-data"),
            400,
            "invalid_request",
        ),
        Case(
            "multipart_truncated",
            V2,
            raw(
                b'--b\r\nContent-Disposition: form-data; name="image_file"; filename="a.png"'
                b"\r\n\r\n" + SMALL_PNG[:50],
                "multipart/form-data; boundary=b",
            ),
            400,
            "missing_source",
        ),  # the part never ends, so no image arrived
        Case(
            "multipart_too_many_fields",
            V2,
            upload(SMALL_PNG, **{f"field{n}": "x" for n in range(80)}),
            400,
            "invalid_request",
        ),
        Case(
            "multipart_too_many_files",
            V2,
            Body(Encoding.MULTIPART, uploads=(picture,) * 6),
            400,
            "invalid_request",
        ),
        Case(
            "multipart_option_not_utf8",
            V2,
            raw(
                b'--b\r\nContent-Disposition: form-data; name="size"\r\n\r\n\xff\xfe\r\n'
                b'--b\r\nContent-Disposition: form-data; name="image_file"; filename="a.png"'
                b"\r\nContent-Type: image/png\r\n\r\n" + SMALL_PNG + b"\r\n--b--\r\n",
                "multipart/form-data; boundary=b",
            ),
            400,
            "invalid_size",
        ),
        Case("url_not_a_url", V2, form(image_url="not a url"), 400, "invalid_image_url"),
        Case("url_file_scheme", V2, form(image_url="file:///etc/passwd"), 400, "invalid_image_url"),
        Case(
            "url_with_credentials",
            REMOVE_BG,
            form(image_url="http://user:pw@example.com/a"),
            400,
            "invalid_image_url",
        ),
        Case(
            "url_loopback",
            REMOVE_BG,
            form(image_url="http://127.0.0.1:9/a.png"),
            400,
            "invalid_image_url",
        ),
        Case(
            "url_bg_gopher_scheme",
            REMOVE_BG,
            upload(SMALL_PNG, bg_image_url="gopher://example.com/1"),
            400,
            "invalid_bg_image_url",
        ),
    ]


# -- options ----------------------------------------------------------------------------

# (option, wrong value, endpoint): each must answer 400 invalid_<option>.
WRONG_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("size", "giant", V2),
    ("size", "full\x00", BYBYBG),
    ("size", "x" * 10_000, REMOVE_BG),
    ("format", "gif", V2),
    ("format", "bmp", REMOVE_BG),
    ("type", "spaceship", REMOVE_BG),
    ("type_level", "7", REMOVE_BG),
    ("channels", "cmyk", V2),
    ("crop", "perhaps", V2),
    ("crop_margin", "-10px", V2),
    ("crop_margin", "1px 2px 3px", REMOVE_BG),
    ("crop_margin", "10em", V2),
    ("bg_color", "nope", V2),
    ("bg_color", "#12345", REMOVE_BG),
    ("bg_color", "rgb(999,0,0)", V2),
    ("roi", "0 0 10", V2),
    ("roi", "0% 0% 150% 100%", REMOVE_BG),
    ("roi", "1" * 400 + " 0 10 10", REMOVE_BG),  # float() makes 400 digits infinity
    ("scale", "5%", REMOVE_BG),
    ("scale", "150%", REMOVE_BG),
    ("scale", "big", V2),
    ("position", "150%", REMOVE_BG),
    ("position", "1% 2% 3%", V2),
    ("position", "left", V2),
    ("model", "no-such-model", V2),
    ("model", "../../../etc/passwd", V2),
    ("refinement", "magic", V2),
    ("add_shadow", "maybe", REMOVE_BG),
    ("semitransparency", "2", REMOVE_BG),
    ("despill", "sometimes", V2),
)


def option_cases() -> list[Case]:
    cases: list[Case] = []
    for index, (option, value, path) in enumerate(WRONG_OPTIONS):
        name = f"option_{option}_{index:02d}"
        cases.append(
            Case(name, path, upload(SMALL_PNG, **{option: value}), 400, f"invalid_{option}")
        )
    cases += [
        Case(
            "option_json_object_value",
            V2,
            as_json({"image_base64": b64(SMALL_PNG), "size": {"a": 1}}),
            400,
            "invalid_size",
        ),
        Case(
            "option_json_list_value",
            REMOVE_BG,
            as_json({"image_file_b64": b64(SMALL_PNG), "crop": [True]}),
            400,
            "invalid_crop",
        ),
        Case(
            "option_json_number_size",
            V2,
            as_json({"image_base64": b64(SMALL_PNG), "size": 5}),
            400,
            "invalid_size",
        ),
        Case(
            "option_roi_without_area",
            V2,
            upload(SMALL_PNG, roi="50px 50px 10px 10px"),
            400,
            "roi_region_empty",
        ),
        Case(
            "option_roi_outside_the_image",
            REMOVE_BG,
            upload(SMALL_PNG, roi="5000px 0px 6000px 10px"),
            400,
            "roi_exceeds_bounds",
        ),
        Case("option_upper_case_name", V2, upload(SMALL_PNG, SIZE="giant"), 400, "invalid_size"),
        Case(
            "option_two_backgrounds",
            REMOVE_BG,
            upload(SMALL_PNG, bg_color="fff", bg_image_url="https://example.com/b.png"),
            400,
            "multiple_bg_sources",
        ),
        Case(
            "option_bg_image_gif",
            REMOVE_BG,
            Body(
                Encoding.MULTIPART,
                uploads=(
                    Upload("image_file", "a.png", SMALL_PNG),
                    Upload("bg_image_file", "b.gif", GIF),
                ),
            ),
            415,
            "invalid_file_type",
        ),
        Case(
            "option_all_valid",
            REMOVE_BG,
            upload(
                SMALL_PNG,
                size="auto",
                format="webp",
                type="product",
                channels="rgba",
                crop_margin="10%",
                bg_color="#336699",
                scale="90%",
                position="center",
                add_shadow="false",
            ),
            200,
        ),
    ]
    return cases


def request_cases() -> list[Case]:
    return _base64_cases() + _body_shape_cases() + option_cases()
