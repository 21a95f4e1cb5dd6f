"""What is known about an API key, minus its secret: the shape listings and the API share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bgone.db.tables import ApiKeyRow
from bgone.domain.roles import KeyScope
from bgone.security.keys import Environment


class KeyState(StrEnum):
    ACTIVE = "active"
    ROTATING = "rotating"  # replaced, still accepted until its grace period ends
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class KeyRecord:
    """Everything about a key except its secret and hash."""

    id: str
    account_id: int
    name: str
    environment: Environment
    display: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: str | None
    scope: KeyScope = KeyScope.REMOVE
    created_by_user_id: int | None = None

    def state_at(self, now: datetime) -> KeyState:
        if self.revoked_at is not None:
            return KeyState.REVOKED
        if is_expired(self.expires_at, now):
            return KeyState.EXPIRED
        return KeyState.ROTATING if self.replaced_by is not None else KeyState.ACTIVE


@dataclass(frozen=True)
class IssuedKey:
    record: KeyRecord
    secret: str = field(repr=False)  # shown to the user once, then gone


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def record_from_row(row: ApiKeyRow) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        environment=Environment(row.environment),
        display=row.display,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        replaced_by=row.replaced_by,
        scope=KeyScope(row.scope),
        created_by_user_id=row.created_by_user_id,
    )


def key_document(record: KeyRecord, now: datetime | None = None) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": record.id,
        "name": record.name,
        "environment": record.environment.value,
        "scope": record.scope.value,
        "display": record.display,
        "state": record.state_at(now or datetime.now(UTC)).value,
        "created_by": record.created_by,
        "created_at": iso(record.created_at),
        "last_used_at": iso(record.last_used_at),
        "last_used_ip": record.last_used_ip,
        "expires_at": iso(record.expires_at),
        "revoked_at": iso(record.revoked_at),
        "replaced_by": record.replaced_by,
    }
