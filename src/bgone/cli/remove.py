"""`bgone remove`: one file (or stdin/stdout), or whole folders with --out."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bgone.errors import BgoneError
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.settings import Settings

errors = Console(stderr=True, soft_wrap=True)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
FORMAT_BY_SUFFIX = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp", ".zip": "zip"}
SUFFIX_BY_FORMAT = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "zip": ".zip"}


def _inputs(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                )
            )
        else:
            found.append(path)
    return found


def remove_command(
    paths: list[str] = typer.Argument(
        ..., help="IN OUT for one file ('-' = stdin/stdout), or files and folders with --out."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (batch mode)."),
    size: str | None = typer.Option(None, help="preview, medium, hd, full, auto."),
    image_format: str | None = typer.Option(
        None, "--format", help="png, webp, jpg, zip, auto (default: from OUT's extension)."
    ),
    channels: str | None = typer.Option(None, help="rgba, or alpha for the mask only."),
    crop: bool = typer.Option(False, "--crop", help="Crop to the subject."),
    crop_margin: str | None = typer.Option(None, help="Margin with --crop: '10px', '5%', ..."),
    bg_color: str | None = typer.Option(None, help="Background colour: hex or a name."),
    bg_image: Path | None = typer.Option(None, help="Background image file (cover fit)."),
    roi: str | None = typer.Option(None, help="Region of interest 'x1 y1 x2 y2' (px or %)."),
    scale: str | None = typer.Option(None, help="Subject scale '10%'..'100%' or original."),
    position: str | None = typer.Option(None, help="original, center, or 1-2 percentages."),
    model: str | None = typer.Option(None, help="Model name (see `bgone models list`)."),
    refinement: str | None = typer.Option(None, help="guided (default), curve or raw."),
) -> None:
    """Remove the background of images."""
    fields = {
        "size": size,
        "format": image_format,
        "channels": channels,
        "crop": "true" if crop else None,
        "crop_margin": crop_margin,
        "bg_color": bg_color,
        "roi": roi,
        "scale": scale,
        "position": position,
        "model": model,
        "refinement": refinement,
    }
    try:
        background = bg_image.read_bytes() if bg_image else None
        options = RemovalOptions.from_fields(fields, bg_image=background)
        remover = Remover(Settings())
        if out is None:
            if len(paths) != 2 or Path(paths[0]).is_dir():
                raise typer.BadParameter(
                    "give IN and OUT, or use --out DIR for folders and many files"
                )
            _single(remover, options, paths[0], paths[1], explicit_format=image_format)
        else:
            _batch(remover, options, [Path(p) for p in paths], out)
    except BgoneError as error:
        errors.print(f"[red]error ({error.code}):[/red] {error.detail}")
        raise typer.Exit(1) from None
    except OSError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def _single(
    remover: Remover, options: RemovalOptions, source: str, target: str, explicit_format: str | None
) -> None:
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    if explicit_format is None and target != "-":
        guessed = FORMAT_BY_SUFFIX.get(Path(target).suffix.lower(), "png")
        options = RemovalOptions.from_fields({"format": guessed}, defaults=options)
    result = remover.remove(data, options)
    if target == "-":
        sys.stdout.buffer.write(result.data)
        sys.stdout.buffer.flush()
    else:
        Path(target).write_bytes(result.data)
        errors.print(f"{target}: {result.width}x{result.height} {result.format}")


def _batch(remover: Remover, options: RemovalOptions, roots: list[Path], out: Path) -> None:
    files = _inputs(roots)
    if not files:
        errors.print("[red]error:[/red] no JPEG, PNG or WebP files found")
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[Path, str]] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task("removing backgrounds", total=len(files))
        for path in files:
            try:
                result = remover.remove(path.read_bytes(), options)
                suffix = SUFFIX_BY_FORMAT[result.format]
                (out / path.with_suffix(suffix).name).write_bytes(result.data)
            except (BgoneError, OSError) as error:
                detail = error.detail if isinstance(error, BgoneError) else str(error)
                failures.append((path, detail))
            progress.advance(task)
    done = len(files) - len(failures)
    errors.print(f"{done} of {len(files)} done, {len(failures)} failed")
    for path, detail in failures:
        errors.print(f"  [red]failed[/red] {path}: {detail}")
    if failures:
        raise typer.Exit(1)
