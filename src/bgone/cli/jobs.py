"""`bgone jobs submit DIR|URLS`: a batch job on a running server, through the SDK.

The images of a directory (JPEG, PNG, WebP, or one ZIP) or a list of URLs go in one job;
`--wait` shows a progress bar until it ends, `--out DIR` downloads the results there. The
key is `--key`, or else BGONE_API_KEY (read by the SDK).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bgone.cli.common import console, errors
from bgone_client import BgoneClientError, Client, Job, RemoveOptions, Source

jobs_app = typer.Typer(help="Batch jobs on a running server.", no_args_is_help=True)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".zip")


def sources_of(targets: list[str]) -> list[Source]:
    """A directory's images (sorted by name), or the URLs and files as given."""
    if len(targets) == 1 and Path(targets[0]).is_dir():
        folder = Path(targets[0])
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise typer.BadParameter(f"{folder} holds no JPEG, PNG, WebP or ZIP file")
        return list(found)
    return [t if t.lower().startswith(("http://", "https://")) else Path(t) for t in targets]


@jobs_app.command("submit")
def submit(
    targets: list[str] = typer.Argument(..., help="A directory of images, files, or URLs."),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the job ends."),
    out: Path | None = typer.Option(None, "--out", help="Download the results here (waits)."),
    server: str = typer.Option("http://127.0.0.1:8000", "--server", help="The server's URL."),
    key: str | None = typer.Option(None, "--key", help="API key (default: BGONE_API_KEY)."),
    size: str = typer.Option("full", help="Result size, as the API's `size`."),
    format: str = typer.Option("png", "--format", help="Result format, as the API's `format`."),
) -> None:
    """Submit images as one batch job; optionally wait for it and download its results."""
    options = RemoveOptions(size=size, format=format)  # type: ignore[arg-type]
    try:
        with Client(key, server, timeout=300) as client:
            job = client.jobs.submit(sources_of(targets), options)
            console.print(f"job {job.id}: {job.document.get('admitted', '?')} images admitted")
            if wait or out is not None:
                job = _wait(client, job)
                _report(job)
            if out is not None:
                written = client.jobs.download(job, out)
                console.print(f"{len(written)} files written to {out}")
    except BgoneClientError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    if job.finished and job.state != "completed":
        raise typer.Exit(1)


def _wait(client: Client, job: Job) -> Job:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(job.id, total=None)

        def show(current: Job) -> None:
            total = current.counts.get("total", 0)
            ended = sum(current.counts.get(s, 0) for s in ("succeeded", "failed", "cancelled"))
            progress.update(task, total=total, completed=ended, description=current.state)

        return client.jobs.wait(job, poll_seconds=0.5, on_progress=show)


def _report(job: Job) -> None:
    counts = job.counts
    console.print(
        f"job {job.id} {job.state}: {counts.get('succeeded', 0)} succeeded, "
        f"{counts.get('failed', 0)} failed, {counts.get('cancelled', 0)} cancelled"
    )
    for item in job.items:
        if item.error_code:
            console.print(f"  {item.index:04d} {item.name}: {item.error_code}")
