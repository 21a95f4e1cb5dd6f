"""Fetching `image_url` without becoming a proxy into the operator's network.

Every host is resolved once, every address it resolves to is vetted, and the connection
goes to a vetted address: a public-looking name that resolves to 127.0.0.1 is refused, and
a second DNS answer (rebinding) is never asked for. Numeric forms (`2130706433`, `0x7f.1`,
`::ffff:127.0.0.1`, IPv4-compatible `::127.0.0.1`, 6to4, Teredo and NAT64 wrappings) are
checked as the address they mean. A URL that cannot be parsed is the sender's invalid URL.
Redirects are followed by hand, at most `max_redirects`, each re-checked the same way.
One deadline covers connecting, every read and every redirect, so a server that drips a
byte a second is cut off; bytes are capped after content decoding, which is done with a
bounded output (`bgone.infra.bounded_gzip`), so a gzip bomb never expands in memory.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bgone import __version__
from bgone.errors import (
    BgDownloadTimeout,
    FailedBgDownload,
    FailedImageDownload,
    FileTooLarge,
    ImageDownloadTimeout,
    InvalidBgImageUrl,
    InvalidImageUrl,
)
from bgone.infra import metrics
from bgone.infra.bounded_gzip import CappedDecoder

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class SourceErrors:
    """The catalogue's errors for one kind of download: the photo, or its background."""

    invalid: type[InvalidImageUrl]
    failed: type[FailedImageDownload]
    timeout: type[FailedImageDownload]


IMAGE_ERRORS = SourceErrors(InvalidImageUrl, FailedImageDownload, ImageDownloadTimeout)
BACKGROUND_ERRORS = SourceErrors(InvalidBgImageUrl, FailedBgDownload, BgDownloadTimeout)


class RefusedAddress(Exception):
    """Raised inside the connection layer; deliberately not an httpcore error."""


# NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
# NAT64's local-use prefix (RFC 8215): where in it the IPv4 address sits depends on the
# operator's prefix length, so nothing in it can be unwrapped; it is refused whole.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
# The deprecated IPv4-compatible form `::a.b.c.d` (RFC 4291), `::` and `::1` among them.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def parse_networks(texts: Iterable[str]) -> tuple[IpNetwork, ...]:
    """BGONE_URL_FETCH_ALLOWED_NETWORKS as networks (the webhook sender follows it too)."""
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, 6to4, Teredo client,
    NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64_WELL_KNOWN or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_refused(address: IpAddress, allowed: Iterable[IpNetwork]) -> bool:
    networks = tuple(allowed)
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE and not any(address in n for n in networks):
            return True
        inner = embedded_ipv4(address)
        if inner is not None and is_refused(inner, networks):
            return True  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in networks):
        return False
    # Private, loopback, link-local (cloud metadata), CGNAT, multicast, reserved...
    return not address.is_global


def wait_before(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    """How long the next wait may take: its own timeout, cut short by the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the download deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every wait ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self.inner = inner
        self.deadline = deadline

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        return wait_before(self.deadline, timeout, error)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = self._timeout(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(
            self.inner.start_tls(ssl_context, server_hostname, wait), self.deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class CheckedBackend(httpcore.SyncBackend):
    """Resolves the host once and connects only to an address that passed the check."""

    def __init__(self, allowed: tuple[IpNetwork, ...], deadline: float) -> None:
        self.allowed = allowed
        self.deadline = deadline

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
        wait = wait_before(self.deadline, timeout, httpcore.ConnectTimeout)
        stream = super().connect_tcp(str(permitted[0]), port, wait, local_address, socket_options)
        return DeadlineStream(stream, self.deadline)


class CheckedTransport(httpx.HTTPTransport):
    def __init__(self, allowed: tuple[IpNetwork, ...], deadline: float) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx has no public hook for the network backend; swap the pool it built.
        self._pool = httpcore.ConnectionPool(network_backend=CheckedBackend(allowed, deadline))


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
        return cls(max_bytes, timeout_seconds, 3, parse_networks(allowed_networks))

    def fetch(
        self,
        url: str,
        errors: SourceErrors = IMAGE_ERRORS,
    ) -> bytes:
        with metrics.timed_stage("download"):
            return self._fetch(url, errors)

    def _fetch(self, url: str, errors: SourceErrors) -> bytes:
        deadline = time.monotonic() + self.timeout_seconds
        timeout = httpx.Timeout(self.timeout_seconds, connect=min(5.0, self.timeout_seconds))
        with httpx.Client(
            transport=CheckedTransport(self.allowed_networks, deadline),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for _ in range(self.max_redirects + 1):
                self._check_url(url, errors)
                try:
                    with client.stream("GET", url, headers=REQUEST_HEADERS) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code != 200:
                            raise errors.failed(
                                f"The image URL answered HTTP {response.status_code}."
                            )
                        return self._read_capped(response, deadline, errors)
                except RefusedAddress as error:
                    raise errors.invalid(f"Refused: {error}.") from None
                except httpx.TimeoutException:
                    raise self._too_slow(errors) from None
                except httpx.HTTPError as error:
                    raise errors.failed(f"Download failed: {error}") from None
        raise errors.failed(f"More than {self.max_redirects} redirects.")

    def _too_slow(self, errors: SourceErrors) -> FailedImageDownload:
        return errors.timeout(f"The download took longer than {self.timeout_seconds:g} s.")

    def _check_url(self, url: str, errors: SourceErrors) -> None:
        try:
            parts = urlsplit(url)
            # httpx parses more strictly than urllib (octal IPv4, IDNA): a URL it refuses
            # would otherwise escape the fetch as httpx.InvalidURL, not the sender's error.
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as error:
            raise errors.invalid(f"The URL cannot be parsed: {error}.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.invalid("Only http and https URLs with a host are accepted.")
        if parts.username or parts.password:
            raise errors.invalid("URLs with credentials are not accepted.")

    def _read_capped(
        self, response: httpx.Response, deadline: float, errors: SourceErrors
    ) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FileTooLarge(f"The image at the URL exceeds {self.max_bytes} bytes.")
        decoder = CappedDecoder(
            response.headers.get("content-encoding", ""), self.max_bytes, errors.failed
        )
        chunks: list[bytes] = []
        # Raw bytes: httpx's own decoding would inflate a whole chunk before any check.
        for chunk in response.iter_raw():
            chunks.append(decoder.feed(chunk))
            if time.monotonic() > deadline:
                raise self._too_slow(errors)
        chunks.append(decoder.finish())
        return b"".join(chunks)


# Images are compressed already: ask for them as they are (a server may still gzip). The
# User-Agent names bgone, not the HTTP library, so image hosts can tell who fetches.
REQUEST_HEADERS = {
    "Accept": "image/*",
    "Accept-Encoding": "identity",
    "User-Agent": f"bgone/{__version__}",
}
