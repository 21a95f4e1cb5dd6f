"""What a result carries under its fully transparent pixels, through the real model: no
colour in the formats with transparency (PNG, WebP), and in the ZIP's color.jpg the
foreground's edge colours extended, never the photo's background."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import Remover
from tests.support.imagegen import open_bytes


def removed(remover: Remover, photo: bytes, **fields: str) -> bytes:
    return remover.remove(photo, RemovalOptions.from_fields(fields)).data


@pytest.fixture(scope="module")
def mask(remover: Remover, person_jpeg: bytes) -> np.ndarray:
    return np.asarray(open_bytes(removed(remover, person_jpeg, channels="alpha")))


def test_a_png_carries_no_colour_under_alpha_0(
    remover: Remover, person_jpeg: bytes, mask: np.ndarray
) -> None:
    pixels = np.asarray(open_bytes(removed(remover, person_jpeg, format="png")))
    clear = pixels[..., 3] == 0
    assert clear.mean() > 0.5  # the background of this portrait is most of it
    assert pixels[clear][:, :3].max() == 0
    # The alpha is the mask's, byte for byte: the quality bench's figures still hold.
    assert pixels[..., 3].tobytes() == mask.tobytes()


def test_a_webp_carries_no_colour_under_alpha_0(remover: Remover, person_jpeg: bytes) -> None:
    pixels = np.asarray(open_bytes(removed(remover, person_jpeg, format="webp")))
    under = pixels[pixels[..., 3] == 0][:, :3]
    assert under.size > 0
    # Lossy WebP rings a few levels next to the subject's edge; the photo's background
    # (a mean of 147 there before the fix) is gone.
    assert under.mean() < 0.5
    assert np.percentile(under, 99) <= 4


def test_the_zips_colour_layer_does_not_show_the_photo_under_alpha_0(
    remover: Remover, person_jpeg: bytes, mask: np.ndarray
) -> None:
    with zipfile.ZipFile(io.BytesIO(removed(remover, person_jpeg, format="zip"))) as archive:
        colour = np.asarray(open_bytes(archive.read("color.jpg"))).astype(int)
        alpha = np.asarray(open_bytes(archive.read("alpha.png")))
    assert alpha.tobytes() == mask.tobytes()
    photo = np.asarray(open_bytes(person_jpeg).convert("RGB")).astype(int)
    difference = np.abs(colour - photo).mean(axis=-1)
    # The subject is the photo's colours (JPEG's rounding aside); the background is not.
    assert difference[alpha == 255].mean() < 6
    assert difference[alpha == 0].mean() > 30
