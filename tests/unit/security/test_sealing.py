"""A sealed secret opens with its token only, and a damaged value opens to None."""

from __future__ import annotations

from bgone.security.sealing import seal, unseal


def test_seal_opens_with_its_token_only() -> None:
    secret = "bgone_live_" + "x" * 60
    sealed = seal("the token", secret)
    assert secret not in sealed
    assert unseal("the token", sealed) == secret
    assert unseal("another token", sealed) is None
    assert seal("the token", secret) != sealed  # a fresh nonce each time


def test_damaged_values_open_to_none() -> None:
    sealed = seal("t", "secret")
    assert unseal("t", sealed[:-2] + ("00" if sealed[-2:] != "00" else "11")) is None
    assert unseal("t", "zz") is None
    assert unseal("t", "00") is None
