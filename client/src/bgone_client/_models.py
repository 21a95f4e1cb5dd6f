"""What the SDK returns: a removal's result, the rate limit it reports, the account summary."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class RateLimit:
    limit: int  # images (of up to 1 MP each) per minute
    remaining: int
    reset: int  # Unix time at which the window has fully refilled


@dataclass(frozen=True)
class RemovalResult:
    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    foreground_top: int
    foreground_left: int
    foreground_width: int
    foreground_height: int
    credits_charged: float
    request_id: str
    rate_limit: RateLimit | None
    quality: str = ""  # the quality that ran: "fast" or "best" ("" from an older server)
    quality_models: tuple[str, ...] = ()  # the models that ran, e.g. ("u2netp", "isnet")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result's bytes to `path` and return it."""
        target = Path(path)
        target.write_bytes(self.data)
        return target

    @classmethod
    def from_response(cls, response: httpx.Response) -> RemovalResult:
        """The result of a successful removal: the image is the body, the rest headers."""
        headers = response.headers

        def number(name: str) -> int:
            return int(headers.get(name, "0"))

        rate_limit = None
        if "x-ratelimit-limit" in headers:
            rate_limit = RateLimit(
                number("x-ratelimit-limit"),
                number("x-ratelimit-remaining"),
                number("x-ratelimit-reset"),
            )
        return cls(
            data=response.content,
            content_type=headers.get("content-type", "").split(";")[0].strip(),
            width=number("x-width"),
            height=number("x-height"),
            foreground_top=number("x-foreground-top"),
            foreground_left=number("x-foreground-left"),
            foreground_width=number("x-foreground-width"),
            foreground_height=number("x-foreground-height"),
            credits_charged=float(headers.get("x-credits-charged", "0")),
            request_id=headers.get("x-request-id", ""),
            rate_limit=rate_limit,
            quality=headers.get("x-quality", ""),
            quality_models=tuple(filter(None, headers.get("x-quality-models", "").split(","))),
        )


@dataclass(frozen=True)
class AccountInfo:
    plan: str
    email: str
    key_environment: str
    period: str
    credits_left: float
    credits_included: float
    credits_used: float
    credits_reserved: float
    rate_limit_per_minute: int
    max_megapixels: float
    requests_this_period: int
    failed_requests_this_period: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_response(cls, response: httpx.Response) -> AccountInfo:
        """The account summary of `GET /v1/account`; `raw` keeps the whole document."""
        document: dict[str, Any] = response.json()
        attributes = document["data"]["attributes"]
        usage = attributes.get("usage_this_period", {})
        return cls(
            plan=attributes["plan"],
            email=attributes["email"],
            key_environment=attributes["key_environment"],
            period=attributes["period"],
            credits_left=float(attributes["credits_left"]),
            credits_included=float(attributes["credits_included"]),
            credits_used=float(attributes["credits_used"]),
            credits_reserved=float(attributes["credits_reserved"]),
            rate_limit_per_minute=int(attributes["rate_limit_per_minute"]),
            max_megapixels=float(attributes["max_megapixels"]),
            requests_this_period=int(usage.get("requests", 0)),
            failed_requests_this_period=int(usage.get("failed_requests", 0)),
            raw=document,
        )
