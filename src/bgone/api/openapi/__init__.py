"""The OpenAPI document, completed with what FastAPI cannot see in the handlers.

The removal endpoints read their bodies by hand (three contracts, several body kinds) and
every failure answers with one error shape from an exception handler, so FastAPI's generated
document lacks request bodies, binary results, result headers and error responses. They are
added here from tables: the contracts of `bgone.api.contracts`, the option enums of
`bgone.inference.options` and the error classes with their stable codes. The docs pages
render the same document, so the reference and the API cannot drift apart.

This module is the assembly: which route answers with which body and errors, and the pass
that completes FastAPI's document. The parts it draws on live beside it: the error catalogue
in `openapi_errors`, the removal request bodies in `openapi_bodies`, the headers, result
schemas and error responses in `openapi_responses`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI

from bgone.api.contracts import BACKGROUND_ERASE, BYBYBG, REMOVE_BG, Contract
from bgone.api.openapi.bodies import option_error_cases, removal_body
from bgone.api.openapi.errors import (
    AUTH_ERRORS,
    BG_URL_ERRORS,
    KEY_ID_ERRORS,
    NEW_KEY_ERRORS,
    PRODUCTION_ONLY,
    REMOVAL_ERRORS,
    REMOVE_SCOPE,
    ROTATE_ERRORS,
    UNAVAILABLE,
    URL_ERRORS,
    ErrorCase,
    case,
)
from bgone.api.openapi.idempotency import IDEMPOTENCY_ERRORS, IDEMPOTENCY_PARAMETER, REPLAY_HEADER
from bgone.api.openapi.improve import IMPROVE_ERRORS, improve_body, improve_success
from bgone.api.openapi.jobs import (
    CANCEL_ERRORS,
    ITEM_ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    SUBMIT_ERRORS,
    item_error_schema,
    submit_body,
)
from bgone.api.openapi.leaks import LEAK_ERRORS, leak_body, leak_success
from bgone.api.openapi.responses import (
    HEADERS,
    RATE_HEADERS,
    SCHEMAS,
    error_responses,
    header_refs,
    removal_success,
)
from bgone.api.openapi.schema import Schema
from bgone.api.openapi.usage import USAGE_ERRORS, usage_success
from bgone.api.openapi.webhooks import webhook_operations
from bgone.errors import InvalidRequest
from bgone.server.error_dialects import dialect_of

KEY_SCHEME = "APIKeyHeader"  # declared by bgone.api.deps (the x-api-key header)
BEARER_SCHEME = "BearerAuth"


# -- which route gets what ---------------------------------------------------------------


@dataclass(frozen=True)
class OperationDoc:
    errors: Sequence[ErrorCase]
    contract: Contract | None = None
    # For a route that reads its body by hand and is no removal: its body and its 200.
    body: Schema | None = None
    success: Schema | None = None
    success_status: str = "200"
    # A route that needs no key (`POST /v1/keys/leaked`): no security, no rate headers.
    public: bool = False
    # A route that takes an `Idempotency-Key` (bgone.api.idempotent): the header, its errors.
    idempotent: bool = False


def removal_errors(contract: Contract) -> list[ErrorCase]:
    cases = [
        *AUTH_ERRORS,
        *REMOVAL_ERRORS,
        *option_error_cases(contract),
        *IDEMPOTENCY_ERRORS,
        UNAVAILABLE,
    ]
    if contract.url_fields:
        cases += URL_ERRORS
    if contract.accepts_bg_sources:
        cases += BG_URL_ERRORS
    return cases


MANAGEMENT = (*AUTH_ERRORS, PRODUCTION_ONLY, REMOVE_SCOPE, UNAVAILABLE)
OPERATIONS: dict[tuple[str, str], OperationDoc] = {
    ("post", "/v2"): OperationDoc(
        removal_errors(BACKGROUND_ERASE), BACKGROUND_ERASE, idempotent=True
    ),
    ("post", "/v1/remove-bg"): OperationDoc(removal_errors(BYBYBG), BYBYBG, idempotent=True),
    ("post", "/v1.0/removebg"): OperationDoc(removal_errors(REMOVE_BG), REMOVE_BG, idempotent=True),
    ("post", "/v1.0/improve"): OperationDoc(
        (*AUTH_ERRORS, *IMPROVE_ERRORS, UNAVAILABLE), body=improve_body(), success=improve_success()
    ),
    ("get", "/v1/account"): OperationDoc((*AUTH_ERRORS, UNAVAILABLE)),
    ("get", "/v1/usage"): OperationDoc(
        (*AUTH_ERRORS, *USAGE_ERRORS, UNAVAILABLE), success=usage_success()
    ),
    ("get", "/api/keys"): OperationDoc(MANAGEMENT),
    ("post", "/api/keys"): OperationDoc((*MANAGEMENT, *NEW_KEY_ERRORS)),
    ("post", "/api/keys/{key_id}/rotate"): OperationDoc(
        (*MANAGEMENT, *ROTATE_ERRORS, *KEY_ID_ERRORS)
    ),
    ("delete", "/api/keys/{key_id}"): OperationDoc((*MANAGEMENT, *KEY_ID_ERRORS)),
    ("get", "/api/audit-log"): OperationDoc(MANAGEMENT),
    ("post", "/v1/jobs"): OperationDoc(
        (*AUTH_ERRORS, *SUBMIT_ERRORS, UNAVAILABLE), body=submit_body(), success_status="202"
    ),
    ("get", "/v1/jobs"): OperationDoc((*AUTH_ERRORS, *LIST_ERRORS, UNAVAILABLE)),
    ("get", "/v1/jobs/{job_id}"): OperationDoc((*AUTH_ERRORS, *READ_ERRORS, UNAVAILABLE)),
    ("delete", "/v1/jobs/{job_id}"): OperationDoc((*AUTH_ERRORS, *CANCEL_ERRORS, UNAVAILABLE)),
    ("get", "/v1/jobs/{job_id}/results.zip"): OperationDoc(
        (*AUTH_ERRORS, *READ_ERRORS, UNAVAILABLE)
    ),
    ("get", "/v1/jobs/{job_id}/items/{index}"): OperationDoc(
        (*AUTH_ERRORS, *ITEM_ERRORS, UNAVAILABLE)
    ),
    ("post", "/v1/keys/leaked"): OperationDoc(
        (*LEAK_ERRORS, UNAVAILABLE),
        body=leak_body(),
        success=leak_success(),
        success_status="202",
        public=True,
    ),
    **{
        operation: OperationDoc(errors)
        for operation, errors in webhook_operations(MANAGEMENT).items()
    },
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _enrich_operation(path: str, method: str, operation: Schema) -> None:
    doc = OPERATIONS.get((method, path))
    dialect = dialect_of(path)  # the route's provider spells its errors its own way
    protected = (doc is not None and not doc.public) or "security" in operation
    responses: Schema = operation.setdefault("responses", {})
    # Validation problems answer 400 invalid_request in the one error body, never 422.
    responses.pop("422", None)
    if protected:
        operation["security"] = [{KEY_SCHEME: []}, {BEARER_SCHEME: []}]
    for status, response in responses.items():
        if status.startswith("2"):
            names = ["X-Request-ID", *(RATE_HEADERS if protected else ())]
            response.setdefault("headers", {}).update(header_refs(names))
    if doc is None:
        if protected:
            responses.update(error_responses((*AUTH_ERRORS, UNAVAILABLE), dialect))
        return
    if doc.idempotent:
        operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_PARAMETER))
    if doc.contract is not None:
        operation["requestBody"] = removal_body(doc.contract)
        responses["200"] = removal_success(doc.contract)
    elif doc.body is not None:
        operation["requestBody"] = doc.body
        if doc.success is not None:
            success = copy.deepcopy(doc.success)
            status = doc.success_status
            success["headers"] = responses.get(status, {}).get("headers", {})
            responses[status] = success
    elif doc.success is not None:  # a route without a body that answers more than JSON
        success = copy.deepcopy(doc.success)
        success["headers"] = responses.get(doc.success_status, {}).get("headers", {})
        responses[doc.success_status] = success
    elif "requestBody" in operation:
        doc = OperationDoc((*doc.errors, case(InvalidRequest, "The request is malformed.")))
    if doc.idempotent:
        for status, response in responses.items():
            if status.startswith("2"):
                response.setdefault("headers", {}).update(header_refs([REPLAY_HEADER[0]]))
    responses.update(error_responses(doc.errors, dialect))


def enrich(schema: Schema) -> Schema:
    """Add bodies, headers, security and error responses to FastAPI's document, in place."""
    components: Schema = schema.setdefault("components", {})
    schemas: Schema = components.setdefault("schemas", {})
    schemas.update(copy.deepcopy(SCHEMAS))
    schemas["JobItemError"] = item_error_schema()
    components["headers"] = {
        name: {"description": text, "schema": {"type": kind}}
        for name, (kind, text) in (*HEADERS.items(), REPLAY_HEADER)
    }
    schemes: Schema = components.setdefault("securitySchemes", {})
    schemes.setdefault(
        KEY_SCHEME,
        {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "Your API key."},
    )
    schemes[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The same key as `Authorization: Bearer YOUR_KEY`.",
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                _enrich_operation(path, method, operation)
    # FastAPI's 422 models are unused now that validation errors are documented as 400.
    for name in ("HTTPValidationError", "ValidationError"):  # the second is used by the first
        if name in schemas and f"#/components/schemas/{name}" not in _references(schema):
            del schemas[name]
    return schema


def _references(node: object) -> set[str]:
    """Every `$ref` target in a document."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def install_openapi(app: FastAPI) -> None:
    """Replace app.openapi with a cached version that documents bodies and error responses."""
    generate: Callable[[], Schema] = app.openapi

    def openapi() -> Schema:
        if app.openapi_schema is None:
            try:
                app.openapi_schema = enrich(generate())  # FastAPI's own, completed in place
            except BaseException:
                app.openapi_schema = None  # never cache a half-enriched document
                raise
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
