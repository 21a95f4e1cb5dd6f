"""JSON key management for the dashboard and for automation, scoped to the caller's account.

Authenticated by a production key of the account (the dashboard session joins later). A
key id of another account answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import ManagerDep
from bgone.db.engine import transaction
from bgone.domain import api_keys, audit
from bgone.domain.durations import parse_duration
from bgone.domain.key_records import IssuedKey, KeyRecord, key_document
from bgone.security.keys import Environment
from bgone.server.deps import ServicesDep, client_ip

router = APIRouter(prefix="/api", tags=["key management"])


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    environment: Environment = Environment.PRODUCTION
    expires_in: str | None = Field(
        default=None, description="Optional lifetime such as '90d' or '12h'."
    )


class Rotation(BaseModel):
    grace: str = Field(default="24h", description="How long the old key keeps working.")


def issued_document(issued: IssuedKey) -> dict[str, Any]:
    return {**key_document(issued.record), "key": issued.secret}


@router.get("/keys", summary="List this account's API keys")
async def list_keys(services: ServicesDep, manager: ManagerDep) -> dict[str, Any]:
    def work() -> list[KeyRecord]:
        with transaction(services.read_sessions) as session:
            return api_keys.list_keys(session, manager.account_id)

    return {"data": [key_document(r) for r in await run_in_threadpool(work)]}


@router.post("/keys", status_code=201, summary="Create a key (shown once, in this answer)")
async def create_key(
    body: NewKey, request: Request, services: ServicesDep, manager: ManagerDep
) -> JSONResponse:
    lifetime: timedelta | None = parse_duration(body.expires_in) if body.expires_in else None

    def work() -> IssuedKey:
        with transaction(services.sessions) as session:
            expires_at = datetime.now(UTC) + lifetime if lifetime else None
            return api_keys.create_key(
                session,
                manager.account_id,
                body.name,
                body.environment,
                manager.actor,
                services.ring,
                ip=client_ip(request),
                expires_at=expires_at,
            )

    issued = await run_in_threadpool(work)
    return JSONResponse({"data": issued_document(issued)}, status_code=201)


@router.post("/keys/{key_id}/rotate", status_code=201, summary="Rotate a key with a grace period")
async def rotate_key(
    key_id: str,
    request: Request,
    services: ServicesDep,
    manager: ManagerDep,
    body: Rotation | None = None,
) -> JSONResponse:
    grace = parse_duration((body or Rotation()).grace)

    def work() -> tuple[IssuedKey, KeyRecord]:
        with transaction(services.sessions) as session:
            issued = api_keys.rotate(
                session,
                manager.account_id,
                key_id,
                manager.actor,
                services.ring,
                grace=grace,
                ip=client_ip(request),
            )
            return issued, api_keys.get_key(session, manager.account_id, key_id)

    issued, old = await run_in_threadpool(work)
    services.key_cache.invalidate(key_id)
    return JSONResponse(
        {"data": issued_document(issued), "replaced": key_document(old)}, status_code=201
    )


@router.delete("/keys/{key_id}", summary="Revoke a key immediately")
async def revoke_key(
    key_id: str, request: Request, services: ServicesDep, manager: ManagerDep
) -> dict[str, Any]:

    def work() -> KeyRecord:
        with transaction(services.sessions) as session:
            return api_keys.revoke(
                session, manager.account_id, key_id, manager.actor, ip=client_ip(request)
            )

    record = await run_in_threadpool(work)
    services.key_cache.invalidate(key_id)
    return {"data": key_document(record)}


@router.get("/audit-log", summary="This account's key events, newest first")
async def audit_log(services: ServicesDep, manager: ManagerDep) -> dict[str, Any]:
    def work() -> list[audit.AuditEvent]:
        with transaction(services.read_sessions) as session:
            return audit.list_for_account(session, manager.account_id)

    events = await run_in_threadpool(work)
    return {
        "data": [
            {
                "at": event.at.isoformat(),
                "action": event.action.value,
                "key_id": event.key_id,
                "actor": event.actor,
                "ip": event.ip,
                "detail": event.detail,
            }
            for event in events
        ]
    }
