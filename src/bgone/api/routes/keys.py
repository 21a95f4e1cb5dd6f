"""JSON key management for automation, scoped to the caller's account.

Authenticated by a production key of the account; the dashboard manages keys through its
own forms. A key id of another account answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import KeyActorDep
from bgone.domain.durations import parse_grace, parse_lifetime
from bgone.domain.key_records import IssuedKey, key_document
from bgone.domain.roles import KeyScope
from bgone.security.keys import Environment
from bgone.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["key management"])


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    environment: Environment = Environment.PRODUCTION
    scope: KeyScope = Field(
        default=KeyScope.REMOVE,
        description="'remove': removals and /v1/account; 'manage': also key management "
        "(only owners', admins' and manage keys may create one).",
    )
    expires_in: str | None = Field(
        default=None, description="Optional lifetime such as '90d' or '12h'."
    )


class Rotation(BaseModel):
    grace: str = Field(default="24h", description="How long the old key keeps working.")


def issued_document(issued: IssuedKey) -> dict[str, Any]:
    return {**key_document(issued.record), "key": issued.secret}


@router.get("/keys", summary="List this account's API keys")
async def list_keys(services: ServicesDep, actor: KeyActorDep) -> dict[str, Any]:
    records = await run_in_threadpool(services.keys.list_keys, actor.account_id)
    return {"data": [key_document(record) for record in records]}


@router.post("/keys", status_code=201, summary="Create a key (shown once, in this answer)")
async def create_key(body: NewKey, services: ServicesDep, actor: KeyActorDep) -> JSONResponse:
    # Only a missing expires_in means "never": "", "0" and the like are refused.
    lifetime = parse_lifetime(body.expires_in) if body.expires_in is not None else None
    issued = await run_in_threadpool(
        services.keys.create, actor, body.name, body.environment, lifetime, body.scope
    )
    return JSONResponse({"data": issued_document(issued)}, status_code=201)


@router.post("/keys/{key_id}/rotate", status_code=201, summary="Rotate a key with a grace period")
async def rotate_key(
    key_id: str, services: ServicesDep, actor: KeyActorDep, body: Rotation | None = None
) -> JSONResponse:
    grace = parse_grace((body or Rotation()).grace)
    rotation = await run_in_threadpool(services.keys.rotate, actor, key_id, grace)
    return JSONResponse(
        {"data": issued_document(rotation.issued), "replaced": key_document(rotation.replaced)},
        status_code=201,
    )


@router.delete("/keys/{key_id}", summary="Revoke a key immediately")
async def revoke_key(key_id: str, services: ServicesDep, actor: KeyActorDep) -> dict[str, Any]:
    record = await run_in_threadpool(services.keys.revoke, actor, key_id)
    return {"data": key_document(record)}


@router.get("/audit-log", summary="This account's key events, newest first")
async def audit_log(services: ServicesDep, actor: KeyActorDep) -> dict[str, Any]:
    events = await run_in_threadpool(services.keys.audit_log, actor.account_id)
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
