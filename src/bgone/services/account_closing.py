"""An owner deletes their account or hands ownership over (bgone.domain.account_closing).

Closing revokes the account's keys in its transaction, then drops every one of them from the
key cache here and, through Redis, on every replica: refused at once everywhere, as a
revocation from the dashboard is. The methods block: async callers run them in a worker
thread.
"""

from __future__ import annotations

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import account_closing, api_keys
from bgone.domain.account_closing import Closed
from bgone.domain.members import Member, MemberChange
from bgone.services.keys import KeyInvalidation


class AccountClosing:
    def __init__(self, sessions: SessionFactory, key_cache: KeyInvalidation) -> None:
        self.sessions = sessions
        self.key_cache = key_cache

    def close(self, by: MemberChange, confirmation: str) -> Closed:
        with transaction(self.sessions) as session:
            closed = account_closing.close_account(session, by, confirmation)
            # Every key, revoked before or now: each cached answer carries the old status.
            key_ids = [record.id for record in api_keys.list_keys(session, by.account_id)]
        for key_id in key_ids:
            self.key_cache.invalidate(key_id)
        return closed

    def transfer_ownership(self, by: MemberChange, giver_user_id: int, to_user_id: int) -> Member:
        with transaction(self.sessions) as session:
            return account_closing.transfer_ownership(session, by, giver_user_id, to_user_id)
