"""FastAPI dependencies the API and the dashboard share, as Annotated aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bgone.db.engine import transaction
from bgone.domain import accounts, members, session_list, users
from bgone.domain.accounts import Account
from bgone.domain.members import Membership
from bgone.domain.roles import GRANTS, Permission, Role
from bgone.domain.users import User
from bgone.domain.web_sessions import COOKIE_NAME, WebSession, find_session
from bgone.server.client_address import storable_address
from bgone.server.container import Services
from bgone.server.middleware import RequestRecord, request_record


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_record(request: Request) -> RequestRecord:
    return request_record(request.scope)


def client_ip(request: Request) -> str | None:
    """The client's IP address, or None when what uvicorn was handed is none."""
    return storable_address(request.client.host if request.client else None)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person behind a dashboard session cookie, in their current account."""

    account: Account
    session: WebSession
    token: str
    user: User
    role: Role
    memberships: tuple[Membership, ...] = ()

    @property
    def granted(self) -> frozenset[Permission]:
        return GRANTS[self.role]

    @property
    def actor(self) -> str:
        """How the audit log names this person's dashboard changes."""
        return f"dashboard:{self.user.email}"


async def current_viewer(request: Request) -> Viewer | None:
    """The one session lookup: who is signed in, or None (no cookie, unknown or expired)."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    services = get_services(request)

    def look_up() -> Viewer | None:
        with transaction(services.read_sessions) as session:
            web_session = find_session(session, token)
            if web_session is None:
                return None
            # No longer a member (removed): the session is over, whatever its expiry says.
            role = members.role_of(session, web_session.account_id, web_session.user_id)
            if role is None:
                return None
            return Viewer(
                accounts.get_by_id(session, web_session.account_id),
                web_session,
                token,
                users.get_by_id(session, web_session.user_id),
                role,
                tuple(members.memberships_of(session, web_session.user_id)),
            )

    viewer = await run_in_threadpool(look_up)
    if viewer is not None and session_list.last_seen_is_stale(viewer.session.last_seen_at):
        # The sessions list's "last seen", written at most every few minutes.
        await run_in_threadpool(services.account_security.seen, token, viewer.session.last_seen_at)
    return viewer


# Dependencies are async on purpose: FastAPI runs plain `def` dependencies in the thread
# pool, a hand-off that would cost more than the lookups themselves.
async def _services_dependency(request: Request) -> Services:
    return get_services(request)


async def _record_dependency(request: Request) -> RequestRecord:
    return get_record(request)


ServicesDep = Annotated[Services, Depends(_services_dependency)]
RecordDep = Annotated[RequestRecord, Depends(_record_dependency)]
ViewerDep = Annotated[Viewer | None, Depends(current_viewer)]
