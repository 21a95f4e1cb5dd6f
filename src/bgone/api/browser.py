"""Refusing API keys sent from web pages, and the CORS answers that go with it.

A key in a web page's script is readable by every visitor of that page. Browsers announce
where a request comes from in the `Origin` header, so a request that carries both a key
and an origin other than this server's own (the playground) and the account's allowed
ones is refused with 403 `browser_request_refused` and a pointer to the proxy guide.
Operators can turn the check off (`BGONE_BROWSER_KEY_CHECK=false`).

Preflights (`OPTIONS` with `Access-Control-Request-Method`) carry no key, so they cannot
know the account: every origin gets the same answer, which names no account, reveals no
allowed origin and never allows credentials (cookies). The real request is then checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bgone.api.contracts import RESULT_HEADERS, SUBJECT_TYPE_HEADER
from bgone.domain.origins import normalize_origin
from bgone.errors import BrowserRequestRefused, InvalidOrigin, quoted
from bgone.server.middleware import API_PATHS

PROXY_GUIDE = "/docs/web-integration"
# The scope-state entry through which an approved cross-origin request gets CORS headers.
APPROVED_ORIGIN = "approved_origin"
PREFLIGHT_HEADERS = (
    (b"access-control-allow-methods", b"GET, POST, DELETE"),
    (
        b"access-control-allow-headers",
        b"x-api-key, authorization, content-type, accept, idempotency-key",
    ),
    (b"access-control-max-age", b"600"),
    (b"vary", b"Origin"),
)
EXPOSED_HEADERS = ", ".join(
    (
        "X-Request-ID",
        *RESULT_HEADERS,
        SUBJECT_TYPE_HEADER,
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
        "Idempotent-Replayed",
    )
)


def refusal(origin: str) -> BrowserRequestRefused:
    return BrowserRequestRefused(
        f"This request carries an API key and comes from the web page at {quoted(origin)}. "
        "Anyone who opens that page can read the key. Call bgone from your backend instead "
        f"and let the page talk to your backend: see {PROXY_GUIDE}. If you accept the risk "
        "(an internal tool), allow the origin on your account page."
    )


def is_own_origin(origin: str, host: str | None) -> bool:
    """True when `origin` is this server as the client addressed it (the Host header)."""
    if not host:
        return False
    try:
        own = {normalize_origin(f"{scheme}://{host}") for scheme in ("http", "https")}
        return normalize_origin(origin) in own
    except InvalidOrigin:
        return False


def approved_origin(
    headers: Mapping[str, str], allowed: Sequence[str], check_enabled: bool
) -> str | None:
    """The foreign origin this key may be used from, None when none is involved; else 403.

    Returns the normalised origin only for a cross-origin request the account allowed,
    which then needs CORS headers on its answer.
    """
    origin = headers.get("origin")
    if origin is None or not check_enabled or is_own_origin(origin, headers.get("host")):
        return None
    try:
        normalized = normalize_origin(origin)
    except InvalidOrigin:
        raise refusal(origin) from None  # "null" (sandboxed frames, files) and garbage
    if normalized in allowed:
        return normalized
    raise refusal(origin)


def remember_approval(scope: Scope, origin: str | None) -> None:
    if origin is not None:
        scope.setdefault("state", {})[APPROVED_ORIGIN] = origin


class BrowserCorsMiddleware:
    """Answers preflights on API paths and adds CORS headers to approved answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PATHS):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value for name, value in scope["headers"]}
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(origin, send)
            return

        async def with_cors(message: Message) -> None:
            approved = scope.get("state", {}).get(APPROVED_ORIGIN)
            if message["type"] == "http.response.start" and approved:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", approved.encode()),
                    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    (b"vary", b"Origin"),
                ]
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, origin: bytes, send: Send) -> None:
        # Echoing the origin reveals nothing: the same answer goes to every origin.
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"access-control-allow-origin", origin[:300]), *PREFLIGHT_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": b""})
