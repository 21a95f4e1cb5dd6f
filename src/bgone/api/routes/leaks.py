"""`POST /v1/keys/leaked`: report keys found in public, no key needed.

Whoever holds a leaked key can use it anyway, so reporting one needs no authentication; the
answer is the same for every report (202 and an empty list), whether the keys were real,
unknown, already revoked or malformed, so the endpoint cannot be used to test keys. Two
bodies are accepted: GitHub's secret-scanning partner alert (a list of
`{"token", "type", "url", "source"}`) and a plain list of key strings. With the scanner's
public keys configured (BGONE_LEAK_REPORT_PUBLIC_KEYS), an alert in GitHub's format must be
signed (its headers below); the plain list stays open to anyone.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bgone.errors import InvalidRequest
from bgone.server.deps import ServicesDep, client_ip
from bgone.services.authentication import call_limiter
from bgone.services.leaks import MAX_REPORTED_KEYS, ReportedKey

router = APIRouter(tags=["leaked keys"])

SIGNATURE_IDENTIFIER = "github-public-key-identifier"
SIGNATURE = "github-public-key-signature"

# GitHub reads a list of labels back; labelling would tell which keys are real: none.
ACKNOWLEDGED: list[object] = []


def parse_report(raw: bytes) -> list[ReportedKey]:
    """The entries of either body; 400 invalid_request for anything else."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body must be a JSON list of keys.") from None
    if not isinstance(document, list) or not document:
        raise InvalidRequest(
            'The body must be a non-empty JSON list: ["bgone_live_…"], or GitHub\'s '
            '[{"token": "bgone_live_…", "type": "…", "url": "…", "source": "…"}].'
        )
    if len(document) > MAX_REPORTED_KEYS:
        raise InvalidRequest(f"At most {MAX_REPORTED_KEYS} keys per report.")
    return [_entry(item, index) for index, item in enumerate(document)]


def _entry(item: Any, index: int) -> ReportedKey:
    if isinstance(item, str):
        return ReportedKey(item)
    if isinstance(item, dict) and isinstance(item.get("token"), str):
        url, source = item.get("url"), item.get("source")
        return ReportedKey(
            item["token"],
            url=url if isinstance(url, str) else None,
            source=f"github:{source}" if isinstance(source, str) and source else "github",
        )
    raise InvalidRequest(f"Entry {index} is neither a key string nor an object with a token.")


@router.post(
    "/v1/keys/leaked",
    status_code=202,
    summary="Report leaked API keys (no key needed)",
    response_description="Received. The same answer whatever the keys were.",
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in (
                (
                    "Github-Public-Key-Identifier",
                    "Which of the scanner's keys signed the alert (GitHub's alert format).",
                ),
                (
                    "Github-Public-Key-Signature",
                    "Base64 DER ECDSA P-256 signature of the raw body. Required for GitHub's "
                    "format when the server has BGONE_LEAK_REPORT_PUBLIC_KEYS set; else "
                    "401 invalid_report_signature.",
                ),
            )
        ]
    },
)
async def report_leaked_keys(request: Request, services: ServicesDep) -> JSONResponse:
    ip = client_ip(request)
    leaks = services.leaks
    await call_limiter(services.limiter, lambda: leaks.admit(ip))
    raw = await request.body()
    reported = parse_report(raw)
    if any(entry.source != "plain" for entry in reported):
        headers = request.headers
        leaks.check_signature(raw, headers.get(SIGNATURE_IDENTIFIER), headers.get(SIGNATURE))
    await run_in_threadpool(leaks.report, reported, ip)
    return JSONResponse(ACKNOWLEDGED, status_code=202)
