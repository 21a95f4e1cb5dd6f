"""POSTing one signed delivery under the URL fetcher's address rules.

The host is resolved and vetted on every attempt (an endpoint that resolved to a public
address yesterday may point at 127.0.0.1 today), the connection goes to the vetted address
(bgone.infra.url_fetch's CheckedTransport), redirects are not followed (a 3xx is a failed
attempt) and one deadline covers connecting, sending and reading the excerpt.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx

from bgone import __version__
from bgone.domain.webhook_deliveries import EXCERPT_BYTES, AttemptResult, excerpt_of
from bgone.infra.url_fetch import CheckedTransport, IpNetwork, RefusedAddress, parse_networks


@dataclass(frozen=True)
class WebhookSender:
    timeout_seconds: float = 10.0
    allowed_networks: tuple[IpNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_strings(cls, timeout_seconds: float, allowed: Iterable[str]) -> WebhookSender:
        return cls(timeout_seconds, parse_networks(allowed))

    def post(self, url: str, body: str, headers: Mapping[str, str]) -> AttemptResult:
        started = time.monotonic()
        deadline = started + self.timeout_seconds
        timeout = httpx.Timeout(self.timeout_seconds, connect=min(5.0, self.timeout_seconds))

        def elapsed_ms() -> int:
            return round((time.monotonic() - started) * 1000)

        sent_headers = {
            **headers,
            "content-type": "application/json",
            "user-agent": f"bgone-webhooks/{__version__}",
        }
        try:
            with (
                httpx.Client(
                    transport=CheckedTransport(self.allowed_networks, deadline),
                    timeout=timeout,
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
                client.stream("POST", url, content=body.encode(), headers=sent_headers) as answer,
            ):
                received = bytearray()
                for chunk in answer.iter_raw():
                    received.extend(chunk)
                    if len(received) >= EXCERPT_BYTES:
                        break  # the log keeps 1 KB; the rest is not worth waiting for
                return AttemptResult(answer.status_code, elapsed_ms(), excerpt_of(bytes(received)))
        except RefusedAddress as error:
            return AttemptResult(None, elapsed_ms(), error=f"refused: {error}")
        except httpx.TimeoutException:
            return AttemptResult(None, elapsed_ms(), error="timed out")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return AttemptResult(None, elapsed_ms(), error=f"failed: {error}")
