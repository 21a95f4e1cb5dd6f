"""Operator commands as an operator types them: accounts, keys, db."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgone.security.keys import parse_key


@pytest.fixture()
def env(tmp_path: Path, model_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BGONE_DATA_DIR": str(tmp_path / "data"),
        "BGONE_MODEL_DIR": str(model_dir),
        "BGONE_DATABASE_URL": "",
        "BGONE_REDIS_URL": "",
    }


def bgone(
    env: dict[str, str],
    *args: str,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_accounts_and_keys_lifecycle(env: dict[str, str]) -> None:
    created = bgone(
        env,
        "accounts",
        "create",
        "Owner@Example.com",
        "--plan",
        "business",
        "--password-stdin",
        stdin="correct horse\n",
    )
    assert created.returncode == 0, created.stderr
    assert "owner@example.com" in created.stdout
    duplicate = bgone(env, "accounts", "create", "owner@example.com")
    assert duplicate.returncode == 1 and "account_exists" in duplicate.stderr

    key = bgone(env, "keys", "create", "owner@example.com", "--name", "backend")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip().splitlines()[-1]
    assert parse_key(secret).environment.value == "production"
    staging = (
        bgone(env, "keys", "create", "owner@example.com", "--name", "ci", "--env", "staging")
        .stdout.strip()
        .splitlines()[-1]
    )
    assert staging.startswith("bgone_test_")

    listed = bgone(env, "keys", "list", "owner@example.com")
    assert listed.returncode == 0
    assert secret not in listed.stdout and secret[:15] in listed.stdout
    key_id = next(word for word in key.stderr.split() if word.startswith("key_"))

    for flag, value, code in (
        ("--expires-in", "99999999999d", "invalid_expiry"),  # past any date: no traceback
        ("--expires-in", "0", "invalid_expiry"),  # never "no expiry"
    ):
        refused = bgone(env, "keys", "create", "owner@example.com", "--name", "x", flag, value)
        assert refused.returncode == 1 and code in refused.stderr, refused.stderr
    too_long = bgone(env, "keys", "rotate", key_id, "--grace", "3000000d")
    assert too_long.returncode == 1 and "invalid_grace_period" in too_long.stderr

    rotated = bgone(env, "keys", "rotate", key_id, "--grace", "1h")
    assert rotated.returncode == 0, rotated.stderr
    assert "it works until" in rotated.stderr  # the end as it is, not the grace asked for
    new_secret = rotated.stdout.strip().splitlines()[-1]
    assert new_secret != secret and new_secret.startswith("bgone_live_")
    revoked = bgone(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    assert "revoked" in bgone(env, "keys", "list", "owner@example.com").stdout

    missing = bgone(env, "keys", "revoke", "key_doesnotexist000")
    assert missing.returncode == 1 and "not_found" in missing.stderr


def test_plans_and_limits(env: dict[str, str]) -> None:
    assert bgone(env, "accounts", "create", "s@example.com").returncode == 0
    refused = bgone(env, "keys", "create", "s@example.com", "--name", "x")
    assert refused.returncode == 1 and "plan_without_api_access" in refused.stderr
    assert bgone(env, "accounts", "set-plan", "s@example.com", "enterprise").returncode == 0
    limits = bgone(
        env,
        "accounts",
        "set-limits",
        "s@example.com",
        "--rate-per-minute",
        "42",
        "--monthly-credits",
        "12.5",
        "--max-megapixels",
        "10",
    )
    assert limits.returncode == 0, limits.stderr
    shown = bgone(env, "accounts", "show", "s@example.com").stdout
    assert "enterprise" in shown and "42/min" in shown and "12.5 per month" in shown
    assert "max megapixels: 10" in shown
    bad = bgone(env, "accounts", "set-plan", "s@example.com", "platinum")
    assert bad.returncode == 1


def test_db_upgrade_and_current(env: dict[str, str]) -> None:
    upgraded = bgone(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    current = bgone(env, "db", "current").stdout
    applied, latest = (part.split(":")[1].split(",")[0].strip() for part in current.split(", "))
    assert applied == latest != "None"
