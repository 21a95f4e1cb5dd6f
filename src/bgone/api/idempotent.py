"""A route's answer under the request's `Idempotency-Key` (bgone.services.idempotency).

`answer_idempotently` wraps whatever a route does once its request is parsed: without the
header it just runs; with it, a kept answer is sent again as it was (status, body and headers,
`X-Credits-Charged` included: it says what the request cost, once), with `Idempotent-Replayed:
true`, and otherwise the route runs under the claimed key and its answer, errors included, is
handed to the service to keep or not. A replay's own usage row charges nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from bgone.errors import BgoneError
from bgone.server.error_handlers import error_response
from bgone.server.middleware import request_record
from bgone.services.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    IdempotencyService,
    StoredAnswer,
    parse_key,
)

# Set again by the server on every answer, so never kept: the body's length is the body's,
# the request id and the rate limit are the replay's own.
NOT_KEPT_HEADERS = frozenset({"content-length", "x-request-id", "retry-after"})


async def answer_idempotently(
    request: Request,
    service: IdempotencyService,
    account_id: int,
    fingerprint_of: Callable[[], Awaitable[str]],
    run: Callable[[], Awaitable[Response]],
) -> Response:
    """`run()`'s answer, or the answer kept for the request's key; see the module. The
    request's fingerprint (file hashes) is computed only when it carries a key."""
    key = parse_key(request.headers.get(HEADER))
    if key is None:
        return await run()
    outcome = await service.begin(account_id, key, await fingerprint_of())
    if isinstance(outcome, StoredAnswer):
        return _replayed(request, outcome)
    try:
        try:
            response = await run()
        except BgoneError as error:
            # Rendered here, as the error handler would, so that the answer can be kept.
            response = error_response(request, error)
    except BaseException:
        await service.release(outcome)  # a 5xx or a cancellation: the key is free again
        raise
    await service.finish(outcome, _kept(response))
    return response


def _kept(response: Response) -> StoredAnswer:
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name not in NOT_KEPT_HEADERS
    )
    return StoredAnswer(response.status_code, headers, bytes(response.body))


def _replayed(request: Request, answer: StoredAnswer) -> Response:
    headers = dict(answer.headers)
    headers[REPLAYED_HEADER] = "true"
    if answer.status >= 400:
        request_record(request.scope).error_code = _error_code(answer.body)
    return Response(answer.body, status_code=answer.status, headers=headers)


def _error_code(body: bytes) -> str | None:
    """The code of a kept error body (bgone's `errors` list or BackgroundErase's `error`),
    for the replay's usage row."""
    try:
        document = json.loads(body)
        if "error" in document:
            return str(document["error"]["code"])
        return str(document["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
