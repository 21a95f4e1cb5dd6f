"""FastAPI dependencies the API and the dashboard share, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bgone.server.container import Services
from bgone.server.middleware import RequestRecord, request_record


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_record(request: Request) -> RequestRecord:
    return request_record(request.scope)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Dependencies are async on purpose: FastAPI runs plain `def` dependencies in the thread
# pool, a hand-off that would cost more than the lookups themselves.
async def _services_dependency(request: Request) -> Services:
    return get_services(request)


async def _record_dependency(request: Request) -> RequestRecord:
    return get_record(request)


ServicesDep = Annotated[Services, Depends(_services_dependency)]
RecordDep = Annotated[RequestRecord, Depends(_record_dependency)]
