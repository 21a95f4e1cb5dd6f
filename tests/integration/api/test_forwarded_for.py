"""`X-Forwarded-For` is believed only from the proxies named in BGONE_FORWARDED_ALLOW_IPS.

What it changes is visible in the invalid-key limit, which counts per client address: a
client that could choose its address by a header would never reach it.
"""

from __future__ import annotations

import httpx

from tests.support.servers import server_fixtures
from tests.support.stack import Server

LIMIT = 3

direct_stack, direct_server = server_fixtures("direct", invalid_keys_per_minute=str(LIMIT))
proxied_stack, proxied_server = server_fixtures(
    "proxied", invalid_keys_per_minute=str(LIMIT), forwarded_allow_ips="127.0.0.1"
)


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
