"""Fetching `image_url` without becoming a proxy into the operator's network.

Every address is checked when the connection is made (after DNS resolution, so a
public-looking name that resolves to 127.0.0.1 is refused, and a DNS answer cannot change
between check and use). Redirects are followed by hand, at most `max_redirects`, each
re-checked the same way. Bytes (after content decoding, so gzip bombs count) and total
time are capped.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bgone.errors import FailedImageDownload, FileTooLarge, InvalidImageUrl

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """Raised inside the connection layer; deliberately not an httpcore error."""


def is_refused(address: IpAddress, allowed: Iterable[IpNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in allowed):
        return False
    # Private, loopback, link-local (cloud metadata), CGNAT, multicast, reserved...
    return not address.is_global


class CheckedBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to addresses that pass the check."""

    def __init__(self, allowed: tuple[IpNetwork, ...]) -> None:
        self.allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        permitted = [a for a in addresses if not is_refused(a, self.allowed)]
        if not permitted or len(permitted) != len(addresses):
            # All-or-nothing: a name with any internal address is refused outright.
            raise RefusedAddress(f"{host} resolves to a non-public address")
        return super().connect_tcp(str(permitted[0]), port, timeout, local_address, socket_options)


class CheckedTransport(httpx.HTTPTransport):
    def __init__(self, allowed: tuple[IpNetwork, ...]) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx has no public hook for the network backend; swap the pool it built.
        self._pool = httpcore.ConnectionPool(network_backend=CheckedBackend(allowed))


@dataclass
class UrlFetcher:
    max_bytes: int
    timeout_seconds: float = 10.0
    max_redirects: int = 3
    allowed_networks: tuple[IpNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_strings(
        cls, max_bytes: int, timeout_seconds: float, allowed_networks: Iterable[str]
    ) -> UrlFetcher:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        return cls(max_bytes, timeout_seconds, 3, networks)

    def fetch(
        self,
        url: str,
        *,
        invalid_code: str = "invalid_image_url",
        failed_code: str = "failed_image_download",
    ) -> bytes:
        deadline = time.monotonic() + self.timeout_seconds
        timeout = httpx.Timeout(self.timeout_seconds, connect=min(5.0, self.timeout_seconds))
        with httpx.Client(
            transport=CheckedTransport(self.allowed_networks),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for _ in range(self.max_redirects + 1):
                self._check_url(url, invalid_code)
                try:
                    with client.stream("GET", url, headers={"Accept": "image/*"}) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code != 200:
                            raise FailedImageDownload(
                                f"The image URL answered HTTP {response.status_code}.",
                                code=failed_code,
                            )
                        return self._read_capped(response, deadline, failed_code)
                except RefusedAddress as error:
                    raise InvalidImageUrl(f"Refused: {error}.", code=invalid_code) from None
                except httpx.HTTPError as error:
                    raise FailedImageDownload(
                        f"Download failed: {error}", code=failed_code
                    ) from None
        raise FailedImageDownload(f"More than {self.max_redirects} redirects.", code=failed_code)

    def _check_url(self, url: str, invalid_code: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidImageUrl(
                "Only http and https URLs with a host are accepted.", code=invalid_code
            )
        if parts.username or parts.password:
            raise InvalidImageUrl("URLs with credentials are not accepted.", code=invalid_code)

    def _read_capped(self, response: httpx.Response, deadline: float, failed_code: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FileTooLarge(f"The image at the URL exceeds {self.max_bytes} bytes.")
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > self.max_bytes:
                raise FileTooLarge(f"The image at the URL exceeds {self.max_bytes} bytes.")
            if time.monotonic() > deadline:
                raise FailedImageDownload(
                    f"The download took longer than {self.timeout_seconds:g} s.", code=failed_code
                )
            chunks.append(chunk)
        return b"".join(chunks)
