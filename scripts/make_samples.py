"""Draw the playground's sample photos procedurally: our own pictures, nothing downloaded.

    .venv/bin/python scripts/make_samples.py   # writes src/bgone/inference/sample_photos/*.jpg

Each picture is rendered with numpy at twice its final size (800x600) and scaled down with a
Lanczos filter, so edges are anti-aliased like a photo's. Shapes are shaded with a simple
Lambert + Phong model from their surface normals (spheres, ellipsoids, cylinders), shadows are
blurred masks, and a fixed random seed makes every run produce the same files. They are saved
as progressive JPEGs at the highest quality that stays under 120 KB each.

- `mug.jpg`: a product shot: a glossy red mug with a soft contact shadow on a light studio
  sweep.
- `robot.jpg`: a toy robot built from rounded blocks standing on wooden planks.
- `duck.jpg`: a bright yellow rubber duck in front of a busy, colourful bokeh background.

The real model (u2netp) separates each subject cleanly; `bgone remove` on them is a quick check.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

Array = NDArray[np.float64]

WIDTH, HEIGHT = 800, 600
SCALE = 2  # supersampling factor
MAX_BYTES = 120_000
OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "bgone" / "web" / "static" / "samples"
LIGHT = np.array([-0.45, -0.55, 0.70])
LIGHT /= np.linalg.norm(LIGHT)


# -- drawing primitives (all coordinates in final-image pixels) -------------------------------


def grid() -> tuple[Array, Array]:
    ys, xs = np.mgrid[0 : HEIGHT * SCALE, 0 : WIDTH * SCALE].astype(np.float64)
    return (ys + 0.5) / SCALE, (xs + 0.5) / SCALE


def coverage(distance: Array) -> Array:
    """Anti-aliased coverage from a signed distance (negative inside), one pixel wide."""
    return np.clip(0.5 - distance * SCALE, 0.0, 1.0)


def paint(canvas: Array, alpha: Array, colour: Array | tuple[float, float, float]) -> None:
    a = alpha[..., None]
    canvas *= 1.0 - a
    canvas += a * np.asarray(colour, dtype=np.float64)


def shade(
    base: tuple[float, float, float],
    normal: tuple[Array, Array, Array],
    ambient: float = 0.28,
    gloss: float = 0.5,
    shininess: float = 40.0,
) -> Array:
    nx, ny, nz = normal
    diffuse = np.clip(nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2], 0.0, 1.0)
    # Blinn-Phong with the viewer straight ahead.
    half = LIGHT + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    specular = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0.0, 1.0) ** shininess
    colour = np.asarray(base)[None, None, :] * (ambient + (1 - ambient) * diffuse)[..., None]
    return np.asarray(np.clip(colour + gloss * specular[..., None], 0.0, 1.0), np.float64)


def ellipsoid(
    ys: Array, xs: Array, cx: float, cy: float, rx: float, ry: float
) -> tuple[Array, tuple[Array, Array, Array]]:
    u, v = (xs - cx) / rx, (ys - cy) / ry
    r2 = u * u + v * v
    # Distance to the outline, approximately, in pixels.
    alpha = coverage((np.sqrt(r2) - 1.0) * min(rx, ry))
    nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    return alpha, (u, v, nz)


def rounded_box(
    ys: Array, xs: Array, x0: float, y0: float, x1: float, y1: float, radius: float
) -> tuple[Array, tuple[Array, Array, Array]]:
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    qx, qy = np.abs(xs - cx) - hx + radius, np.abs(ys - cy) - hy + radius
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    distance = outside + np.minimum(np.maximum(qx, qy), 0) - radius
    # A pillow: flat in the middle, rounding off towards the edges.
    u = np.clip((xs - cx) / hx, -1, 1) ** 3
    v = np.clip((ys - cy) / hy, -1, 1) ** 3
    nz = np.sqrt(np.clip(1 - 0.7 * (u * u + v * v), 0.05, 1))
    norm = np.sqrt(0.7 * u * u + 0.7 * v * v + nz * nz)
    return coverage(distance), (0.84 * u / norm, 0.84 * v / norm, nz / norm)


def blurred(alpha: Array, radius: float) -> Array:
    image = Image.fromarray(np.uint8(np.clip(alpha, 0, 1) * 255))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius * SCALE)), np.float64) / 255


def finish(canvas: Array, rng: np.random.Generator, grain: float = 0.012) -> Image.Image:
    """Add a little sensor noise (no banding), scale down, return RGB."""
    noisy = canvas + rng.normal(0.0, grain, canvas.shape)
    big = Image.fromarray(np.uint8(np.clip(noisy, 0, 1) * 255 + 0.5))
    return big.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


# -- the pictures ------------------------------------------------------------------------------


def mug(rng: np.random.Generator) -> Image.Image:
    ys, xs = grid()
    # Studio sweep: warm light grey, darker towards the bottom and the corners.
    t = ys / HEIGHT
    top, bottom = np.array([0.96, 0.95, 0.93]), np.array([0.84, 0.82, 0.79])
    canvas = top + (bottom - top) * (t**1.4)[..., None]
    vignette = ((xs - WIDTH / 2) / WIDTH) ** 2 + ((ys - HEIGHT / 2) / HEIGHT) ** 2
    canvas *= (1 - 0.25 * vignette)[..., None]

    cx, r, top_y, bottom_y, b = 370.0, 125.0, 175.0, 455.0, 30.0
    red = (0.78, 0.08, 0.10)
    # Contact shadow on the table, soft and offset away from the light.
    shadow_alpha, _ = ellipsoid(ys, xs, cx + 55, bottom_y + 10, r + 110, b + 8)
    shadow = (
        blurred(shadow_alpha, 16) * 0.45
        + blurred(ellipsoid(ys, xs, cx + 10, bottom_y + 4, r + 10, b - 6)[0], 4) * 0.4
    )
    canvas *= (1 - np.clip(shadow, 0, 0.75))[..., None]

    # The handle: an elliptic ring on the right, behind the body.
    hx, hy = cx + r - 5, 305.0
    outer_u, outer_v = (xs - hx) / 92, (ys - hy) / 100
    inner_u, inner_v = (xs - hx) / 56, (ys - hy) / 64
    ring = coverage((np.sqrt(outer_u**2 + outer_v**2) - 1) * 92) * coverage(
        (1 - np.sqrt(inner_u**2 + inner_v**2)) * 56
    )
    ring *= xs > cx
    # Normal across the tube: the ring's middle line faces the viewer.
    rho = np.sqrt(((xs - hx) / 74) ** 2 + ((ys - hy) / 82) ** 2)
    across = np.clip((rho - 1.0) / 0.22, -1, 1)
    angle = np.arctan2(ys - hy, xs - hx)
    tube = (across * np.cos(angle), across * np.sin(angle), np.sqrt(1 - across**2))
    paint(canvas, ring, shade(red, tube, gloss=0.55))

    # The body: a vertical cylinder.
    dx = np.clip((xs - cx) / r, -1, 1)
    bottom_edge = bottom_y + b * np.sqrt(np.clip(1 - dx * dx, 0, 1))
    body = coverage(np.abs(xs - cx) - r) * coverage(top_y - ys) * coverage(ys - bottom_edge)
    cylinder = (dx, np.zeros_like(dx), np.sqrt(1 - dx * dx))
    colour = shade(red, cylinder, gloss=0.65, shininess=60)
    colour *= (1 - 0.18 * np.clip((ys - top_y) / (bottom_y - top_y), 0, 1))[..., None]
    paint(canvas, body, colour)

    # The opening: a lighter rim and the dark inside.
    rim, _ = ellipsoid(ys, xs, cx, top_y, r, b)
    rim_colour = shade((0.86, 0.16, 0.17), (dx * 0.3, -np.ones_like(dx) * 0.6, np.ones_like(dx)))
    paint(canvas, rim, rim_colour)
    inside, _ = ellipsoid(ys, xs, cx, top_y + 1, r - 11, b - 5)
    depth = np.clip((ys - (top_y - b)) / (2 * b), 0, 1)
    inside_colour = np.array([0.28, 0.03, 0.04]) + (0.18 * depth)[..., None] * np.array(
        [1.0, 0.2, 0.2]
    )
    paint(canvas, inside, inside_colour)
    return finish(canvas, rng)


def noise(rng: np.random.Generator, cells_x: int, cells_y: int) -> Array:
    """Smooth value noise in [0, 1] over the whole canvas: random cells, bicubic upsampling."""
    cells = Image.fromarray(np.float32(rng.random((cells_y, cells_x))), mode="F")
    size = (WIDTH * SCALE, HEIGHT * SCALE)
    return np.clip(np.asarray(cells.resize(size, Image.Resampling.BICUBIC), np.float64), 0, 1)


def wood(ys: Array, xs: Array, rng: np.random.Generator) -> Array:
    """Horizontal planks: long, gently warped growth lines, fine streaks and dark joints."""
    plank_height = 95.0
    plank = np.floor(ys / plank_height)
    index = plank.astype(int) % 16
    tones = rng.uniform(0.82, 1.08, 16)[index]
    warp = 26 * noise(rng, 5, 14) + 8 * noise(rng, 14, 40)
    phase = rng.uniform(0, 40, 16)[index]
    growth = 0.5 + 0.5 * np.sin((ys + warp + phase) * 0.33)
    rings = growth**6  # thin dark late-wood lines
    streaks = noise(rng, 6, HEIGHT)  # varies fast across the grain, slowly along it
    base = np.array([0.66, 0.45, 0.26])
    dark = np.array([0.40, 0.24, 0.12])
    mix = (0.55 * rings + 0.30 * streaks + 0.15 * noise(rng, 30, 20))[..., None]
    colour = (base + (dark - base) * mix) * tones[..., None]
    joint = np.abs(ys - np.round(ys / plank_height) * plank_height)
    colour *= (1 - 0.6 * np.clip(1 - joint / 2.0, 0, 1))[..., None]
    return np.asarray(np.clip(colour, 0, 1))


def robot(rng: np.random.Generator) -> Image.Image:
    ys, xs = grid()
    canvas = wood(ys, xs, rng)
    cx = 400.0
    # Shadow under the feet, falling to the right.
    shadow = blurred(ellipsoid(ys, xs, cx + 45, 522, 150, 24)[0], 12)
    canvas *= (1 - 0.55 * shadow)[..., None]

    metal = (0.80, 0.82, 0.86)
    teal = (0.05, 0.55, 0.62)
    yellow = (0.98, 0.76, 0.10)
    parts: list[tuple[Callable[[], tuple[Array, tuple[Array, Array, Array]]], tuple[float, ...]]]
    parts = [
        (lambda: rounded_box(ys, xs, cx - 70, 400, cx - 22, 505, 14), metal),  # legs
        (lambda: rounded_box(ys, xs, cx + 22, 400, cx + 70, 505, 14), metal),
        (lambda: rounded_box(ys, xs, cx - 88, 490, cx - 12, 528, 14), teal),  # feet
        (lambda: rounded_box(ys, xs, cx + 12, 490, cx + 88, 528, 14), teal),
        (lambda: rounded_box(ys, xs, cx - 165, 265, cx - 118, 400, 22), yellow),  # arms
        (lambda: rounded_box(ys, xs, cx + 118, 265, cx + 165, 400, 22), yellow),
        (lambda: ellipsoid(ys, xs, cx - 141, 405, 30, 30), metal),  # hands
        (lambda: ellipsoid(ys, xs, cx + 141, 405, 30, 30), metal),
        (lambda: rounded_box(ys, xs, cx - 120, 245, cx + 120, 420, 30), teal),  # body
        (lambda: rounded_box(ys, xs, cx - 8, 60, cx + 8, 110, 6), metal),  # antenna
        (lambda: ellipsoid(ys, xs, cx, 58, 20, 20), (0.90, 0.12, 0.12)),
        (lambda: rounded_box(ys, xs, cx - 25, 220, cx + 25, 255, 8), metal),  # neck
        (lambda: rounded_box(ys, xs, cx - 105, 100, cx + 105, 232, 34), metal),  # head
        (lambda: rounded_box(ys, xs, cx - 72, 290, cx + 72, 370, 14), (0.93, 0.93, 0.88)),
    ]
    for draw, base in parts:
        alpha, normal = draw()
        paint(canvas, alpha, shade((base[0], base[1], base[2]), normal, gloss=0.35))
    # Face and chest details.
    for ex in (cx - 45, cx + 45):
        alpha, normal = ellipsoid(ys, xs, ex, 158, 24, 24)
        paint(canvas, alpha, shade((0.10, 0.12, 0.18), normal, gloss=0.8, shininess=80))
        glow, _ = ellipsoid(ys, xs, ex, 158, 12, 12)
        paint(canvas, glow, (0.25, 0.95, 1.0))
    mouth, _ = rounded_box(ys, xs, cx - 50, 195, cx + 50, 208, 6)
    paint(canvas, mouth, (0.15, 0.16, 0.2))
    for i, lamp in enumerate(((0.95, 0.2, 0.2), (0.98, 0.76, 0.10), (0.2, 0.8, 0.3))):
        alpha, normal = ellipsoid(ys, xs, cx - 40 + 40 * i, 316, 13, 13)
        paint(canvas, alpha, shade(lamp, normal, gloss=0.7))
    dial, _ = rounded_box(ys, xs, cx - 50, 343, cx + 50, 355, 5)
    paint(canvas, dial, (0.3, 0.32, 0.36))
    return finish(canvas, rng)


def bokeh(ys: Array, xs: Array, rng: np.random.Generator) -> Array:
    """A busy party background: many overlapping coloured discs, out of focus."""
    t = ys / HEIGHT
    canvas = (
        np.array([0.20, 0.10, 0.35])
        + (np.array([0.05, 0.25, 0.45]) - [0.20, 0.10, 0.35]) * (t[..., None])
    )
    palette = [
        (0.95, 0.25, 0.55),
        (0.20, 0.75, 0.95),
        (0.55, 0.95, 0.35),
        (0.70, 0.35, 0.95),
        (1.00, 0.55, 0.15),
        (0.15, 0.95, 0.75),
        (0.95, 0.95, 0.95),
    ]
    for _ in range(140):
        radius = rng.uniform(10, 55)
        disc = coverage(np.hypot(xs - rng.uniform(0, WIDTH), ys - rng.uniform(0, HEIGHT)) - radius)
        colour = palette[int(rng.integers(len(palette)))]
        paint(canvas, disc * rng.uniform(0.35, 0.8), colour)
    # Confetti streamers: thin bright stripes at all angles.
    for _ in range(40):
        angle = rng.uniform(0, np.pi)
        x0, y0 = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        along = (xs - x0) * np.cos(angle) + (ys - y0) * np.sin(angle)
        across = -(xs - x0) * np.sin(angle) + (ys - y0) * np.cos(angle)
        stripe = coverage(np.abs(across) - 3) * coverage(np.abs(along) - rng.uniform(20, 60))
        paint(canvas, stripe, palette[int(rng.integers(len(palette)))])
    image = Image.fromarray(np.uint8(np.clip(canvas, 0, 1) * 255))
    soft = image.filter(ImageFilter.GaussianBlur(7 * SCALE))
    return np.asarray(soft, np.float64) / 255


def duck(rng: np.random.Generator) -> Image.Image:
    ys, xs = grid()
    canvas = bokeh(ys, xs, rng)
    yellow = (1.0, 0.82, 0.05)
    # Body, tail, wing, head; a soft dark halo under the body grounds it.
    shadow = blurred(ellipsoid(ys, xs, 400, 500, 220, 40)[0], 14)
    canvas *= (1 - 0.5 * shadow)[..., None]
    alpha, normal = ellipsoid(ys, xs, 590, 360, 70, 45)  # tail
    paint(canvas, alpha, shade(yellow, normal, ambient=0.4))
    alpha, normal = ellipsoid(ys, xs, 410, 400, 205, 120)  # body
    paint(canvas, alpha, shade(yellow, normal, ambient=0.4, gloss=0.6))
    alpha, normal = ellipsoid(ys, xs, 455, 380, 110, 58)  # wing
    paint(canvas, alpha, shade((0.98, 0.70, 0.02), normal, ambient=0.45))
    alpha, normal = ellipsoid(ys, xs, 315, 215, 105, 100)  # head
    paint(canvas, alpha, shade(yellow, normal, ambient=0.4, gloss=0.6))
    # Beak: two flattened orange ellipsoids.
    alpha, normal = ellipsoid(ys, xs, 215, 240, 62, 22)
    paint(canvas, alpha, shade((1.0, 0.45, 0.05), normal, ambient=0.45))
    alpha, normal = ellipsoid(ys, xs, 222, 262, 52, 16)
    paint(canvas, alpha, shade((0.92, 0.36, 0.03), normal, ambient=0.45))
    # Eye with a catch light.
    alpha, normal = ellipsoid(ys, xs, 300, 188, 17, 21)
    paint(canvas, alpha, shade((0.05, 0.05, 0.08), normal, gloss=0.9, shininess=120))
    alpha, _ = ellipsoid(ys, xs, 294, 181, 5, 6)
    paint(canvas, alpha, (1.0, 1.0, 1.0))
    return finish(canvas, rng)


def save_jpeg(image: Image.Image, path: Path) -> int:
    for quality in range(92, 40, -4):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
        if buffer.tell() <= MAX_BYTES:
            path.write_bytes(buffer.getvalue())
            return quality
    raise RuntimeError(f"{path.name} does not fit in {MAX_BYTES} bytes")


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, draw in (("mug.jpg", mug), ("robot.jpg", robot), ("duck.jpg", duck)):
        path = OUT_DIR / name
        quality = save_jpeg(draw(np.random.default_rng(20240611)), path)
        print(f"{path}: {path.stat().st_size} bytes, quality {quality}")


if __name__ == "__main__":
    main()
