"""Who is looking at a page: the signed-in account from the session cookie, if any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.domain.accounts import Account
from bgone.domain.web_sessions import COOKIE_NAME, WebSession, csrf_matches, find_session
from bgone.errors import CsrfFailed, LoginRequired
from bgone.server.deps import get_services


@dataclass(frozen=True)
class Viewer:
    account: Account
    session: WebSession
    token: str


async def get_viewer(request: Request) -> Viewer | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    services = get_services(request)

    def lookup() -> Viewer | None:
        with transaction(services.read_sessions) as session:
            web_session = find_session(session, token)
            if web_session is None:
                return None
            account = accounts.get_by_id(session, web_session.account_id)
            return Viewer(account, web_session, token)

    return await run_in_threadpool(lookup)


async def require_viewer(request: Request) -> Viewer:
    viewer = await get_viewer(request)
    if viewer is None:
        raise LoginRequired("Log in to see this page.")
    return viewer


def check_csrf(viewer: Viewer, submitted: str | None) -> None:
    if not csrf_matches(viewer.session, submitted):
        raise CsrfFailed(
            "This form is missing its security token or the token has expired. Reload the "
            "page and try again."
        )


ViewerDep = Annotated[Viewer | None, Depends(get_viewer)]
SignedInDep = Annotated[Viewer, Depends(require_viewer)]
