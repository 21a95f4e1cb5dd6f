"""The role matrix on a real `bgone serve`: every state-changing route (the dashboard's form
posts and the key API) x every kind of caller (each role, another account's owner, signed
out, an API key of each scope), each answer compared with the expected one AND with the
database: an allowed change happened, a refused one did not. Zero unexpected allows.

A case gets fresh targets (keys, members) and a fresh session, so no case depends on
another. Expected answers: allow (2xx, or a redirect elsewhere than /login), 403, 404,
login (a redirect to /login), 401 (the key API without a key).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import (
    LeakReportRow,
    PlanRequestRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookSecretRow,
)
from bgone.domain import (
    accounts,
    credits_low,
    invitations,
    leaks,
    members,
    session_list,
    two_factor,
    users,
    web_sessions,
    webhook_deliveries,
    webhook_endpoints,
)
from bgone.domain.clock import utc_now
from bgone.domain.leaks import LeakedKeyAction
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, KeyScope, Role
from bgone.domain.webhook_events import EventType
from bgone.security.hashing import SecretRing
from bgone.security.passwords import hash_password, verify_password
from tests.support.stack import Server, Stack
from tests.support.teams import (
    Team,
    key_changed,
    key_count,
    open_invitations,
    role_in,
    session_account,
)

CALLERS = (
    "owner", "admin", "developer", "viewer", "other_owner", "signed_out", "key_remove",
    "key_manage",
)  # fmt: skip
ROLES = {
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
    "developer": Role.DEVELOPER,
    "viewer": Role.VIEWER,
}


@dataclass
class World:
    stack: Stack
    a: Team  # the account under test
    b: Team  # another account
    elsewhere: int  # a third account where A's four members are viewers (to switch to)
    remove_key: str = ""
    manage_key: str = ""


@dataclass
class Caller:
    name: str
    account_id: int | None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    token: str = ""


@dataclass
class Case:
    method: str
    path: str
    changed: Callable[[], bool]
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    # The caller in the case's own fresh account, for the routes that would end the shared
    # one (deleting it, handing it over); None: the caller as built.
    as_caller: Caller | None = None


def caller(world: World, name: str) -> Caller:
    if name in ROLES:
        s = world.a.session_of(world.a.by_role[ROLES[name]])
        return Caller(name, world.a.account_id, s.cookies, csrf=s.csrf, token=s.token)
    if name == "other_owner":
        s = world.b.session_of(world.b.owner)
        return Caller(name, world.b.account_id, s.cookies, csrf=s.csrf, token=s.token)
    if name == "signed_out":
        return Caller(name, None)
    secret = world.a.secret_of(world.remove_key if name == "key_remove" else world.manage_key)
    return Caller(name, world.a.account_id, headers={"x-api-key": secret})


def create_key(scope: str, api: bool) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        account = who.account_id or world.a.account_id
        before = key_count(world.stack, account)
        changed = lambda: key_count(world.stack, account) > before  # noqa: E731
        if api:
            return Case("POST", "/api/keys", changed, json={"name": "m", "scope": scope})
        return Case("POST", "/account/keys", changed, form={"name": "m", "scope": scope})

    return build


def change_key(whose: str, action: str, api: bool) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        team = world.b if whose == "b" else world.a
        maker = {"owner": team.owner, "b": team.owner, "dev": world.a.by_role[Role.DEVELOPER]}
        key_id = team.key(maker[whose])
        changed = lambda: key_changed(world.stack, key_id)  # noqa: E731
        if api:
            method = "DELETE" if action == "revoke" else "POST"
            path = f"/api/keys/{key_id}" + ("/rotate" if action == "rotate" else "")
            return Case(method, path, changed, json={} if action == "rotate" else None)
        return Case("POST", f"/account/keys/{key_id}/{action}", changed, form={})

    return build


def set_origins(world: World, who: Caller) -> Case:
    origin = f"https://t{secrets.token_hex(4)}.example"
    account = who.account_id or world.a.account_id

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return origin in accounts.get_by_id(session, account).allowed_origins

    return Case("POST", "/account/origins", changed, form={"origins": origin})


def member_role(target: Role, new: Role) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        user = world.a.add(target)
        changed = lambda: role_in(world.stack, world.a.account_id, user) is new  # noqa: E731
        return Case("POST", f"/account/members/{user}/role", changed, form={"role": new.value})

    return build


def remove_member(target: Role) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        user = world.a.add(target)
        changed = lambda: role_in(world.stack, world.a.account_id, user) is None  # noqa: E731
        return Case("POST", f"/account/members/{user}/remove", changed, form={})

    return build


def invite(role: Role) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        email = f"matrix-{secrets.token_hex(4)}@example.com"
        account = who.account_id or world.a.account_id
        changed = lambda: email in open_invitations(world.stack, account)  # noqa: E731
        form = {"email": email, "role": role.value}
        return Case("POST", "/account/invitations", changed, form=form)

    return build


def withdraw(world: World, who: Caller) -> Case:
    invitation_id, _ = world.a.invite(Role.DEVELOPER)

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            open_ids = [i.id for i in invitations.list_open(session, world.a.account_id)]
        return invitation_id not in open_ids

    return Case("POST", f"/account/invitations/{invitation_id}/withdraw", changed, form={})


def switch(world: World, who: Caller) -> Case:
    def changed() -> bool:
        return bool(who.token) and session_account(world.stack, who.token) == world.elsewhere

    return Case("POST", "/account/switch", changed, form={"account_id": str(world.elsewhere)})


def leak_action(world: World, who: Caller) -> Case:
    account = who.account_id or world.a.account_id
    with transaction(world.stack.sessions) as session:
        leaks.set_action(session, account, LeakedKeyAction.REVOKE, "tests", None)

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return leaks.action_of(session, account) is LeakedKeyAction.WARN

    return Case("POST", "/account/leaked-keys", changed, form={"warn_only": "1"})


def dismiss_leak(world: World, who: Caller) -> Case:
    with transaction(world.stack.sessions) as session:
        row = LeakReportRow(
            account_id=world.a.account_id,
            key_id=world.remove_key,
            reported_at=utc_now(),
            source="plain",
            outcome="flagged",
        )
        session.add(row)
        session.flush()
        report_id = row.id

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return session.get_one(LeakReportRow, report_id).dismissed_at is not None

    return Case("POST", f"/account/leak-reports/{report_id}/dismiss", changed, form={})


def two_factor_policy(world: World, who: Caller) -> Case:
    account = who.account_id or world.a.account_id

    def changed() -> bool:
        # Read, then undo: a required policy would send the next cases' members to enrol.
        with transaction(world.stack.sessions) as session:
            required = two_factor.is_required(session, account)
            two_factor.set_required(session, account, False)
        return required

    return Case("POST", "/account/two-factor/policy", changed, form={"required": "on"})


def person_of(world: World, who: Caller) -> tuple[int, int]:
    """The caller's person and account; A's owner for callers without a session."""
    if not who.token:
        return world.a.owner, world.a.account_id
    with transaction(world.stack.sessions) as session:
        found = web_sessions.find_session(session, who.token)
    assert found is not None
    return found.user_id, found.account_id


def end_my_session(world: World, who: Caller) -> Case:
    user_id, account_id = person_of(world, who)
    with transaction(world.stack.sessions) as session:
        other, _ = web_sessions.start_session(session, account_id, None, user_id=user_id)

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return web_sessions.find_session(session, other) is None

    path = f"/account/sessions/{session_list.session_id(other)}/end"
    return Case("POST", path, changed, form={})


OLD_PASSWORD, NEW_PASSWORD = "matrix-old-password", "matrix-new-password"


def change_password(world: World, who: Caller) -> Case:
    user_id, _ = person_of(world, who)
    with transaction(world.stack.sessions) as session:
        users.set_password_hash(session, user_id, hash_password(OLD_PASSWORD))

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            stored = users.get_by_id(session, user_id).password_hash
        return stored is not None and verify_password(stored, NEW_PASSWORD)

    form = {"current_password": OLD_PASSWORD, "new_password": NEW_PASSWORD}
    return Case("POST", "/account/password", changed, form=form)


def reset_member_two_factor(world: World, who: Caller) -> Case:
    user = world.a.add(Role.DEVELOPER)
    enrol(world, user)

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return not two_factor.is_enabled(session, user)

    return Case("POST", f"/account/members/{user}/reset-two-factor", changed, form={})


def enrol(world: World, user_id: int) -> None:
    with transaction(world.stack.sessions) as session:
        secret = two_factor.start_enrolment(session, user_id)
        assert two_factor.confirm(session, user_id, pyotp.TOTP(secret).now())


def fresh_caller(world: World, who: Caller) -> tuple[Team, Caller]:
    """A new account, and the caller's counterpart in it (another account's owner: its owner;
    an API key: one of the new account's, of the same scope)."""
    team = Team(world.stack)
    if who.name in ROLES or who.name == "other_owner":
        role = ROLES.get(who.name, Role.OWNER)
        s = team.session_of(team.by_role[role])
        return team, Caller(who.name, team.account_id, s.cookies, csrf=s.csrf, token=s.token)
    if who.name == "signed_out":
        return team, Caller(who.name, None)
    scope = KeyScope.REMOVE if who.name == "key_remove" else KeyScope.MANAGE
    secret = team.secret_of(team.key(None, scope))
    return team, Caller(who.name, team.account_id, headers={"x-api-key": secret})


def transfer_ownership(world: World, who: Caller) -> Case:
    team, as_caller = fresh_caller(world, who)
    if who.name == "other_owner":  # B's owner, naming a member of A
        team, as_caller = world.a, who
    receiver = team.by_role[Role.DEVELOPER]
    changed = lambda: role_in(world.stack, team.account_id, receiver) is Role.OWNER  # noqa: E731
    form = {"user_id": str(receiver)}
    return Case("POST", "/account/transfer-ownership", changed, form=form, as_caller=as_caller)


def delete_account(world: World, who: Caller) -> Case:
    team, as_caller = fresh_caller(world, who)
    with transaction(world.stack.sessions) as session:
        email = accounts.get_by_id(session, team.account_id).email

    def changed() -> bool:
        with transaction(world.stack.sessions) as session:
            return accounts.get_by_id(session, team.account_id).status.value == "suspended"

    form = {"confirm_email": email}
    return Case("POST", "/account/delete", changed, form=form, as_caller=as_caller)


def request_plan(world: World, who: Caller) -> Case:
    account = who.account_id or world.a.account_id

    def changed() -> bool:
        # Read, then withdraw: one request waits at a time, and the next case asks again.
        with transaction(world.stack.sessions) as session:
            found = session.scalars(
                select(PlanRequestRow).where(PlanRequestRow.account_id == account)
            ).all()
            for row in found:
                session.delete(row)
        return bool(found)

    form = {"plan": "enterprise", "purpose": "the role matrix"}
    return Case("POST", "/account/plan-request", changed, form=form)


HOOKS_RING = SecretRing.from_secrets("role-matrix")


def endpoint_in(world: World, account_id: int) -> str:
    with transaction(world.stack.sessions) as session:
        made = webhook_endpoints.create(
            session,
            account_id,
            f"https://hooks{secrets.token_hex(3)}.example/x",
            (EventType.KEY_REVOKED,),
            HOOKS_RING,
            utc_now(),
        )
    return made.endpoint.id


def count_of(world: World, column: Any, where: Any) -> int:
    with transaction(world.stack.sessions) as session:
        return len(list(session.scalars(select(column).where(where))))


def add_webhook(api: bool) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        account = who.account_id or world.a.account_id
        where = WebhookEndpointRow.account_id == account
        before = count_of(world, WebhookEndpointRow.id, where)
        changed = lambda: count_of(world, WebhookEndpointRow.id, where) > before  # noqa: E731
        url = f"https://m{secrets.token_hex(3)}.example/x"
        if api:
            body = {"url": url, "event_types": ["key.revoked"]}
            return Case("POST", "/v1/webhooks", changed, json=body)
        form = {"url": url, "event_types": "key.revoked"}
        return Case("POST", "/account/webhooks", changed, form=form)

    return build


def change_webhook(action: str, api: bool, whose: str = "a") -> Callable[[World, Caller], Case]:
    """delete, rotate, redeliver or threshold on a fresh endpoint of A (or of B)."""

    def build(world: World, who: Caller) -> Case:
        team = world.b if whose == "b" else world.a
        endpoint_id = endpoint_in(world, team.account_id)
        one = f"/v1/webhooks/{endpoint_id}" if api else f"/account/webhooks/{endpoint_id}"
        if action == "delete":
            where = WebhookEndpointRow.id == endpoint_id
            changed = lambda: count_of(world, WebhookEndpointRow.id, where) == 0  # noqa: E731
            if api:
                return Case("DELETE", one, changed)
            return Case("POST", f"{one}/delete", changed, form={})
        if action == "rotate":
            where = WebhookSecretRow.endpoint_id == endpoint_id
            changed = lambda: count_of(world, WebhookSecretRow.id, where) > 1  # noqa: E731
            return Case("POST", f"{one}/rotate-secret" if api else f"{one}/rotate", changed,
                        json={} if api else None, form=None if api else {})  # fmt: skip
        with transaction(world.stack.sessions) as session:
            delivery = webhook_deliveries.create(
                session, endpoint_id, "msg_m", "key.revoked", "{}", utc_now()
            )
        where = WebhookDeliveryRow.endpoint_id == endpoint_id
        changed = lambda: count_of(world, WebhookDeliveryRow.id, where) > 1  # noqa: E731
        path = f"{one}/deliveries/{delivery}/redeliver"
        return Case("POST", path, changed, json={} if api else None, form=None if api else {})

    return build


def credits_threshold(api: bool) -> Callable[[World, Caller], Case]:
    def build(world: World, who: Caller) -> Case:
        account = who.account_id or world.a.account_id
        value = secrets.randbelow(1000) + 1
        with transaction(world.stack.sessions) as session:
            credits_low.set_threshold(session, account, None)

        def changed() -> bool:
            with transaction(world.stack.sessions) as session:
                return credits_low.threshold_of(session, account) == value * 1000

        if api:
            path = "/v1/account/credits-low-threshold"
            return Case("PUT", path, changed, json={"threshold": value})
        form = {"threshold": str(value)}
        return Case("POST", "/account/webhooks/credits-low", changed, form=form)

    return build


NO_KEY = "401 401 401 401 401 401"
# Expected, in the order of CALLERS: A allow, L redirected to /login, or the status. Routes
# without "api" are the dashboard's form posts.
ROUTES: list[tuple[str, Callable[[World, Caller], Case], str]] = [
    ("dashboard create remove key", create_key("remove", False), "A A A 403 A L L L"),
    ("dashboard create manage key", create_key("manage", False), "A A 403 403 A L L L"),
    ("dashboard rotate owner's key", change_key("owner", "rotate", False), "A A 403 403 404 L L L"),
    ("dashboard revoke owner's key", change_key("owner", "revoke", False), "A A 403 403 404 L L L"),
    ("dashboard rotate developer's key", change_key("dev", "rotate", False), "A A A 403 404 L L L"),
    ("dashboard revoke developer's key", change_key("dev", "revoke", False), "A A A 403 404 L L L"),
    ("dashboard revoke B's key", change_key("b", "revoke", False), "404 404 404 403 A L L L"),
    ("dashboard browser origins", set_origins, "A A 403 403 A L L L"),
    ("dev -> admin", member_role(Role.DEVELOPER, Role.ADMIN), "A A 403 403 404 L L L"),
    ("dev -> owner", member_role(Role.DEVELOPER, Role.OWNER), "A 403 403 403 404 L L L"),
    ("2nd owner -> viewer", member_role(Role.OWNER, Role.VIEWER), "A 403 403 403 404 L L L"),
    ("remove a developer", remove_member(Role.DEVELOPER), "A A 403 403 404 L L L"),
    ("remove a 2nd owner", remove_member(Role.OWNER), "A 403 403 403 404 L L L"),
    ("dashboard switch account", switch, "A A A A 404 L L L"),
    ("invite a developer", invite(Role.DEVELOPER), "A A 403 403 A L L L"),
    ("invite an owner", invite(Role.OWNER), "A 403 403 403 A L L L"),
    ("withdraw an invitation", withdraw, "A A 403 403 404 L L L"),
    ("leaked keys: warn only", leak_action, "A 403 403 403 A L L L"),
    ("dismiss a leak report", dismiss_leak, "A A 403 403 404 L L L"),
    ("two-factor policy on", two_factor_policy, "A 403 403 403 A L L L"),
    ("reset a member's two-factor", reset_member_two_factor, "A 403 403 403 404 L L L"),
    ("end one of my sessions", end_my_session, "A A A A A L L L"),
    ("change my password", change_password, "A A A A A L L L"),
    ("transfer ownership", transfer_ownership, "A 403 403 403 404 L L L"),
    ("delete the account", delete_account, "A 403 403 403 A L L L"),
    ("request a plan", request_plan, "A A 403 403 A L L L"),
    ("api create remove key", create_key("remove", True), f"{NO_KEY} 403 A"),
    ("api create manage key", create_key("manage", True), f"{NO_KEY} 403 A"),
    ("api rotate owner's key", change_key("owner", "rotate", True), f"{NO_KEY} 403 A"),
    ("api revoke owner's key", change_key("owner", "revoke", True), f"{NO_KEY} 403 A"),
    ("api revoke B's key", change_key("b", "revoke", True), f"{NO_KEY} 403 404"),
    ("dashboard add webhook", add_webhook(False), "A A 403 403 A L L L"),
    ("dashboard delete webhook", change_webhook("delete", False), "A A 403 403 404 L L L"),
    ("dashboard rotate webhook secret", change_webhook("rotate", False), "A A 403 403 404 L L L"),
    ("dashboard redeliver", change_webhook("redeliver", False), "A A 403 403 404 L L L"),
    ("dashboard credits.low threshold", credits_threshold(False), "A A 403 403 A L L L"),
    ("api add webhook", add_webhook(True), f"{NO_KEY} 403 A"),
    ("api delete webhook", change_webhook("delete", True), f"{NO_KEY} 403 A"),
    ("api rotate webhook secret", change_webhook("rotate", True), f"{NO_KEY} 403 A"),
    ("api redeliver", change_webhook("redeliver", True), f"{NO_KEY} 403 A"),
    ("api delete B's webhook", change_webhook("delete", True, "b"), f"{NO_KEY} 403 404"),
    ("api credits.low threshold", credits_threshold(True), f"{NO_KEY} 403 A"),
]  # fmt: skip


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}


def outcome(response: httpx.Response) -> str:
    status = response.status_code
    if status in (302, 303, 307):
        return "login" if response.headers["location"].startswith("/login") else "allow"
    if 200 <= status < 300:
        return "allow"
    return str(status)


def build_world(stack: Stack) -> World:
    a, b = Team(stack), Team(stack)
    elsewhere = stack.account("business")
    with transaction(stack.sessions) as session:
        change = MemberChange(elsewhere, EVERYTHING, "tests")
        for role in (Role.ADMIN, Role.DEVELOPER, Role.VIEWER):
            members.add_member(session, change, a.by_role[role], Role.VIEWER)
        members.add_member(session, change, a.owner, Role.VIEWER)
    world = World(stack, a, b, elsewhere)
    # The owners have two-factor, so that they may require it of their members.
    enrol(world, a.owner)
    enrol(world, b.owner)
    world.remove_key = a.key(None, KeyScope.REMOVE)
    world.manage_key = a.key(None, KeyScope.MANAGE)
    return world


def test_every_state_changing_route_by_every_caller(server: Server, stack: Stack) -> None:
    world = build_world(stack)
    wrong: list[str] = []
    unexpected_allows = 0
    with httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=False) as client:
        for route, build, expected_line in ROUTES:
            words = [{"A": "allow", "L": "login"}.get(w, w) for w in expected_line.split()]
            expected = dict(zip(CALLERS, words, strict=True))
            for name in CALLERS:
                built = caller(world, name)
                case = build(world, built)
                who = case.as_caller or built
                form = {**case.form, "csrf_token": who.csrf} if case.form is not None else None
                response = client.request(
                    case.method,
                    case.path,
                    data=form,
                    json=case.json,
                    headers={**who.headers, **cookie_header(who.cookies)},
                )
                got, changed = outcome(response), case.changed()
                allowed = expected[name] == "allow"
                if (got == "allow" and not allowed) or (changed and not allowed):
                    unexpected_allows += 1
                if got != expected[name] or changed != allowed:
                    wrong.append(
                        f"{route} by {name}: expected {expected[name]}, got {got} "
                        f"({response.status_code}), changed={changed}"
                    )
    size = len(ROUTES) * len(CALLERS)
    print(f"role matrix ({stack.name}): {len(ROUTES)} routes x {len(CALLERS)} callers = {size}")
    assert unexpected_allows == 0, wrong
    assert wrong == []
