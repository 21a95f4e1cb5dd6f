"""`bgone accounts members` and `add-member`, and accounts named by id or by the email of
their sole owner: an email that owns several accounts is refused, naming their ids."""

from __future__ import annotations

import re
import subprocess

from tests.integration.cli.test_operator_cli import bgone, env

__all__ = ["env"]  # the fixture, shared with the operator CLI's tests


def add_member(
    env: dict[str, str], account: str, email: str, role: str
) -> subprocess.CompletedProcess[str]:
    return bgone(env, "accounts", "add-member", account, email, "--role", role)


def test_members_are_listed_added_and_accounts_named_by_id_or_sole_owner(
    env: dict[str, str],
) -> None:
    for email in ("a@example.com", "b@example.com", "dev@example.com"):
        assert bgone(env, "accounts", "create", email, "--plan", "business").returncode == 0
    added = add_member(env, "a@example.com", "dev@example.com", "developer")
    assert added.returncode == 0, added.stderr
    assert "dev@example.com is now developer" in added.stdout
    listed = bgone(env, "accounts", "members", "a@example.com")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"a@example\.com\s+owner", listed.stdout)
    assert re.search(r"dev@example\.com\s+developer", listed.stdout)

    bad_role = add_member(env, "a@example.com", "b@example.com", "boss")
    assert bad_role.returncode == 1 and "invalid_role" in bad_role.stderr
    nobody = add_member(env, "a@example.com", "x@example.com", "viewer")
    assert nobody.returncode == 1 and "not_found" in nobody.stderr

    # a@ becomes an owner of b@'s account too: "a@example.com" no longer names one account.
    assert add_member(env, "b@example.com", "a@example.com", "owner").returncode == 0
    ambiguous = bgone(env, "accounts", "show", "a@example.com")
    assert ambiguous.returncode == 1 and "ambiguous_account" in ambiguous.stderr
    ids = re.search(r"\((\d+), (\d+)\)", ambiguous.stderr)
    assert ids is not None, ambiguous.stderr
    by_id = bgone(env, "accounts", "show", ids[1])
    assert by_id.returncode == 0 and "a@example.com" in by_id.stdout
    key = bgone(env, "keys", "create", ids[2], "--name", "ci", "--scope", "manage")
    assert key.returncode == 0, key.stderr
