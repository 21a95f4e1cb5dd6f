"""`X-Forwarded-For` is believed only from the proxies named in BGONE_FORWARDED_ALLOW_IPS.

What it changes is visible in the invalid-key limit, which counts per client address: a
client that could choose its address by a header would never reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.abuse_hosts import client_from
from tests.support.environment import require
from tests.support.nginx import REPLICA_SETTINGS, Nginx, upstream_of
from tests.support.servers import server_fixtures
from tests.support.services import MissingBinary
from tests.support.stack import Server

LIMIT = 3

direct_stack, direct_server = server_fixtures("direct", invalid_keys_per_minute=str(LIMIT))
proxied_stack, proxied_server = server_fixtures(
    "proxied", invalid_keys_per_minute=str(LIMIT), **REPLICA_SETTINGS
)


@pytest.fixture(params=["trusted", "not trusted"])
def behind_nginx(
    request: pytest.FixtureRequest,
    direct_server: Server,
    proxied_server: Server,
    tmp_path: Path,
) -> Iterator[tuple[str, Nginx]]:
    """deploy/nginx.conf in front of a replica that trusts it, or of one that does not."""
    replica = proxied_server if request.param == "trusted" else direct_server
    try:
        balancer = Nginx(tmp_path, [upstream_of(replica)])
    except MissingBinary as missing:
        require(False, str(missing))
        raise
    with balancer:
        yield request.param, balancer


def statuses_with_a_new_forwarded_address_each(server: Server) -> list[int]:
    """Invalid keys from 127.0.0.1, each claiming another client address."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return [
            client.get(
                "/v1/account",
                headers={"x-api-key": "not-a-key", "x-forwarded-for": f"203.0.113.{number}"},
            ).status_code
            for number in range(1, LIMIT + 3)
        ]


def test_the_header_is_ignored_without_the_setting(direct_server: Server) -> None:
    statuses = statuses_with_a_new_forwarded_address_each(direct_server)
    assert statuses == [401] * LIMIT + [429] * 2


def test_the_header_names_the_client_behind_a_trusted_proxy(proxied_server: Server) -> None:
    statuses = statuses_with_a_new_forwarded_address_each(proxied_server)
    assert statuses == [401] * (LIMIT + 2)


def test_behind_nginx_each_client_is_counted_under_its_own_address(
    behind_nginx: tuple[str, Nginx],
) -> None:
    """Two clients through nginx: one uses up its invalid-key allowance, the other is not held
    back, but only when the replica trusts nginx; otherwise both are nginx's one address."""
    trust, nginx = behind_nginx
    first = 60 if trust == "trusted" else 70  # fresh addresses for each replica's limit
    statuses = {}
    for address in (f"127.0.{first}.1", f"127.0.{first}.2"):
        with client_from(address, timeout=30) as client:
            statuses[address] = [
                client.get(
                    nginx.base_url + "/v1/account", headers={"x-api-key": "nope"}
                ).status_code
                for _ in range(LIMIT + 1)
            ]
    second = statuses[f"127.0.{first}.2"]
    if trust == "trusted":
        assert statuses[f"127.0.{first}.1"] == [401] * LIMIT + [429]
        assert second == [401] * LIMIT + [429]
    else:
        assert 429 in statuses[f"127.0.{first}.1"] and second == [429] * (LIMIT + 1)
