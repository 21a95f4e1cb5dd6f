"""`bgone keys`: operator commands for API keys. New keys print alone on the last line."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from sqlalchemy.orm import Session

from bgone.cli.common import console, run_in_database
from bgone.domain import accounts, api_keys
from bgone.domain.durations import parse_duration
from bgone.domain.key_records import key_document
from bgone.errors import NotFound
from bgone.infra.keycache import announce_key_change
from bgone.security.hashing import load_secret_ring
from bgone.settings import Settings

keys_app = typer.Typer(help="Create, list, rotate and revoke API keys.", no_args_is_help=True)
OPERATOR = "operator (cli)"


def _account_id(session: Session, email: str) -> int:
    account = accounts.get_by_email(session, email)
    if account is None:
        raise NotFound(f"no account for {email}")
    return account.id


@keys_app.command("create")
def create(
    email: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="What uses the key, e.g. 'shop backend'."),
    environment: str = typer.Option("production", "--env", help="production or staging."),
    expires_in: str | None = typer.Option(None, "--expires-in", help="e.g. 90d (optional)."),
) -> None:
    """Create a key; it is shown once, alone on the last line."""
    settings = Settings()
    ring = load_secret_ring(settings)
    lifetime = parse_duration(expires_in) if expires_in else None
    issued = run_in_database(
        settings,
        lambda s: api_keys.create_key(
            s,
            _account_id(s, email),
            name,
            environment,
            OPERATOR,
            ring,
            expires_at=datetime.now(UTC) + lifetime if lifetime else None,
        ),
    )
    typer.echo(
        f"created {issued.record.environment.value} key {issued.record.id} "
        f"({issued.record.name}); store it now, it is not shown again:",
        err=True,
    )
    typer.echo(issued.secret)


@keys_app.command("list")
def list_keys(email: str = typer.Argument(...)) -> None:
    """An account's keys (display form only)."""
    records = run_in_database(Settings(), lambda s: api_keys.list_keys(s, _account_id(s, email)))
    header = ("ID", "NAME", "ENV", "KEY", "STATE", "CREATED", "LAST USED", "EXPIRES")
    rows = [header]
    for record in records:
        document = key_document(record)
        last_used = (document["last_used_at"] or "never")[:19]
        if record.last_used_ip:
            last_used += f" from {record.last_used_ip}"
        rows.append(
            (
                record.id,
                record.name,
                record.environment.value,
                record.display,
                document["state"],
                document["created_at"][:19],
                last_used,
                (document["expires_at"] or "-")[:19],
            )
        )
    # Plain aligned columns: readable in a terminal, and greppable in scripts.
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@keys_app.command("rotate")
def rotate(
    key_id: str = typer.Argument(...),
    grace: str = typer.Option("24h", "--grace", help="How long the old key keeps working."),
) -> None:
    """Replace a key; the old one works for the grace period. New key on the last line."""
    settings = Settings()
    ring = load_secret_ring(settings)
    period = parse_duration(grace)
    issued = run_in_database(
        settings,
        lambda s: api_keys.rotate(
            s, api_keys.owner_of(s, key_id), key_id, OPERATOR, ring, grace=period
        ),
    )
    announce_key_change(settings, key_id)
    typer.echo(
        f"rotated {key_id}: it stops working in {grace}; new key {issued.record.id}:", err=True
    )
    typer.echo(issued.secret)


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(...)) -> None:
    """Refuse a key from now on."""
    settings = Settings()
    record = run_in_database(
        settings, lambda s: api_keys.revoke(s, api_keys.owner_of(s, key_id), key_id, OPERATOR)
    )
    announce_key_change(settings, key_id)
    console.print(f"revoked {record.id} ({record.name})")
