"""The cookie of the half-signed-in state between the password and the code (the challenge
itself is server-side: bgone.domain.two_factor). Its own module so that the log-in route
(bgone.web.pages) can hand over to the second step without importing its pages."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from bgone.domain.two_factor import CHALLENGE_LIFETIME

CHALLENGE_COOKIE = "bgone_2fa"
SECOND_STEP_PATH = "/login/two-factor"


def to_second_step(token: str, secure: bool) -> Response:
    response = RedirectResponse(SECOND_STEP_PATH, status_code=303)
    response.set_cookie(
        CHALLENGE_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=int(CHALLENGE_LIFETIME.total_seconds()),
        path="/login",
    )
    return response
