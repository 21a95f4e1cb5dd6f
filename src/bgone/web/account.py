"""The account page: plan, credits, usage chart, API access (keys) and the audit log.

What the viewer's role lacks is left out of the page, and each form's route refuses it
(`needs`): hiding is a courtesy, the route's check is the rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain import audit, credits, plans, usage
from bgone.domain.durations import parse_grace
from bgone.domain.invitations import Invitation
from bgone.domain.key_records import key_document
from bgone.domain.leaks import LeakedKeyAction, LeakReport
from bgone.domain.members import Member
from bgone.domain.plan_limits import Limits
from bgone.domain.plan_requests import PlanRequest
from bgone.domain.roles import Permission, Role
from bgone.domain.shown_once import InvitationLink, NewSecret
from bgone.errors import BgoneError
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer, client_ip
from bgone.services.keys import KeyActor
from bgone.web.chart import usage_svg
from bgone.web.pages import MIN_PASSWORD_LENGTH
from bgone.web.templating import render
from bgone.web.usage import load_statement
from bgone.web.viewer import SignedInDep, check_csrf, needs

router = APIRouter(include_in_schema=False)

UNVERIFIED = "Confirm your email address before creating keys: follow the link we sent you."

# A key that expires this soon gets a badge in the keys table and a banner above it.
EXPIRY_WARNING = timedelta(days=7)

GRACE_CHOICES = (
    ("0", "End it now"),
    ("1h", "1 hour"),
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
)


@dataclass
class AccountView:
    plan: plans.Plan
    limits: Limits
    balance: credits.Balance
    usage_svg: str
    totals: usage.UsageSummary
    keys: list[dict[str, object]]
    events: list[audit.AuditEvent]
    api_plans: list[plans.Plan]
    members: list[Member]
    invitations: list[Invitation]
    # Keys reported as leaked, not yet dismissed (bgone.web.leaks), and the account's choice.
    leak_reports: list[LeakReport] = field(default_factory=list)
    leak_warn_only: bool = False
    # The newest plan request (bgone.web.plan_request) and the plans switched to at once.
    plan_request: PlanRequest | None = None
    self_serve_plans: frozenset[str] = frozenset()


def _load(services: Services, viewer: Viewer) -> AccountView:
    now = datetime.now(UTC)
    data = services.account_summaries.account_page(viewer.account.id, now)
    summary = data.summary
    granted = viewer.granted
    team = (
        services.members.list_members(viewer.account.id)
        if Permission.VIEW_MEMBERS in granted
        else []
    )
    emails = {member.user_id: member.email for member in team}
    return AccountView(
        plan=summary.account.plan,
        limits=summary.limits,
        balance=summary.balance,
        usage_svg=usage_svg(data.daily_usage),
        totals=summary.period_usage,
        keys=[
            {
                **key_document(record, now),
                "mine": record.created_by_user_id == viewer.user.id,
                "expires_soon": expires_soon(record.expires_at, record.revoked_at, now),
                "created_by_user_id": record.created_by_user_id,
                # The member by name; else the actor as recorded (an operator, a key).
                "creator": emails.get(record.created_by_user_id or 0)
                or record.created_by.removeprefix("dashboard:"),
            }
            for record in data.keys
        ]
        if Permission.VIEW_KEYS in granted
        else [],
        events=data.events if Permission.VIEW_AUDIT_LOG in granted else [],
        api_plans=data.api_plans,
        members=team,
        invitations=services.invitations.list_open(viewer.account.id)
        if Permission.MANAGE_MEMBERS in granted
        else [],
        # The banner: owners and admins (they act on a leaked key); the choice: owners.
        leak_reports=services.leaks.open_reports(viewer.account.id)
        if Permission.VIEW_LEAK_REPORTS in granted
        else [],
        leak_warn_only=services.leaks.action_of(viewer.account.id) is LeakedKeyAction.WARN,
        plan_request=services.plan_requests.latest(viewer.account.id),
        self_serve_plans=frozenset(services.settings.self_serve_plans),
    )


def expires_soon(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """Still working, and stops within EXPIRY_WARNING: time to rotate it."""
    if expires_at is None or revoked_at is not None:
        return False
    return now < expires_at <= now + EXPIRY_WARNING


def revoked_notice(view: AccountView, revoked: str | None) -> str | None:
    """The notice after a revocation, for a revoked key of this account only: the parameter
    is anyone's to write into a link, so no other text is ever shown as the site's word."""
    for key in view.keys:
        if revoked and key["id"] == revoked and key["revoked_at"] is not None:
            return f"Key {key['id']} was revoked; requests with it now get 401."
    return None


async def _page(
    request: Request,
    services: Services,
    viewer: Viewer,
    status_code: int = 200,
    revoked: str | None = None,
    **extra: object,
) -> Response:
    view = await run_in_threadpool(_load, services, viewer)
    if revoked is not None:
        extra["notice"] = revoked_notice(view, revoked)
    security = await run_in_threadpool(
        services.account_security.overview, viewer.user.id, viewer.token
    )
    return render(
        request,
        "account.html",
        viewer,
        status_code=status_code,
        view=view,
        grace_choices=GRACE_CHOICES,
        can={permission.value: permission in viewer.granted for permission in Permission},
        roles=[role.value for role in Role],
        security=security,
        min_password_length=MIN_PASSWORD_LENGTH,
        statement=await load_statement(request, services, viewer),
        **extra,
    )


def key_actor(request: Request, viewer: Viewer) -> KeyActor:
    """The signed-in member, as the audit log records dashboard changes."""
    return KeyActor(
        viewer.account.id,
        viewer.actor,
        client_ip(request),
        granted=viewer.granted,
        user_id=viewer.user.id,
    )


CreatesKeysDep = Annotated[Viewer, Depends(needs(Permission.CREATE_KEY, "creating keys"))]
ChangesKeysDep = Annotated[Viewer, Depends(needs(Permission.MANAGE_OWN_KEYS, "changing keys"))]


PLAN_NOTICES = {
    "requested": "Request sent: the operator will answer here (and by email when it is set up).",
    "switched": "Your account is on its new plan: you can generate API keys now.",
}


@router.get("/account")
async def account_page(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    revoked: str | None = None,
    plan: str = "",
) -> Response:
    # A secret from the generate or rotate form: shown on this page once, never from the URL.
    new = await run_in_threadpool(services.shown_once.take, viewer.token)
    if isinstance(new, NewSecret) and new.environment == "webhook":
        # A webhook's secret (bgone.web.webhooks) that its page did not take: kept for it.
        await run_in_threadpool(services.shown_once.keep, viewer.token, new)
        new = None
    if new is None:
        return await _page(
            request, services, viewer, revoked=revoked, plan_notice=PLAN_NOTICES.get(plan)
        )
    if isinstance(new, InvitationLink):
        return await _page(request, services, viewer, revoked=revoked, invite_link=new)
    return await _page(
        request,
        services,
        viewer,
        revoked=revoked,
        new_key=new.secret,
        new_key_record={"id": new.key_id, "environment": new.environment, "name": new.name},
        rotated_from=new.rotated_from,
        rotated_grace=new.rotated_grace,
    )


SHOW_NEW_KEY = "/account#api-access"


@router.post("/account/keys")
async def generate_key(
    request: Request,
    services: ServicesDep,
    viewer: CreatesKeysDep,
    name: Annotated[str, Form()] = "",
    environment: Annotated[str, Form()] = "production",
    scope: Annotated[str, Form()] = "remove",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    if await run_in_threadpool(services.account_security.unverified_email, viewer.user.id):
        return await _page(request, services, viewer, status_code=403, key_error=UNVERIFIED)
    actor = key_actor(request, viewer)
    try:
        issued = await run_in_threadpool(
            services.keys.create, actor, name, environment, None, scope
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    new = NewSecret(
        issued.secret, issued.record.id, issued.record.environment.value, issued.record.name
    )
    await run_in_threadpool(services.shown_once.keep, viewer.token, new)
    return RedirectResponse(SHOW_NEW_KEY, status_code=303)


@router.post("/account/keys/{key_id}/rotate")
async def rotate_key(
    key_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ChangesKeysDep,
    grace: Annotated[str, Form()] = "24h",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    actor = key_actor(request, viewer)
    try:
        rotation = await run_in_threadpool(services.keys.rotate, actor, key_id, parse_grace(grace))
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    record = rotation.issued.record
    new = NewSecret(
        rotation.issued.secret,
        record.id,
        record.environment.value,
        record.name,
        rotated_from=key_id,
        rotated_grace=grace,
    )
    await run_in_threadpool(services.shown_once.keep, viewer.token, new)
    return RedirectResponse(SHOW_NEW_KEY, status_code=303)


@router.post("/account/keys/{key_id}/revoke")
async def revoke_key(
    key_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ChangesKeysDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        record = await run_in_threadpool(services.keys.revoke, key_actor(request, viewer), key_id)
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    return RedirectResponse(f"/account?revoked={record.id}#api-access", status_code=303)
