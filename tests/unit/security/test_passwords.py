from __future__ import annotations

import time

from argon2 import PasswordHasher

from bgone.security.passwords import dummy_verify, hash_password, needs_rehash, verify_password


def test_right_password_verifies_and_wrong_one_does_not() -> None:
    stored = hash_password("correct horse battery staple")

    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")


def test_corrupt_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "anything")
    assert needs_rehash("not-a-hash")


def test_hash_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")

    assert verify_password(weak, "pw")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("pw"))


def test_dummy_verify_costs_about_as_much_as_a_real_one() -> None:
    stored = hash_password("pw")
    dummy_verify("warm-up")  # the dummy hash is made on first use

    started = time.perf_counter()
    verify_password(stored, "wrong")
    real = time.perf_counter() - started
    started = time.perf_counter()
    dummy_verify("wrong")
    dummy = time.perf_counter() - started

    assert dummy > real / 4
