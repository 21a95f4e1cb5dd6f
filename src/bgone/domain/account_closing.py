"""An owner closes their account, and hands ownership over.

Closing is the customer's "delete": in one transaction every key still usable is revoked
(each with its audit event), open invitations are withdrawn, every member leaves and every
dashboard session in the account ends, and the account is suspended with CLOSED_REASON. The
row stays, with its usage, credits and audit log, for the operator's books and disputes;
`bgone accounts status ID active` and `add-member` would bring it back. The owner confirms
by typing the account's email, so that no stray click (or forged form) closes it.

Transferring ownership makes another member an owner and the giver an admin, in one
transaction: at no moment has the account no owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import ApiKeyRow, InvitationRow, MembershipRow, WebSessionRow
from bgone.domain import accounts, api_keys, audit, members
from bgone.domain.accounts import AccountStatus
from bgone.domain.clock import now_or_default
from bgone.domain.members import MemberChange
from bgone.domain.roles import Permission, Role, require
from bgone.errors import ConfirmationMismatch

CLOSED_REASON = "closed by its owner"


@dataclass(frozen=True)
class Closed:
    revoked_key_ids: list[str]
    members_removed: int


def close_account(session: Session, by: MemberChange, confirmation: str) -> Closed:
    require(by.granted, Permission.DELETE_ACCOUNT, "deleting the account")
    account = accounts.lock_account(session, by.account_id)
    if confirmation.strip().lower() != account.email:
        raise ConfirmationMismatch(
            f"type the account's email ({account.email}) to confirm that it is to be deleted"
        )
    moment = now_or_default(None)
    usable = session.scalars(
        select(ApiKeyRow.id).where(
            ApiKeyRow.account_id == account.id, ApiKeyRow.revoked_at.is_(None)
        )
    ).all()
    for key_id in usable:
        api_keys.revoke(session, account.id, key_id, by.actor, by.ip, moment)
    session.execute(
        update(InvitationRow)
        .where(
            InvitationRow.account_id == account.id,
            InvitationRow.accepted_at.is_(None),
            InvitationRow.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=moment)
    )
    removed = session.execute(delete(MembershipRow).where(MembershipRow.account_id == account.id))
    session.execute(delete(WebSessionRow).where(WebSessionRow.account_id == account.id))
    accounts.set_status(session, account.id, AccountStatus.SUSPENDED, CLOSED_REASON)
    count = int(removed.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(
        session,
        account.id,
        audit.AuditAction.ACCOUNT_DELETED,
        actor=by.actor,
        ip=by.ip,
        detail=f"{len(usable)} keys revoked, {count} members removed; usage kept",
        at=moment,
    )
    return Closed(list(usable), count)


def transfer_ownership(
    session: Session, by: MemberChange, giver_user_id: int, to_user_id: int
) -> members.Member:
    """`to_user_id` becomes an owner, then the giver an admin (another owner exists by then)."""
    require(by.granted, Permission.MANAGE_OWNERS, "transferring ownership")
    receiver = members.change_role(session, by, to_user_id, Role.OWNER)
    if giver_user_id != to_user_id:
        members.change_role(session, by, giver_user_id, Role.ADMIN)
    audit.record(
        session,
        by.account_id,
        audit.AuditAction.OWNERSHIP_TRANSFERRED,
        actor=by.actor,
        ip=by.ip,
        detail=f"to {receiver.email}; the giver is now an admin",
    )
    return receiver
