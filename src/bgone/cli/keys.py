"""`bgone keys`: operator commands for API keys. New keys print alone on the last line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from bgone.cli.common import console, fail
from bgone.db.engine import make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.domain import members
from bgone.domain.durations import parse_grace, parse_lifetime
from bgone.domain.key_records import key_document
from bgone.domain.operator_log import OperatorAction
from bgone.errors import BgoneError
from bgone.infra.keycache import KeyCache
from bgone.infra.task_queue import build_task_queue
from bgone.security.hashing import load_secret_ring
from bgone.services.keys import KeyActor, KeyService
from bgone.services.operator_console import OperatorActor, OperatorConsole
from bgone.services.webhook_events import EventPublisher
from bgone.services.webhook_tasks import WebhookTasks
from bgone.settings import Settings

keys_app = typer.Typer(help="Create, list, rotate and revoke API keys.", no_args_is_help=True)
OPERATOR = "operator (cli)"
ACCOUNT_HELP = "An account id, or the email of its sole owner."


@contextmanager
def operator_key_service(settings: Settings) -> Iterator[KeyService]:
    """The servers' key service on a migrated database; an error ends the command.

    The CLI holds no cache of its own: an unstarted KeyCache only publishes each
    invalidation on the servers' Redis channel, the same one a server's changes use. Its
    events (key.revoked) go on the deployment's task queue, where the servers' and workers'
    consumers deliver them, as they deliver a revocation made in the dashboard.
    """
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    key_cache: KeyCache[object] = KeyCache(settings.redis_url, settings.redis_key_prefix)
    events = EventPublisher(WebhookTasks(build_task_queue(settings)))
    try:
        yield KeyService(sessions, sessions, load_secret_ring(settings), key_cache, events)
    except BgoneError as error:
        fail(error)
    finally:
        engine.dispose()


def account_id_of(service: KeyService, account: str) -> int:
    """An account id, or an email that identifies exactly one account (its owner's)."""
    with transaction(service.read_sessions) as session:
        return members.account_named(session, account)


def log_key_action(
    service: KeyService, action: OperatorAction, account_id: int, detail: str
) -> None:
    """The key commands in the global audit log, as every operator action is."""
    OperatorConsole(service.sessions, service.read_sessions, service).record(
        OperatorActor(), action, account_id, detail
    )


def operator_of(service: KeyService, key_id: str) -> KeyActor:
    """The operator, acting on the account that owns `key_id`."""
    return KeyActor(service.owner_of(key_id), OPERATOR)


@keys_app.command("create")
def create(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    name: str = typer.Option(..., "--name", help="What uses the key, e.g. 'shop backend'."),
    environment: str = typer.Option("production", "--env", help="production or staging."),
    expires_in: str | None = typer.Option(None, "--expires-in", help="e.g. 90d (optional)."),
    scope: str = typer.Option(
        "remove", "--scope", help="remove (removals, /v1/account) or manage (also /api/keys)."
    ),
) -> None:
    """Create a key; it is shown once, alone on the last line."""
    with operator_key_service(Settings()) as service:
        lifetime = parse_lifetime(expires_in) if expires_in is not None else None
        actor = KeyActor(account_id_of(service, account), OPERATOR)
        issued = service.create(actor, name, environment, lifetime, scope)
        log_key_action(service, OperatorAction.KEY_CREATED, actor.account_id, issued.record.id)
    typer.echo(
        f"created {issued.record.environment.value} key {issued.record.id} "
        f"({issued.record.name}); store it now, it is not shown again:",
        err=True,
    )
    typer.echo(issued.secret)


@keys_app.command("list")
def list_keys(account: str = typer.Argument(..., help=ACCOUNT_HELP)) -> None:
    """An account's keys (display form only)."""
    with operator_key_service(Settings()) as service:
        records = service.list_keys(account_id_of(service, account))
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
    with operator_key_service(Settings()) as service:
        period = parse_grace(grace)
        by = operator_of(service, key_id)
        rotated = service.rotate(by, key_id, period)
        log_key_action(service, OperatorAction.KEY_ROTATED, by.account_id, key_id)
    issued, ends = rotated.issued, rotated.replaced.expires_at
    # The end as it is: the old key's own expiry may come before the grace period's.
    until = ends.isoformat(timespec="seconds") if ends else "?"
    typer.echo(f"rotated {key_id}: it works until {until}; new key {issued.record.id}:", err=True)
    typer.echo(issued.secret)


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(...)) -> None:
    """Refuse a key from now on."""
    with operator_key_service(Settings()) as service:
        by = operator_of(service, key_id)
        record = service.revoke(by, key_id)
        log_key_action(service, OperatorAction.KEY_REVOKED, by.account_id, key_id)
    console.print(f"revoked {record.id} ({record.name})")
