"""The console's rule for every /admin page and form: signed in (else the login page), an
operator (else 403), with two-factor on (else the enrolment page first); forms also carry
the session's CSRF token. Every action is done as "console:<email>" from the client's IP."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bgone.errors import OperatorRequired, TwoFactorRequired
from bgone.server.deps import Viewer, client_ip, get_services
from bgone.services.operator_console import ConsoleAccess, OperatorActor
from bgone.web.viewer import require_session


async def require_operator(request: Request) -> Viewer:
    viewer = await require_session(request)
    access = await run_in_threadpool(get_services(request).operator_console.access, viewer.user.id)
    if access is ConsoleAccess.NOT_AN_OPERATOR:
        raise OperatorRequired("The console is for the operators of this server.")
    if access is ConsoleAccess.ENROL_FIRST:
        raise TwoFactorRequired("Operators must use two-factor sign-in: set it up first.")
    return viewer


OperatorDep = Annotated[Viewer, Depends(require_operator)]


def operator_actor(request: Request, viewer: Viewer) -> OperatorActor:
    return OperatorActor(f"console:{viewer.user.email}", client_ip(request))
