"""`bgone improve`: the images customers submitted to remove.bg's `/v1.0/improve`.

`list` prints one submission a line; `export DIR` copies the files to DIR under their stored
names (`<id>.<extension>`, private like the originals) and writes DIR/manifest.jsonl, one JSON
object per submission, so that a training set can be built from it without the database.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from bgone.cli.common import console, errors, run_in_database
from bgone.domain import accounts, improve
from bgone.errors import InvalidRequest, NotFound
from bgone.services.improve import FILE_MODE, FOLDER_MODE, submissions_folder
from bgone.settings import Settings

improve_app = typer.Typer(
    help="Images customers submitted to /v1.0/improve: list and export them.",
    no_args_is_help=True,
)
MANIFEST = "manifest.jsonl"

ACCOUNT_OPTION = typer.Option(None, "--account", help="Only this account's (its email).")
SINCE_OPTION = typer.Option(None, "--since", help="Only from this UTC date on: YYYY-MM-DD.")


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(f"--since takes a date as YYYY-MM-DD, not {text!r}") from None


def _select(
    session: Session, email: str | None, since: str | None
) -> list[tuple[improve.Submission, str]]:
    """The chosen submissions, oldest first, each with its account's email."""
    account_id = None
    if email is not None:
        account = accounts.get_by_email(session, email)
        if account is None:
            raise NotFound(f"no account for {email}")
        account_id = account.id
    chosen = improve.list_submissions(session, account_id=account_id, since=_since(since))
    emails: dict[int, str] = {}
    for submission in chosen:
        if submission.account_id not in emails:
            emails[submission.account_id] = accounts.get_by_id(session, submission.account_id).email
    return [(submission, emails[submission.account_id]) for submission in chosen]


@improve_app.command("list")
def list_submissions(
    account: str | None = ACCOUNT_OPTION, since: str | None = SINCE_OPTION
) -> None:
    """One line per submission, oldest first: id, time, account, size, tag, file name."""
    chosen = run_in_database(Settings(), lambda session: _select(session, account, since))
    for submission, email in chosen:
        console.print(
            f"{submission.id}  {submission.at:%Y-%m-%d %H:%M:%S}Z  {email}  "
            f"{submission.size_bytes} B  tag={submission.tag or '-'}  "
            f"file={submission.filename or '-'}",
            markup=False,
            highlight=False,
        )
    console.print(f"{len(chosen)} submissions", highlight=False)


@improve_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="Where the files and manifest.jsonl go."),
    account: str | None = ACCOUNT_OPTION,
    since: str | None = SINCE_OPTION,
) -> None:
    """Copy the submitted images to DIRECTORY, with manifest.jsonl describing each."""
    settings = Settings()
    chosen = run_in_database(settings, lambda session: _select(session, account, since))
    source = submissions_folder(settings.data_dir)
    directory.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    rows: list[str] = []
    missing = 0
    for submission, email in chosen:
        stored = source / submission.stored_name
        if not stored.is_file():
            errors.print(f"missing file for {submission.id}: {stored}", markup=False)
            missing += 1
            continue
        _write_private(directory / submission.stored_name, stored.read_bytes())
        rows.append(json.dumps(_manifest_entry(submission, email), ensure_ascii=False))
    _write_private(directory / MANIFEST, "".join(row + "\n" for row in rows).encode())
    console.print(f"exported {len(rows)} submissions to {directory}", highlight=False)
    if missing:
        raise typer.Exit(1)


def _manifest_entry(submission: improve.Submission, email: str) -> dict[str, object]:
    return {
        "id": submission.id,
        "file": submission.stored_name,
        "account_id": submission.account_id,
        "account": email,
        "key_id": submission.key_id,
        "submitted_at": submission.at.isoformat(),
        "tag": submission.tag,
        "filename": submission.filename,
        "size_bytes": submission.size_bytes,
        "sha256": submission.sha256,
    }


def _write_private(path: Path, data: bytes) -> None:
    """Customers' photos stay private in the export too; an export run again overwrites."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), FILE_MODE)  # an existing file keeps its mode otherwise
        file.write(data)
