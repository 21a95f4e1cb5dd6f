"""Jinja2 rendering shared by every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bgone import __version__
from bgone.server.deps import Viewer

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["version"] = __version__


def render(
    request: Request, template: str, viewer: Viewer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page; `user` (the current account), `person` (who is signed in), `role`,
    `memberships` (the person's accounts) and `csrf_token` are always available."""
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": viewer.account if viewer else None,
            "person": viewer.user if viewer else None,
            "role": viewer.role.value if viewer else None,
            "memberships": viewer.memberships if viewer else (),
            "csrf_token": viewer.session.csrf_token if viewer else "",
            **context,
        },
        status_code=status_code,
    )
    # Pages may show secrets (a new key) or account data: never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response
