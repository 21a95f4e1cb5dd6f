"""An owner deletes the account (typing its email to confirm) or transfers ownership, in
process: keys refused at once, members signed out and removed, usage and audit kept; the
giver of ownership becomes an admin, and the account never lacks an owner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bgone.db.engine import transaction
from bgone.db.tables import AuditEventRow, MembershipRow, UsageRecordRow, WebSessionRow
from bgone.domain import accounts
from bgone.domain.account_closing import CLOSED_REASON
from bgone.domain.clock import utc_now
from bgone.domain.roles import KeyScope, Role
from tests.support.teams import Team, role_in
from tests.unit.inprocess import InProcess


def client_of(app: InProcess, team: Team, user_id: int) -> tuple[TestClient, str]:
    signed_in = team.session_of(user_id)
    client = TestClient(app.client.app)
    client.cookies.update(signed_in.cookies)
    return client, signed_in.csrf


def account_email(app: InProcess, account_id: int) -> str:
    with transaction(app.stack.sessions) as session:
        return accounts.get_by_id(session, account_id).email


def test_deleting_needs_the_typed_email(app: InProcess) -> None:
    team = Team(app.stack)
    key = team.secret_of(team.key(team.owner))
    owner, csrf = client_of(app, team, team.owner)
    refused = owner.post(
        "/account/delete", data={"confirm_email": "nope@example.com", "csrf_token": csrf}
    )
    assert refused.status_code == 400
    assert "to confirm that it is to be deleted" in refused.text
    assert app.client.get("/v1/account", headers={"x-api-key": key}).status_code == 200


def test_deleting_revokes_keys_ends_sessions_and_keeps_usage(app: InProcess) -> None:
    team = Team(app.stack)
    key = team.secret_of(team.key(team.owner, KeyScope.MANAGE))
    assert app.client.get("/v1/account", headers={"x-api-key": key}).status_code == 200
    developer, _ = client_of(app, team, team.by_role[Role.DEVELOPER])
    assert developer.get("/account", follow_redirects=False).status_code == 200
    owner, csrf = client_of(app, team, team.owner)
    _, invite_token = team.invite(Role.VIEWER)
    with transaction(app.stack.sessions) as session:
        session.add(
            UsageRecordRow(
                request_id=f"req-{team.account_id}-closing",
                account_id=team.account_id,
                at=utc_now(),
                endpoint="/v1/removebg",
                status=200,
                credits_milli=1000,
            )
        )

    answer = owner.post(
        "/account/delete",
        data={"confirm_email": account_email(app, team.account_id).upper(), "csrf_token": csrf},
        follow_redirects=False,
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/account-deleted"
    assert "Account deleted" in owner.get("/account-deleted").text
    refused = app.client.get("/v1/account", headers={"x-api-key": key})
    assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == "revoked_api_key"
    assert (
        developer.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    )
    with transaction(app.stack.sessions) as session:
        account = accounts.get_by_id(session, team.account_id)
        assert account.status.value == "suspended" and account.status_reason == CLOSED_REASON
        counted = [
            session.scalar(select(func.count()).select_from(table).where(column))
            for table, column in [
                (MembershipRow, MembershipRow.account_id == team.account_id),
                (WebSessionRow, WebSessionRow.account_id == team.account_id),
                (UsageRecordRow, UsageRecordRow.account_id == team.account_id),
            ]
        ]
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.account_id == team.account_id)
        ).all()
    members_left, sessions_left, usage_kept = counted
    assert members_left == 0 and sessions_left == 0
    assert usage_kept is not None and usage_kept >= 1  # kept for the operator
    assert "account_deleted" in actions and "key_revoked" in actions
    assert app.client.get(f"/invite/{invite_token}").status_code == 404  # withdrawn


def test_an_admin_may_not_delete(app: InProcess) -> None:
    team = Team(app.stack)
    admin, csrf = client_of(app, team, team.by_role[Role.ADMIN])
    email = account_email(app, team.account_id)
    refused = admin.post("/account/delete", data={"confirm_email": email, "csrf_token": csrf})
    assert refused.status_code == 403
    assert role_in(app.stack, team.account_id, team.owner) is Role.OWNER


def test_transferring_ownership_makes_the_giver_an_admin(app: InProcess) -> None:
    team = Team(app.stack)
    receiver = team.by_role[Role.DEVELOPER]
    owner, csrf = client_of(app, team, team.owner)
    answer = owner.post(
        "/account/transfer-ownership",
        data={"user_id": str(receiver), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert role_in(app.stack, team.account_id, receiver) is Role.OWNER
    assert role_in(app.stack, team.account_id, team.owner) is Role.ADMIN
    # The former owner's card is gone with the role; the route refuses them too.
    page = owner.get("/account").text
    assert 'data-testid="owner-actions"' not in page
    again = owner.post(
        "/account/transfer-ownership", data={"user_id": str(receiver), "csrf_token": csrf}
    )
    assert again.status_code == 403


def test_transferring_to_oneself_or_a_stranger_changes_nothing(app: InProcess) -> None:
    team, other = Team(app.stack), Team(app.stack)
    owner, csrf = client_of(app, team, team.owner)
    stranger = owner.post(
        "/account/transfer-ownership", data={"user_id": str(other.owner), "csrf_token": csrf}
    )
    assert stranger.status_code == 404
    itself = owner.post(
        "/account/transfer-ownership", data={"user_id": str(team.owner), "csrf_token": csrf}
    )
    assert itself.status_code in (303, 200)
    assert role_in(app.stack, team.account_id, team.owner) is Role.OWNER
