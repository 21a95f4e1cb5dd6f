"""`bgone remove`: one file (or stdin/stdout), or whole folders with --out.

Its option flags, their order and their help come from the option table
(`bgone.inference.option_table`), so the command line cannot drift from the HTTP API.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bgone.errors import BgoneError
from bgone.inference.engine_config import EngineConfig
from bgone.inference.option_table import ENGINE_OPTIONS, OptionKind, OptionRow
from bgone.inference.options import Quality, RemovalOptions
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


# What only the command line adds to the option table's help (instead of the default).
CLI_NOTES = {
    "format": "Default: from OUT's extension.",
    "model": "Installed models: bgone models list.",
    "quality": "Default: BGONE_DEFAULT_QUALITY (fast).",
}


def remove_command(
    paths: list[str] = typer.Argument(
        ..., help="IN OUT for one file ('-' = stdin/stdout), or files and folders with --out."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (batch mode)."),
    # One flag per row of the option table, declared on the signature below: Typer passes
    # them by name, and they become the typed options right away.
    **flags: str | bool | Path | None,
) -> None:
    """Remove the background of images."""
    fields = {row.name: _field_text(row, flags.get(row.name)) for row in ENGINE_OPTIONS}
    try:
        background = _background(flags.get("bg_image"))
        settings = Settings()
        defaults = RemovalOptions(quality=Quality(settings.default_quality))
        options = RemovalOptions.from_fields(fields, bg_image=background, defaults=defaults)
        remover = Remover(EngineConfig.from_settings(settings))
        if out is None:
            if len(paths) != 2 or Path(paths[0]).is_dir():
                raise typer.BadParameter(
                    "give IN and OUT, or use --out DIR for folders and many files"
                )
            _single(remover, options, paths[0], paths[1], explicit_format=fields["format"])
        else:
            _batch(remover, options, [Path(p) for p in paths], out)
    except BgoneError as error:
        errors.print(f"[red]error ({error.code}):[/red] {error.detail}")
        raise typer.Exit(1) from None
    except OSError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def _field_text(row: OptionRow, value: object) -> str | None:
    """A flag's value as the options parser reads it; None leaves the library's default."""
    if row.kind is OptionKind.IMAGE:
        return None  # a file, read by _background
    if row.kind is OptionKind.BOOLEAN:
        return "true" if value else None
    return value if isinstance(value, str) else None


def _background(path: object) -> bytes | None:
    return path.read_bytes() if isinstance(path, Path) else None


def _default_note(row: OptionRow) -> str:
    """The library's default of a choice (the flag's own default, None, means "that")."""
    if row.kind is not OptionKind.CHOICE:
        return ""
    return f"Default: {getattr(RemovalOptions(), row.name)}."


def _flag(row: OptionRow) -> inspect.Parameter:
    declaration = "--" + row.name.replace("_", "-")
    # The table's help is Markdown for the docs; a terminal shows it without code marks.
    help_text = f"{row.help} {CLI_NOTES.get(row.name) or _default_note(row)}".strip()
    help_text = help_text.replace("`", "")
    annotation: object = str | None
    default = typer.Option(None, declaration, help=help_text)
    if row.kind is OptionKind.BOOLEAN:
        annotation, default = bool, typer.Option(False, declaration, help=help_text)
    elif row.kind is OptionKind.IMAGE:
        annotation = Path | None
    return inspect.Parameter(
        row.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _signature() -> inspect.Signature:
    fixed = inspect.signature(remove_command, eval_str=True).parameters.values()
    kept = [parameter for parameter in fixed if parameter.kind is not parameter.VAR_KEYWORD]
    return inspect.Signature([*kept, *(_flag(row) for row in ENGINE_OPTIONS)])


remove_command.__signature__ = _signature()  # type: ignore[attr-defined]


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
