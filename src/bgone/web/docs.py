"""The documentation pages' routes: guides, and an API reference rendered from OpenAPI.

Everything is rendered on the server from local files: no Swagger or Redoc bundle, no CDN.
The routes only pick a template and its content; the content is built in `docs_guides` (error
examples from the catalogue in `bgone.api.openapi.errors`, the files of `examples/web-proxy/`)
and `docs_reference` (a walk over `app.openapi()`), so none of it can drift from what the
server does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bgone.api.openapi.leaks import EXAMPLE_KEY
from bgone.security.keys import SCANNER_PATTERN
from bgone.server.deps import ViewerDep, get_services
from bgone.services.leaks import MAX_REPORTED_KEYS
from bgone.web.docs_guides import AUTH_GUIDE_ERRORS, error_statuses, example_files
from bgone.web.docs_markup import ticks
from bgone.web.docs_reference import Reference
from bgone.web.docs_teams import COLUMNS, permission_rows
from bgone.web.docs_webhooks import disable_after_days, event_rows, retry_schedule
from bgone.web.playground import ENDPOINTS
from bgone.web.snippets import SnippetRequest, SnippetSet, snippets
from bgone.web.templating import render

router = APIRouter(include_in_schema=False)

NAV = (
    ("/docs", "Overview"),
    ("/docs/authentication", "Authentication"),
    ("/docs/web-integration", "Web integration"),
    ("/docs/teams", "Teams and roles"),
    ("/docs/leaked-keys", "Leaked keys"),
    ("/docs/webhooks", "Webhooks"),
    ("/docs/api", "API reference"),
)


@dataclass(frozen=True)
class EndpointExample:
    """One provider endpoint's example request, in every language."""

    method: str
    path: str
    label: str
    slug: str  # for ids: v2, v1-remove-bg, v1-0-removebg
    snippets: SnippetSet
    full_size_sent: bool  # the endpoint's default is smaller, so the example asks for full


# The URL examples name a sample photo of the server itself, so that they run as shown
# wherever the server can reach its own public address.
URL_SAMPLE = "mug.jpg"


def endpoint_examples(base_url: str, by_url: bool = False) -> list[EndpointExample]:
    """photo.jpg from the current directory to result.png, full size, on each endpoint; or,
    `by_url`, the server's own sample photo by URL, on each endpoint that takes URLs."""
    examples = []
    for endpoint in ENDPOINTS:
        if by_url and endpoint.url_field is None:
            continue
        fields = () if endpoint.default_size == "full" else (("size", "full"),)
        request = SnippetRequest(
            base_url=base_url,
            path=endpoint.path,
            file_field=endpoint.file_field,
            image="photo.jpg",
            fields=fields,
            default_format=endpoint.default_format,
            label=endpoint.label,
            image_url=f"{base_url}/static/samples/{URL_SAMPLE}" if by_url else None,
            url_field=endpoint.url_field or "image_url",
        )
        slug = re.sub(r"[^a-z0-9]+", "-", endpoint.path.lower()).strip("-")
        examples.append(
            EndpointExample(
                "POST", endpoint.path, endpoint.label, slug, snippets(request), bool(fields)
            )
        )
    return examples


def _page(
    request: Request, viewer: ViewerDep, template: str, title: str, **context: Any
) -> Response:
    return render(
        request,
        template,
        viewer,
        nav=NAV,
        current=request.url.path.rstrip("/") or "/docs",
        page_title=title,
        base_url=str(request.base_url).rstrip("/"),
        **context,
    )


@router.get("/docs")
async def overview(request: Request, viewer: ViewerDep) -> Response:
    base_url = str(request.base_url).rstrip("/")
    return _page(
        request,
        viewer,
        "docs_overview.html",
        "Documentation",
        examples=endpoint_examples(base_url),
        url_examples=endpoint_examples(base_url, by_url=True),
    )


@router.get("/docs/authentication")
async def authentication(request: Request, viewer: ViewerDep) -> Response:
    return _page(
        request,
        viewer,
        "docs_authentication.html",
        "Authentication and errors",
        statuses=error_statuses(AUTH_GUIDE_ERRORS),
    )


@router.get("/docs/web-integration")
async def web_integration(request: Request, viewer: ViewerDep) -> Response:
    return _page(
        request,
        viewer,
        "docs_web_integration.html",
        "Web integration",
        files=example_files(),
    )


@router.get("/docs/teams")
async def teams(request: Request, viewer: ViewerDep) -> Response:
    services = get_services(request)
    return _page(
        request,
        viewer,
        "docs_teams.html",
        "Teams and roles",
        columns=[label for _, label in COLUMNS],
        rows=permission_rows(),
        mail_enabled=services.mailer is not None,
    )


@router.get("/docs/leaked-keys")
async def leaked_keys(request: Request, viewer: ViewerDep) -> Response:
    services = get_services(request)
    return _page(
        request,
        viewer,
        "docs_leaked_keys.html",
        "Leaked keys",
        pattern=SCANNER_PATTERN,
        example_key=EXAMPLE_KEY,
        max_keys=MAX_REPORTED_KEYS,
        per_minute=services.settings.leak_reports_per_minute,
        signatures_checked=services.scanner_keys is not None,
    )


@router.get("/docs/webhooks")
async def webhooks(request: Request, viewer: ViewerDep) -> Response:
    return _page(
        request,
        viewer,
        "docs_webhooks.html",
        "Webhooks",
        events=event_rows(),
        retries=retry_schedule(),
        disable_days=disable_after_days(),
    )


@router.get("/docs/api")
async def api_reference(request: Request, viewer: ViewerDep) -> Response:
    document = request.app.openapi()
    reference = Reference(document)
    info = document.get("info", {})
    error_example = document["components"]["schemas"].get("ErrorBody", {}).get("example")
    return _page(
        request,
        viewer,
        "docs_api.html",
        "API reference",
        info=info,
        intro=ticks(info.get("description", "")),
        tags=reference.operations(),
        headers=reference.headers(),
        error_example=json.dumps(error_example, indent=2) if error_example else None,
        examples={
            (example.method, example.path): example
            for example in endpoint_examples(str(request.base_url).rstrip("/"))
        },
    )
