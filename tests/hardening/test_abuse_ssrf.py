"""image_url abuse against a real server: private and disguised addresses, names that resolve
to loopback, redirect chains, a slow drip and a gzip bomb.

A sentinel listens on 127.0.0.1 and ::1; every refused URL points at it, and it must record
zero connections. A real image host on 127.0.0.2 (the server's allowed network) serves the
good images, the redirect hops, the drip and the bomb.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bgone import __version__
from bgone.errors import FailedImageDownload, FileTooLarge, InvalidBgImageUrl, InvalidImageUrl
from bgone.infra.url_fetch import BACKGROUND_ERRORS, UrlFetcher, is_refused
from tests.support import error_bodies
from tests.support.abuse_hosts import (
    ImageHost,
    Sentinel,
    gzip_bomb,
    image_host,
    sentinel_listener,
)
from tests.support.error_bodies import error_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import Ledger, assert_invariants
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

IMAGE_HOST_ADDRESS = "127.0.0.2"
FETCH_TIMEOUT_SECONDS = 2
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
PNG = encode(gradient_rgb(64, 48), "PNG")


abuse_ssrf_stack, abuse_ssrf_server = server_fixtures(
    "abuse_ssrf",
    url_fetch_allowed_networks=f'["{IMAGE_HOST_ADDRESS}/32"]',
    url_fetch_timeout_seconds=str(FETCH_TIMEOUT_SECONDS),
    max_upload_bytes=str(MAX_UPLOAD_BYTES),
)


@pytest.fixture(scope="module")
def abuse_sentinel() -> Iterator[Sentinel]:
    with sentinel_listener() as sentinel:
        yield sentinel


@pytest.fixture(scope="module")
def abuse_image_host() -> Iterator[ImageHost]:
    with image_host(IMAGE_HOST_ADDRESS) as host:
        yield host


def remove_from_url(server: Server, key: str, url: str, ledger: Ledger) -> httpx.Response:
    return ledger.record(
        httpx.post(
            server.base_url + "/v1.0/removebg",
            headers={"x-api-key": key},
            data={"image_url": url},
            timeout=60,
        )
    )


def error_code(response: httpx.Response) -> str:
    return error_bodies.code_of(response)


def test_private_and_disguised_addresses_are_refused_and_never_reached(
    abuse_ssrf_server: Server,
    abuse_ssrf_stack: Stack,
    abuse_sentinel: Sentinel,
    abuse_image_host: ImageHost,
) -> None:
    account_id = abuse_ssrf_stack.account("business")
    key = abuse_ssrf_stack.key(account_id)
    port = abuse_sentinel.port
    host = abuse_image_host
    targets = [
        f"http://127.0.0.1:{port}/image.png",
        f"http://[::1]:{port}/image.png",
        f"http://10.0.0.1:{port}/image.png",
        f"http://169.254.169.254:{port}/latest/meta-data/",
        f"http://[::ffff:127.0.0.1]:{port}/image.png",
        f"http://2130706433:{port}/image.png",
        f"http://0x7f.1:{port}/image.png",
        f"http://017700000001:{port}/image.png",
        f"http://localhost:{port}/image.png",
        f"http://[2002:7f00:1::]:{port}/image.png",  # 6to4 wrapping of 127.0.0.1
        f"http://[64:ff9b::7f00:1]:{port}/image.png",  # NAT64 wrapping of 127.0.0.1
        f"http://[::127.0.0.1]:{port}/image.png",  # IPv4-compatible form
        f"http://0177.0.0.1:{port}/image.png",  # octal that httpx refuses to parse
        # Redirect chains that start on the allowed image host and end on loopback.
        host.redirect("/hop-once", f"http://127.0.0.1:{port}/secret"),
        host.redirect("/chain-1", host.redirect("/chain-2", f"http://2130706433:{port}/x")),
        host.redirect("/to-v6", f"http://[::1]:{port}/x"),
    ]
    ledger = Ledger()
    for url in targets:
        response = remove_from_url(abuse_ssrf_server, key, url, ledger)
        assert (response.status_code, error_code(response)) == (400, "invalid_image_url"), url
        assert "x-credits-charged" not in response.headers

    assert abuse_sentinel.connections == []
    assert_invariants(ledger, abuse_ssrf_stack.sessions, [account_id])


def test_the_allowed_image_host_serves_plain_and_gzipped_images(
    abuse_ssrf_server: Server, abuse_ssrf_stack: Stack, abuse_image_host: ImageHost
) -> None:
    """The positive control: the same fetch path does deliver images it may reach."""
    account_id = abuse_ssrf_stack.account("business")
    key = abuse_ssrf_stack.key(account_id)
    ledger = Ledger()
    plain = abuse_image_host.serve("/ok.png", PNG)
    zipped = abuse_image_host.serve("/ok-gzip.png", gzip.compress(PNG), encoding="gzip")
    redirected = abuse_image_host.redirect("/moved.png", "/ok.png")
    for url in (plain, zipped, redirected):
        response = remove_from_url(abuse_ssrf_server, key, url, ledger)
        assert response.status_code == 200, (url, response.text)
    assert_invariants(ledger, abuse_ssrf_stack.sessions, [account_id])


def test_a_slow_drip_is_cut_off_by_the_time_cap(
    abuse_ssrf_server: Server, abuse_ssrf_stack: Stack, abuse_image_host: ImageHost
) -> None:
    account_id = abuse_ssrf_stack.account("business")
    key = abuse_ssrf_stack.key(account_id)
    ledger = Ledger()
    started = time.monotonic()
    response = remove_from_url(abuse_ssrf_server, key, abuse_image_host.drip("/drip.png"), ledger)
    elapsed = time.monotonic() - started

    assert (response.status_code, error_code(response)) == (400, "image_download_timeout")
    assert f"{FETCH_TIMEOUT_SECONDS} s" in error_of(response).detail
    # The bound: the cap holds (one deadline for every read), not timeout per read.
    assert elapsed < FETCH_TIMEOUT_SECONDS + 2.5
    assert_invariants(ledger, abuse_ssrf_stack.sessions, [account_id])


def test_a_gzip_bomb_is_cut_off_by_the_size_cap(
    abuse_ssrf_server: Server, abuse_ssrf_stack: Stack, abuse_image_host: ImageHost
) -> None:
    account_id = abuse_ssrf_stack.account("business")
    key = abuse_ssrf_stack.key(account_id)
    bomb = gzip_bomb(20 * MAX_UPLOAD_BYTES)  # 40 MB of zeros in about 40 KB
    assert len(bomb) < MAX_UPLOAD_BYTES
    url = abuse_image_host.serve("/bomb.png", bomb, encoding="gzip")
    ledger = Ledger()
    response = remove_from_url(abuse_ssrf_server, key, url, ledger)

    assert (response.status_code, error_code(response)) == (413, "file_too_large")
    assert abuse_ssrf_server.process.poll() is None
    assert_invariants(ledger, abuse_ssrf_stack.sessions, [account_id])


# -- in process: names that resolve to loopback, and DNS rebinding -------------------------
# A real server resolves names through the system's resolver, which the tests must not
# reconfigure; here the fetch module's resolver is swapped for one that answers what an
# attacker's DNS server would.


def fake_resolver(answers: dict[str, list[list[str]]], calls: list[str]) -> Any:
    """Answers for the names in `answers`, in turn; IP literals resolve as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        results = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            results.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return results

    return getaddrinfo


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["::1"], ["93.184.215.14", "127.0.0.1"], ["::ffff:7f00:1"]],
    ids=["loopback", "ipv6-loopback", "public-and-loopback", "mapped"],
)
def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
    abuse_sentinel: Sentinel, monkeypatch: pytest.MonkeyPatch, addresses: list[str]
) -> None:
    calls: list[str] = []
    answers = {"images.shop-cdn.example.com": [addresses]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_resolver(answers, calls))
    fetcher = UrlFetcher(MAX_UPLOAD_BYTES, timeout_seconds=5)

    with pytest.raises(InvalidImageUrl) as refused:
        fetcher.fetch(f"http://images.shop-cdn.example.com:{abuse_sentinel.port}/a.png")

    assert refused.value.code == "invalid_image_url"
    assert calls == ["images.shop-cdn.example.com"]
    assert abuse_sentinel.connections == []


def test_dns_rebinding_cannot_swap_the_vetted_address(
    abuse_image_host: ImageHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first answer passes the check; every later one points at loopback. The fetch
    resolves once and connects to the address it vetted, so loopback is never reached."""
    image_port = int(abuse_image_host.base_url.rsplit(":", 1)[1])
    abuse_image_host.serve("/rebind.png", PNG)
    with sentinel_listener_on(image_port) as rebinding_target:
        calls: list[str] = []
        answers = {"cdn.rebind.example": [[IMAGE_HOST_ADDRESS], ["127.0.0.1"]]}
        monkeypatch.setattr(socket, "getaddrinfo", fake_resolver(answers, calls))
        fetcher = UrlFetcher.from_strings(MAX_UPLOAD_BYTES, 5, [f"{IMAGE_HOST_ADDRESS}/32"])

        assert fetcher.fetch(f"http://cdn.rebind.example:{image_port}/rebind.png") == PNG

    assert calls == ["cdn.rebind.example"]
    assert rebinding_target == []  # counted on leaving: connections wait in the backlog


def test_a_gzip_bomb_never_expands_past_the_cap_in_memory(abuse_image_host: ImageHost) -> None:
    url = abuse_image_host.serve("/bomb-inproc.png", gzip_bomb(16 * 1024 * 1024), encoding="gzip")
    fetcher = UrlFetcher.from_strings(1024 * 1024, 5, [f"{IMAGE_HOST_ADDRESS}/32"])
    with pytest.raises(FileTooLarge):
        fetcher.fetch(url)


def test_the_fetcher_announces_itself_as_bgone(abuse_image_host: ImageHost) -> None:
    url = abuse_image_host.serve("/agent.png", PNG)
    fetcher = UrlFetcher.from_strings(MAX_UPLOAD_BYTES, 5, [f"{IMAGE_HOST_ADDRESS}/32"])
    assert fetcher.fetch(url) == PNG
    assert abuse_image_host.handler.user_agents[-1] == f"bgone/{__version__}"


# URLs that httpx (or urllib) cannot parse: octal and unicode-digit hosts, a broken
# IPv6 literal. Each must be the sender's typed 400, never an exception that escapes.
UNPARSEABLE_URLS = [
    "http://0177.0.0.1/a.png",
    "http://\u0661\u0662\u0667.0.0.1/a.png",  # Arabic-Indic digits: 127.0.0.1
    "http://\uff11\uff12\uff17.0.0.1/a.png",  # full-width digits
    "http://[::1/a.png",
]


@pytest.mark.parametrize("url", UNPARSEABLE_URLS)
def test_an_unparseable_url_is_the_senders_invalid_url(url: str, abuse_sentinel: Sentinel) -> None:
    fetcher = UrlFetcher(MAX_UPLOAD_BYTES, timeout_seconds=5)
    with pytest.raises(InvalidImageUrl) as refused:
        fetcher.fetch(url)
    assert refused.value.code == "invalid_image_url"
    with pytest.raises(InvalidBgImageUrl):
        fetcher.fetch(url, BACKGROUND_ERRORS)
    assert abuse_sentinel.connections == []


def test_a_redirect_to_an_unparseable_url_is_a_failed_download(
    abuse_image_host: ImageHost,
) -> None:
    """There the image host answered wrongly, not the sender: httpx reads the Location as a
    protocol error, which is the download's typed 400."""
    url = abuse_image_host.redirect("/to-octal", "http://0177.0.0.1/a.png")
    fetcher = UrlFetcher.from_strings(MAX_UPLOAD_BYTES, 5, [f"{IMAGE_HOST_ADDRESS}/32"])
    with pytest.raises(FailedImageDownload) as failed:
        fetcher.fetch(url)
    assert failed.value.code == "failed_image_download"


@pytest.mark.parametrize(
    "text",
    ["127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "100.64.0.1",
     "0.0.0.0", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe", "fe80::1", "fc00::1",
     # NAT64, well-known prefix (RFC 6052) and local-use prefix (RFC 8215), and the
     # deprecated IPv4-compatible form: Python counts all of them as global.
     "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::7f00:1", "64:ff9b:1:ffff::808:808",
     "::127.0.0.1", "::10.0.0.1", "::169.254.169.254"],
)  # fmt: skip
def test_every_internal_form_is_refused(text: str) -> None:
    assert is_refused(ipaddress.ip_address(text), ())


def test_public_addresses_pass_and_allowed_networks_are_exempt() -> None:
    assert not is_refused(ipaddress.ip_address("93.184.215.14"), ())
    # A NAT64 address is the IPv4 address it wraps: a public one passes.
    assert not is_refused(ipaddress.ip_address("64:ff9b::5db8:d70e"), ())
    allowed = (ipaddress.ip_network("10.1.0.0/16"),)
    assert not is_refused(ipaddress.ip_address("10.1.2.3"), allowed)
    assert is_refused(ipaddress.ip_address("10.2.0.1"), allowed)


class sentinel_listener_on:  # noqa: N801 - used as a context manager, like the function form
    """A counting listener on 127.0.0.1 at a given port (where a rebinding would land)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: list[str] = []

    def __enter__(self) -> list[str]:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(8)
        self.listener.setblocking(False)
        return self.connections

    def __exit__(self, *exc: object) -> None:
        try:
            while True:
                connection, peer = self.listener.accept()
                self.connections.append(str(peer[0]))
                connection.close()
        except BlockingIOError:
            pass
        self.listener.close()
