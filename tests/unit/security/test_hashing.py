from __future__ import annotations

import hashlib
import hmac
import stat
import threading
from pathlib import Path

import pytest

from bgone.security.hashing import (
    SecretRing,
    ServerSecret,
    load_secret_ring,
    read_or_create_secret_file,
)
from bgone.security.keys import Environment, generate_key
from bgone.settings import Settings


def test_digest_is_hmac_sha256_hex_under_the_current_secret() -> None:
    ring = SecretRing.from_secrets("current-secret")
    key = generate_key(Environment.PRODUCTION)

    hashed = ring.hash_key(key)

    expected = hmac.new(b"current-secret", key.encode(), hashlib.sha256).hexdigest()
    assert hashed.digest == expected
    assert hashed.version == 1


def test_versions_number_previous_secrets_first() -> None:
    ring = SecretRing.from_secrets("third", ["first", "second"])

    assert ring.current == ServerSecret(version=3, secret=b"third")
    assert [secret.version for secret in ring.previous] == [1, 2]
    assert ring.hash_key("anything").version == 3


def test_old_digest_is_among_candidates_after_rotation() -> None:
    key = generate_key(Environment.PRODUCTION)
    before = SecretRing.from_secrets("old").hash_key(key)
    after = SecretRing.from_secrets("new", ["old"])

    candidates = after.candidate_digests(key)

    assert candidates[0] == after.hash_key(key).digest  # the current secret is tried first
    assert before.digest in candidates
    assert before.digest != after.hash_key(key).digest


def test_forgotten_secret_gives_no_matching_candidate() -> None:
    key = generate_key(Environment.STAGING)
    stored = SecretRing.from_secrets("old").hash_key(key).digest

    assert stored not in SecretRing.from_secrets("new").candidate_digests(key)


def test_secret_does_not_appear_in_repr() -> None:
    assert "hunter2" not in repr(SecretRing.from_secrets("hunter2", ["hunter1"]))


def test_empty_current_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        SecretRing.from_secrets("")


def test_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="configured", previous_secret_keys=["a"])

    ring = load_secret_ring(settings)

    assert ring.current == ServerSecret(version=2, secret=b"configured")
    assert not (tmp_path / "secret_key").exists()


def test_missing_secret_is_generated_once_with_private_permissions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")

    first = load_secret_ring(settings)
    second = load_secret_ring(settings)

    secret_file = tmp_path / "fresh" / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.current.secret == second.current.secret
    assert len(first.current.secret) >= 32
    assert list(secret_file.parent.iterdir()) == [secret_file]  # no temporary file left


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(read_or_create_secret_file(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert set(results) == {path.read_text().strip()}
