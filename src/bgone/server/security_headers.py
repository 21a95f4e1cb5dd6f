"""The headers every response carries so that browsers hold the pages to their own rules.

The policy allows only this server's own scripts, styles and images (plus the `blob:` and
`data:` images the playground makes from results): no inline script or style attribute runs,
so markup injected into a page cannot act. `frame-ancestors 'none'` keeps the pages out of
other sites' frames (clickjacking); `form-action 'self'` and `base-uri 'none'` keep an
injected form or `<base>` from sending data elsewhere. JSON answers get the same headers:
`nosniff` keeps a browser from reading one as a page or a script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# Other sites learn nothing of the URLs followed to them (account pages carry key ids).
REFERRER_POLICY = "same-origin"
# A year; sent only over HTTPS deployments (BGONE_SECURE_COOKIES), since a browser that got it
# over plain HTTP would refuse that server's HTTP for the whole year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", REFERRER_POLICY.encode()),
    ]
    if https:
        headers.append((b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode()))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in self.headers if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
