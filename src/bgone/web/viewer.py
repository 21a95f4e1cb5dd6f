"""The dashboard's rules for a signed-in page: a session is required, and so is its CSRF
token on every form post, and the viewer's role must grant what the route does (`needs`: the
one place the dashboard checks bgone.domain.roles). The session lookup itself is
bgone.server.deps.current_viewer.

An account that requires two-factor (bgone.services.two_factor) lets a person without it
reach only the enrolment page (`EnrollingDep`) until they have enrolled: checked for the
account the session is in, so switching into an account meets its policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import Permission, require
from bgone.errors import CsrfFailed, LoginRequired, TwoFactorRequired
from bgone.security.csrf import tokens_match
from bgone.server.deps import Viewer, current_viewer, get_services


async def require_session(request: Request) -> Viewer:
    """Signed in, whatever the account's two-factor policy: the enrolment pages only."""
    viewer = await current_viewer(request)
    if viewer is None:
        raise LoginRequired("Log in to see this page.")
    return viewer


async def require_viewer(request: Request) -> Viewer:
    viewer = await require_session(request)
    two_factor = get_services(request).two_factor
    if await run_in_threadpool(two_factor.must_enrol, viewer.user.id, viewer.account.id):
        raise TwoFactorRequired("This account requires two-factor sign-in: set it up first.")
    return viewer


def check_csrf(viewer: Viewer, submitted: str | None) -> None:
    if not tokens_match(viewer.session.csrf_token, submitted):
        raise CsrfFailed(
            "This form is missing its security token or the token has expired. Reload the "
            "page and try again."
        )


SignedInDep = Annotated[Viewer, Depends(require_viewer)]
EnrollingDep = Annotated[Viewer, Depends(require_session)]


def needs(permission: Permission, what: str) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A dependency: the signed-in viewer, if their role grants `permission`; else 403."""

    async def check(viewer: SignedInDep) -> Viewer:
        require(viewer.granted, permission, what)
        return viewer

    return check
