"""Recording when and from where a key was last used."""

from __future__ import annotations

from datetime import timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import api_keys
from bgone.domain.authentication import touch_key_usage
from bgone.security.hashing import SecretRing
from tests.unit.domain.support import NOW, MakeAccount


def test_touch_key_usage_never_moves_backwards(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        issued = api_keys.create_key(session, account.id, "app", "production", "me", ring, now=NOW)
    later = NOW + timedelta(minutes=10)
    with transaction(sessions) as session:
        touch_key_usage(session, issued.record.id, "2001:db8::1", later)
        touch_key_usage(session, issued.record.id, "192.0.2.1", NOW)

    with sessions() as session:
        record = api_keys.get_key(session, issued.record.account_id, issued.record.id)
    assert (record.last_used_at, record.last_used_ip) == (later, "2001:db8::1")
