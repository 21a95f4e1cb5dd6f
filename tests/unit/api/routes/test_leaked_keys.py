"""`POST /v1/keys/leaked` in process: a reported key is revoked within the request, and the
reporter gets the same answer whatever the keys were."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import update

from bgone.db.engine import transaction
from bgone.db.tables import AccountRow
from bgone.security.keys import Environment, generate_key
from bgone.security.report_signatures import InvalidScannerKeys, ScannerKeys
from tests.unit.inprocess import InProcess, assert_error, in_process_app

LEAKED = "/v1/keys/leaked"


def account_status(app: InProcess, key: str) -> int:
    return app.client.get("/v1/account", headers={"x-api-key": key}).status_code


def audit_log(app: InProcess, key: str) -> list[dict[str, Any]]:
    response = app.client.get("/api/audit-log", headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


def github_alert(token: str, url: str = "https://github.com/octo/app/blob/main/.env") -> object:
    return [{"token": token, "type": "bgone_api_key", "url": url, "source": "content"}]


def test_a_reported_key_is_revoked_within_the_request(app: InProcess, key: str) -> None:
    assert account_status(app, key) == 200  # and now in the key cache
    response = app.client.post(LEAKED, json=[key])
    assert response.status_code == 202, response.text
    assert response.json() == []
    answer = app.client.get("/v1/account", headers={"x-api-key": key})
    assert_error(answer, 401, "revoked_api_key")


def test_github_s_alert_is_audited_with_the_source_url(app: InProcess) -> None:
    account = app.stack.account("business")
    leaked, manager = app.stack.key(account), app.stack.key(account)
    url = "https://github.com/octo/app/blob/0a1b2c/config.py"
    response = app.client.post(LEAKED, json=github_alert(leaked, url))
    assert response.status_code == 202, response.text
    assert account_status(app, leaked) == 401
    reported = [e for e in audit_log(app, manager) if e["action"] == "key_leak_reported"]
    assert len(reported) == 1
    assert url in reported[0]["detail"] and "revoked" in reported[0]["detail"]
    assert reported[0]["actor"] == "leak report"
    revoked = [e for e in audit_log(app, manager) if e["action"] == "key_revoked"]
    assert [e["key_id"] for e in revoked] == [reported[0]["key_id"]]


def test_staging_keys_are_revoked_too(app: InProcess) -> None:
    staging = app.stack.key(app.stack.account("business"), environment="staging")
    assert account_status(app, staging) == 200
    assert app.client.post(LEAKED, json=[staging]).status_code == 202
    assert account_status(app, staging) == 401


def test_warn_only_flags_the_key_and_keeps_it_working(app: InProcess) -> None:
    account = app.stack.account("business")
    leaked = app.stack.key(account)
    with transaction(app.stack.sessions) as session:
        session.execute(
            update(AccountRow).where(AccountRow.id == account).values(leaked_key_action="warn")
        )
    assert app.client.post(LEAKED, json=github_alert(leaked)).status_code == 202
    assert account_status(app, leaked) == 200
    reported = [e for e in audit_log(app, leaked) if e["action"] == "key_leak_reported"]
    assert len(reported) == 1 and "flagged" in reported[0]["detail"]


def answer_of(response: httpx.Response) -> tuple[int, bytes]:
    return response.status_code, response.content


@pytest.mark.parametrize("form", ["plain", "github"])
def test_real_unknown_revoked_and_malformed_keys_get_the_same_answer(
    app: InProcess, form: str
) -> None:
    real = app.stack.key(app.stack.account("business"))
    revoked = app.stack.key(app.stack.account("business"))
    assert app.client.post(LEAKED, json=[revoked]).status_code == 202
    unknown = generate_key(Environment.PRODUCTION)
    malformed = real[:-1] + ("A" if real[-1] != "A" else "B")

    def report(token: str) -> tuple[int, bytes]:
        body = [token] if form == "plain" else github_alert(token)
        return answer_of(app.client.post(LEAKED, json=body))

    answers = {
        name: report(token)
        for name, token in [
            ("real", real),
            ("unknown", unknown),
            ("revoked", revoked),
            ("malformed", malformed),
        ]
    }
    assert set(answers.values()) == {(202, b"[]")}, answers
    assert account_status(app, real) == 401


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{}", b"[]", b"[1]", b'[{"url": "https://x"}]', b'"bgone_live_x"'],
)
def test_a_body_that_is_no_list_of_keys_is_refused(app: InProcess, body: bytes) -> None:
    response = app.client.post(LEAKED, content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_request")


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    data_dir: Path = tmp_path_factory.mktemp("leak-limit")
    with in_process_app(data_dir, leak_reports_per_minute=2) as running:
        yield running


def test_reports_are_limited_per_client_address(strict_app: InProcess) -> None:
    unknown = generate_key(Environment.PRODUCTION)
    statuses = [strict_app.client.post(LEAKED, json=[unknown]).status_code for _ in range(2)]
    assert statuses == [202, 202]
    refused = strict_app.client.post(LEAKED, json=[unknown])
    assert_error(refused, 429, "too_many_reports")
    assert int(refused.headers["retry-after"]) >= 1


# -- signature checking (BGONE_LEAK_REPORT_PUBLIC_KEYS) ------------------------------------
SCANNER_KEY = ec.generate_private_key(ec.SECP256R1())
IDENTIFIER = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"


def scanner_document(key: ec.EllipticCurvePrivateKey, identifier: str) -> str:
    """The public keys as GitHub publishes them."""
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    entry = {"key_identifier": identifier, "key": pem.decode(), "is_current": True}
    return json.dumps({"public_keys": [entry]})


def signed(body: bytes, key: ec.EllipticCurvePrivateKey = SCANNER_KEY) -> dict[str, str]:
    signature = base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()
    return {
        "content-type": "application/json",
        "github-public-key-identifier": IDENTIFIER,
        "github-public-key-signature": signature,
    }


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    data_dir: Path = tmp_path_factory.mktemp("leak-signed")
    keys = data_dir / "scanner-keys.json"
    keys.write_text(scanner_document(SCANNER_KEY, IDENTIFIER))
    with in_process_app(data_dir, leak_report_public_keys=keys) as running:
        yield running


def test_a_signed_alert_revokes_the_key(signed_app: InProcess) -> None:
    key = signed_app.stack.key(signed_app.stack.account("business"))
    body = json.dumps(github_alert(key)).encode()
    response = signed_app.client.post(LEAKED, content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    assert account_status(signed_app, key) == 401
    assert "This server checks the signature." in signed_app.client.get("/docs/leaked-keys").text


@pytest.mark.parametrize("problem", ["unsigned", "other key", "other body", "not base64"])
def test_an_alert_without_a_valid_signature_is_refused(signed_app: InProcess, problem: str) -> None:
    key = signed_app.stack.key(signed_app.stack.account("business"))
    body = json.dumps(github_alert(key)).encode()
    headers = {
        "unsigned": {"content-type": "application/json"},
        "other key": signed(body, ec.generate_private_key(ec.SECP256R1())),
        "other body": signed(body + b" "),
        "not base64": {**signed(body), "github-public-key-signature": "%%%"},
    }[problem]
    response = signed_app.client.post(LEAKED, content=body, headers=headers)
    assert_error(response, 401, "invalid_report_signature")
    assert account_status(signed_app, key) == 200  # nothing was looked up or revoked


def test_the_plain_list_needs_no_signature(signed_app: InProcess) -> None:
    key = signed_app.stack.key(signed_app.stack.account("business"))
    assert signed_app.client.post(LEAKED, json=[key]).status_code == 202
    assert account_status(signed_app, key) == 401


def test_scanner_keys_from_pem_are_tried_whatever_the_identifier() -> None:
    pem = SCANNER_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    keys = ScannerKeys.parse(pem.decode())
    body = b'[{"token": "x"}]'
    headers = signed(body)
    assert keys.verify("anything", headers["github-public-key-signature"], body)
    assert not keys.verify("anything", headers["github-public-key-signature"], body + b"x")


@pytest.mark.parametrize("text", ["", "{}", '{"public_keys": []}', "not a key"])
def test_a_file_without_keys_is_refused(text: str) -> None:
    with pytest.raises(InvalidScannerKeys):
        ScannerKeys.parse(text)


def test_signed_alerts_get_the_same_answer_for_real_unknown_and_revoked_keys(
    signed_app: InProcess,
) -> None:
    real = signed_app.stack.key(signed_app.stack.account("business"))
    revoked = signed_app.stack.key(signed_app.stack.account("business"), environment="staging")
    assert signed_app.client.post(LEAKED, json=[revoked]).status_code == 202
    unknown = generate_key(Environment.PRODUCTION)
    answers = set()
    for token in (real, unknown, revoked):
        body = json.dumps(github_alert(token)).encode()
        answers.add(answer_of(signed_app.client.post(LEAKED, content=body, headers=signed(body))))
    assert answers == {(202, b"[]")}
    assert account_status(signed_app, real) == 401
