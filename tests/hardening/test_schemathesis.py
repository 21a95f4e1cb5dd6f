"""schemathesis against a real `bgone serve`, driven by the /openapi.json it serves.

Every operation is exercised twice: with a valid production key (so the requests reach the
handlers, the model included) and without one (random, missing or malformed credentials).
Whatever schemathesis sends, the server must answer with a status the document declares for
that operation, the declared content type, headers and JSON body, and never a 5xx other than
503 with Retry-After (invariant 1). Examples are bounded so that the whole module takes
seconds, not minutes; the seed is fixed so that a failure in CI replays locally.

With a valid key, each operation must also succeed, and that must not depend on what was
generated or on the machine's load: each operation's valid request (VALID_REQUESTS) is always
sent and is its required success, and a 503 `server_busy` is retried after its Retry-After
instead of being counted.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, BaseSchema, Case, CheckContext, GenerationMode, Response
from schemathesis.core.failures import ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bgone.db.engine import transaction
from bgone.domain import webhook_deliveries
from bgone.domain.clock import utc_now
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

EXAMPLES_PER_OPERATION = 12
# Removal runs the real model on whatever image schemathesis builds (1x1 PNGs, mostly).
REQUEST_TIMEOUT_SECONDS = 30
# A busy server (503 server_busy) is asked again after its Retry-After, this many times.
BUSY_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 5
SMALL_PNG = encode(gradient_rgb(32, 24), "PNG")


@dataclass(frozen=True)
class Target:
    server: Server
    key: str
    stack: Stack | None = None  # for the rows a valid request needs (a webhook delivery)


schemathesis_stack, schemathesis_server = server_fixtures("schemathesis")


@pytest.fixture(scope="module")
def target(schemathesis_stack: Stack, schemathesis_server: Server) -> Target:
    stack = schemathesis_stack
    return Target(schemathesis_server, stack.key(stack.account()), stack)


@pytest.fixture(scope="module")
def served_document(target: Target) -> BaseSchema:
    return schemathesis.openapi.from_url(target.server.base_url + "/openapi.json")


def no_server_error(context: CheckContext, response: Response, case: Case) -> bool | None:
    """Invariant 1: 503 with Retry-After is an honest answer; every other 5xx is a bug."""
    if response.status_code >= 500 and not (
        response.status_code == 503 and response.headers.get("retry-after")
    ):
        raise ServerError(operation=case.operation.label, status_code=response.status_code)
    return None


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, unshrunk
)


def is_server_busy(response: Response) -> bool:
    if response.status_code != 503:
        return False
    try:
        body = response.json()
        # /v2 answers in BackgroundErase's `error` object, the others in an `errors` array.
        error = body["error"] if "error" in body else body["errors"][0]
        return bool(error["code"] == "server_busy")
    except (ValueError, KeyError, IndexError, TypeError):
        return False


# Framing headers belong to HTTP, not to the API: a generated `Content-Length: x)` makes a
# malformed message that the server's HTTP parser refuses (400, plain text) before any route
# sees it, which says nothing about the document.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})


def without_framing_headers(case: Case) -> Case:
    if case.headers:
        for name in [name for name in case.headers if name.lower() in FRAMING_HEADERS]:
            del case.headers[name]
    return case


def call(case: Case, target: Target, statuses: Counter[int]) -> Response:
    """Send and check one case; a server_busy answer is retried, never counted."""
    case = without_framing_headers(case)
    for _ in range(BUSY_RETRIES):
        response = case.call_and_validate(
            base_url=target.server.base_url, checks=CHECKS, timeout=REQUEST_TIMEOUT_SECONDS
        )
        if not is_server_busy(response):
            break
        retry_after = int(response.headers.get("retry-after", ["1"])[0])
        time.sleep(min(MAX_RETRY_AFTER_SECONDS, max(1, retry_after)))
    statuses[response.status_code] += 1
    return response


# One valid request per operation of the served document: (body, media type) builders.
# The document gives examples per field, not whole requests; these are the smallest
# requests that must succeed with a valid production key.
Request = Callable[[], tuple[Any, str | None]]
REMOVAL: Request = lambda: ({"image_file": SMALL_PNG}, "multipart/form-data")  # noqa: E731
NO_BODY: Request = lambda: (None, None)  # noqa: E731
VALID_REQUESTS: dict[str, Request] = {
    "POST /v2": REMOVAL,
    "POST /v1/remove-bg": lambda: ({"file": SMALL_PNG}, "multipart/form-data"),
    "POST /v1.0/removebg": REMOVAL,
    "POST /v1.0/improve": lambda: ({"image_file": SMALL_PNG, "tag": "t"}, "multipart/form-data"),
    "GET /v1/account": NO_BODY,
    "GET /v1/usage": NO_BODY,
    "GET /v2/health": NO_BODY,
    "GET /readyz": NO_BODY,
    "GET /api/keys": NO_BODY,
    "POST /api/keys": lambda: ({"name": "valid", "environment": "staging"}, "application/json"),
    "POST /api/keys/{key_id}/rotate": NO_BODY,
    "DELETE /api/keys/{key_id}": NO_BODY,
    "GET /api/audit-log": NO_BODY,
    "GET /v1/webhooks": NO_BODY,
    "POST /v1/webhooks": lambda: (
        {"url": "https://hooks.example.com/x", "event_types": ["key.revoked"]},
        "application/json",
    ),
    "GET /v1/webhooks/{endpoint_id}": NO_BODY,
    "PATCH /v1/webhooks/{endpoint_id}": lambda: ({"enabled": True}, "application/json"),
    "DELETE /v1/webhooks/{endpoint_id}": NO_BODY,
    "POST /v1/webhooks/{endpoint_id}/rotate-secret": NO_BODY,
    "GET /v1/webhooks/{endpoint_id}/deliveries": NO_BODY,
    "POST /v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver": NO_BODY,
    "GET /v1/account/credits-low-threshold": NO_BODY,
    "PUT /v1/account/credits-low-threshold": lambda: ({"threshold": 10}, "application/json"),
    "POST /v1/jobs": lambda: ({"image_file": [SMALL_PNG]}, "multipart/form-data"),
    "GET /v1/jobs": NO_BODY,
    "GET /v1/jobs/{job_id}": NO_BODY,
    "DELETE /v1/jobs/{job_id}": NO_BODY,
    "GET /v1/jobs/{job_id}/results.zip": NO_BODY,
    "GET /v1/jobs/{job_id}/items/{index}": NO_BODY,
    # Well-formed, of no account: the answer is the same for every key.
    "POST /v1/keys/leaked": lambda: (
        ["bgone_live_000000000000000000000000000000003CxS1I"],
        "application/json",
    ),
}


def valid_request(operation: APIOperation, target: Target) -> Case:
    body, media_type = VALID_REQUESTS[operation.label]()
    parameters: dict[str, Any] = {}
    if "{key_id}" in operation.path:
        parameters["key_id"] = spare_key_id(target)
    if "{endpoint_id}" in operation.path:
        parameters["endpoint_id"] = spare_endpoint_id(target)
    if "{delivery_id}" in operation.path:
        parameters["delivery_id"] = spare_delivery_id(target, parameters["endpoint_id"])
    if "{job_id}" in operation.path:
        parameters |= {"job_id": finished_job_id(target), "index": 0}
    case = operation.Case(
        path_parameters=parameters or None,
        media_type=media_type,
        **({} if body is None else {"body": body}),
    )
    return with_valid_key(case, target)


def send_valid_requests(operations: list[APIOperation], target: Target) -> dict[str, int]:
    """Each operation's valid request, once: the status it answered, by operation."""
    labels = {operation.label for operation in operations}
    assert labels == set(VALID_REQUESTS), "every operation needs its entry in VALID_REQUESTS"
    return {
        operation.label: call(valid_request(operation, target), target, Counter()).status_code
        for operation in operations
    }


def with_valid_key(case: Case, target: Target) -> Case:
    headers = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() not in ("x-api-key", "authorization")
    }
    case.headers = {**headers, "x-api-key": target.key}
    return case


def spare_key_id(target: Target) -> str:
    created = httpx.post(
        target.server.base_url + "/api/keys",
        headers={"x-api-key": target.key},
        json={"name": "schemathesis spare", "environment": "staging"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    key_id: str = created.json()["data"]["id"]
    return key_id


def spare_endpoint_id(target: Target) -> str:
    created = httpx.post(
        target.server.base_url + "/v1/webhooks",
        headers={"x-api-key": target.key},
        json={"url": "https://hooks.example.com/spare", "event_types": ["key.revoked"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    endpoint_id: str = created.json()["data"]["id"]
    return endpoint_id


def spare_delivery_id(target: Target, endpoint_id: str) -> int:
    """A delivery row, as a consumer would have made it (no event need happen first)."""
    assert target.stack is not None
    with transaction(target.stack.sessions) as session:
        return webhook_deliveries.create(
            session, endpoint_id, "msg_spare", "key.revoked", "{}", utc_now()
        )


def finished_job_id(target: Target) -> str:
    """A job of one image, once it has ended (its result exists: item 0 succeeded)."""
    headers = {"x-api-key": target.key}
    base = target.server.base_url
    submitted = httpx.post(
        f"{base}/v1/jobs",
        headers=headers,
        files={"image_file": ("small.png", SMALL_PNG, "image/png")},
        timeout=30,
    )
    assert submitted.status_code == 202, submitted.text
    job_id: str = submitted.json()["id"]
    for _ in range(600):
        if httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers).json()["state"] == "completed":
            return job_id
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never completed")


def send_cases(
    strategy: st.SearchStrategy[Case], target: Target, key: bool, statuses: Counter[int]
) -> None:
    """Send a bounded number of cases; raises the first failure schemathesis found."""

    @given(case=strategy)
    @BOUNDED
    def send(case: Case) -> None:
        if key:
            case = with_valid_key(case, target)
        # Otherwise the credentials are whatever schemathesis generated: none, or noise.
        call(case, target, statuses)

    send()


def exercise(document: BaseSchema, target: Target, mode: GenerationMode, key: bool) -> None:
    """Every operation of the served document, each with a bounded number of cases."""
    failures: list[str] = []
    statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
    operations = [result.ok() for result in document.get_all_operations()]
    assert len(operations) >= 10, "the served document lost operations"
    reach_handlers = key and mode is GenerationMode.POSITIVE
    # Random key ids only ever meet 404; one real id lets rotate and delete do their work.
    path_parameters = (
        {"key_id": spare_key_id(target), "job_id": finished_job_id(target), "index": 0}
        if reach_handlers
        else None
    )
    # Before any generated case, which may use up the account's keys or credits.
    required = send_valid_requests(operations, target) if reach_handlers else {}
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
        if mode is GenerationMode.POSITIVE:
            examples = document.get_strategies_from_examples(operation)
            strategy = st.one_of(strategy, *examples)
        try:
            send_cases(strategy, target, key, statuses[operation.label])
        except Unsatisfiable:
            # Nothing to break in an operation without parameters or body (GET /v2/health).
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no positive case"
        except Exception as failure:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}:\n{failure}")
    assert not failures, "\n\n".join(failures)
    if reach_handlers:  # else the test would prove nothing about the handlers
        unreached = {label: status for label, status in required.items() if status >= 300}
        assert not unreached, f"valid requests that failed: {unreached}; generated: {statuses}"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_with_a_valid_key(
    served_document: BaseSchema, target: Target, mode: GenerationMode
) -> None:
    exercise(served_document, target, mode, key=True)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_without_a_valid_key(
    served_document: BaseSchema, target: Target, mode: GenerationMode
) -> None:
    exercise(served_document, target, mode, key=False)


def test_undeclared_methods_answer_405_with_every_allowed_method(target: Target) -> None:
    document = httpx.get(target.server.base_url + "/openapi.json", timeout=10).json()
    for path, item in document["paths"].items():
        declared = {method.upper() for method in item if method != "parameters"}
        concrete = path.replace("{key_id}", "key_0000000000000000")
        for method in ("PUT", "PATCH", "TRACE"):
            if method in declared:
                continue
            answer = httpx.request(method, target.server.base_url + concrete, timeout=10)
            assert answer.status_code == 405, (method, path, answer.text)
            assert code_of(answer) == "method_not_allowed"
            allowed = {name.strip() for name in answer.headers["allow"].split(",")}
            # RFC 9110: the methods the resource supports, all of them (GET implies HEAD).
            assert allowed - {"HEAD"} == declared, (path, answer.headers["allow"])
