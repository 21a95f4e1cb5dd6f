"""Parsing of the shared options object from the string form every front end receives."""

from __future__ import annotations

import pytest

from bgone.errors import InvalidOption
from bgone.inference.options import (
    Channels,
    Color,
    Length,
    OutputFormat,
    Quality,
    Refinement,
    RemovalOptions,
    Size,
)


def test_defaults() -> None:
    options = RemovalOptions.from_fields({})
    assert options == RemovalOptions()
    assert options.size is Size.FULL and options.format is OutputFormat.PNG


def test_remove_bg_names_and_aliases() -> None:
    options = RemovalOptions.from_fields(
        {
            "size": "regular",
            "format": "JPEG",
            "channels": "alpha",
            "crop": "yes",
            "crop_margin": "10px 5%",
            "bg_color": "81d4fa",
            "roi": "0% 0% 50% 100%",
        }
    )
    assert options.size is Size.PREVIEW
    assert options.format is OutputFormat.JPG
    assert options.channels is Channels.ALPHA
    assert options.crop is True
    assert options.crop_margin.top == Length(10, percent=False)
    assert options.crop_margin.right == Length(5, percent=True)
    assert options.bg_color == Color(0x81, 0xD4, 0xFA)
    assert options.roi is not None and options.roi.x2 == Length(50, percent=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fff", Color(255, 255, 255)),
        ("#0f08", Color(0, 255, 0, 0x88)),
        ("11223344", Color(0x11, 0x22, 0x33, 0x44)),
        ("red", Color(255, 0, 0)),
    ],
)
def test_colours(text: str, expected: Color) -> None:
    assert RemovalOptions.from_fields({"bg_color": text}).bg_color == expected


def test_scale_implies_centre_and_position_parses() -> None:
    options = RemovalOptions.from_fields({"scale": "50%"})
    assert options.scale == 0.5 and options.position == (0.5, 0.5)
    options = RemovalOptions.from_fields({"position": "0% 100%"})
    assert options.scale is None and options.position == (0.0, 1.0)
    assert RemovalOptions.from_fields({"scale": "original"}).scale is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", "huge"),
        ("format", "gif"),
        ("channels", "rgb"),
        ("crop", "maybe"),
        ("crop_margin", "10 20 30"),
        ("crop_margin", "ten"),
        ("bg_color", "notacolour"),
        ("bg_color", "#12345"),
        ("roi", "0 0 10"),
        ("roi", "0% 0% 150% 100%"),
        # 400 digits: float() makes it infinity, which no pixel arithmetic survives.
        ("roi", "1" * 400 + " 0 10 10"),
        ("roi", "0 0 " + "9" * 400 + "% 10"),
        ("crop_margin", "9" * 400 + "px"),
        ("scale", "5%"),
        ("scale", "120%"),
        ("position", "left"),
        ("position", "1% 2% 3%"),
        ("refinement", "magic"),
        ("quality", "max"),
    ],
)
def test_bad_values_raise_stable_codes(field: str, value: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        RemovalOptions.from_fields({field: value})
    assert caught.value.code == f"invalid_{field}"
    assert caught.value.status == 400


def test_empty_values_mean_default() -> None:
    assert RemovalOptions.from_fields({"size": "", "format": None}) == RemovalOptions()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"model": "u2netp"}, "drop model=u2netp or"),
        ({"refinement": "GUIDED"}, "drop refinement=guided or"),  # the default, but explicit
        ({"model": "isnet", "refinement": "raw"}, "drop model=isnet and refinement=raw or"),
    ],
)
def test_best_with_an_explicit_model_or_refinement_is_invalid_quality(
    fields: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidOption) as caught:
        RemovalOptions.from_fields({"quality": "best", **fields})
    assert caught.value.code == "invalid_quality" and named in caught.value.detail


def test_best_alone_and_fast_with_anything_parse() -> None:
    assert RemovalOptions.from_fields({"quality": "Best"}).quality is Quality.BEST
    fast = RemovalOptions.from_fields({"quality": "fast", "model": "isnet", "refinement": "raw"})
    assert (fast.quality, fast.model, fast.refinement) == (Quality.FAST, "isnet", Refinement.RAW)


def test_a_default_of_best_gives_way_to_a_named_model_or_refinement() -> None:
    best = RemovalOptions(quality=Quality.BEST)
    assert RemovalOptions.from_fields({}, defaults=best).quality is Quality.BEST
    assert RemovalOptions.from_fields({"size": "hd"}, defaults=best).quality is Quality.BEST
    for fields in ({"model": "u2netp"}, {"refinement": "curve"}):
        assert RemovalOptions.from_fields(fields, defaults=best).quality is Quality.FAST
    # Re-parsing over options that already chose `best` keeps it (the CLI's format guess).
    assert RemovalOptions.from_fields({"format": "jpg"}, defaults=best).quality is Quality.BEST
