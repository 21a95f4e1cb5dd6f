"""Settings read from the environment: lists as operators write them, networks checked."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bgone.settings import Settings


def test_a_plain_network_is_a_one_item_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGONE_URL_FETCH_ALLOWED_NETWORKS", "127.0.0.1/32")
    assert Settings().url_fetch_allowed_networks == ["127.0.0.1/32"]


def test_lists_are_comma_separated_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGONE_FORWARDED_ALLOW_IPS", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("BGONE_URL_FETCH_ALLOWED_NETWORKS", '["10.1.0.0/16", "::1"]')
    settings = Settings()
    assert settings.forwarded_allow_ips == ["127.0.0.1", "10.0.0.0/8"]
    assert settings.url_fetch_allowed_networks == ["10.1.0.0/16", "::1"]


def test_no_proxy_is_trusted_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BGONE_FORWARDED_ALLOW_IPS", raising=False)
    assert Settings().forwarded_allow_ips == []


@pytest.mark.parametrize("name", ["BGONE_FORWARDED_ALLOW_IPS", "BGONE_URL_FETCH_ALLOWED_NETWORKS"])
def test_a_value_that_is_no_network_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "127.0.0.1,intranet")
    with pytest.raises(ValidationError, match="'intranet' is not an IP address or network"):
        Settings()


def test_timeouts_have_their_defaults() -> None:
    settings = Settings()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (15.0, 30.0)
