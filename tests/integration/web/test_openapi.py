"""The enriched OpenAPI document: valid 3.1, with bodies, results, security and errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bgone.api.openapi.responses import RESULT_HEADERS
from bgone.server.app import create_app
from bgone.settings import Settings
from tests.support.environment import require
from tests.support.stack import Server

Document = dict[str, Any]
REMOVAL = ("/v2", "/v1/remove-bg", "/v1.0/removebg")
PROTECTED = (
    ("post", "/v2"),
    ("post", "/v1/remove-bg"),
    ("post", "/v1.0/removebg"),
    ("get", "/v1/account"),
    ("get", "/api/keys"),
    ("post", "/api/keys"),
    ("post", "/api/keys/{key_id}/rotate"),
    ("delete", "/api/keys/{key_id}"),
    ("get", "/api/audit-log"),
    ("get", "/v1/webhooks"),
    ("post", "/v1/webhooks"),
    ("patch", "/v1/webhooks/{endpoint_id}"),
    ("post", "/v1/webhooks/{endpoint_id}/rotate-secret"),
    ("post", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"),
    ("put", "/v1/account/credits-low-threshold"),
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # The document needs no running services: the app is built, never started.
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def document(app: FastAPI) -> Document:
    return app.openapi()


def resolve(document: Document, node: Document) -> Document:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_document_is_valid_openapi_3_1(document: Document) -> None:
    assert document["openapi"].startswith("3.1")
    try:
        from openapi_spec_validator import validate
    except ImportError:
        require(False, "openapi-spec-validator is not installed (a dev extra)")
        return
    validate(document)  # raises with the offending path if anything is out of spec


def test_document_is_built_once(app: FastAPI, document: Document) -> None:
    assert app.openapi() is document


def error_schema_and_code(path: str) -> tuple[str, Any]:
    """Each path's error body in its provider's dialect: /v2 BackgroundErase's object."""
    if path == "/v2":
        return "BackgroundEraseErrorBody", lambda value: value["error"]["code"]
    return "ErrorBody", lambda value: value["errors"][0]["code"]


def test_error_body_schema_and_every_error_response(document: Document) -> None:
    body = document["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["errors", "request_id"]
    assert body["properties"]["errors"]["items"]["required"] == ["title", "code", "detail"]
    erase = document["components"]["schemas"]["BackgroundEraseErrorBody"]
    assert erase["required"] == ["error"]
    assert erase["properties"]["error"]["required"] == ["code", "message", "status", "request_id"]
    for method, path in PROTECTED:
        responses = document["paths"][path][method]["responses"]
        # FastAPI's validation 422 is never served (validation answers 400); the only 422 is
        # an Idempotency-Key sent again with another request, on the removal routes.
        if "422" in responses:
            examples = responses["422"]["content"]["application/json"]["examples"]
            assert path in REMOVAL and set(examples) == {"idempotency_key_reused"}, (method, path)
        assert {"403", "503"} <= set(responses), (method, path)
        schema, code_of = error_schema_and_code(path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                media = response["content"]["application/json"]
                assert media["schema"] == {"$ref": f"#/components/schemas/{schema}"}, path
                for code, example in media["examples"].items():
                    assert code_of(example["value"]) == code
                    assert f"`{code}`" in response["description"]
                    assert "request_id" in str(example["value"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_each_dialect_documents_its_authentication_status(document: Document) -> None:
    """remove.bg's routes answer authentication failures with 403, the others with 401."""
    auth = {"missing_api_key", "invalid_api_key", "revoked_api_key", "expired_api_key"}
    responses = document["paths"]["/v1.0/removebg"]["post"]["responses"]
    assert "401" not in responses
    assert auth <= set(responses["403"]["content"]["application/json"]["examples"])
    assert "No usable API key" in responses["403"]["description"]
    for path, method in (("/v2", "post"), ("/v1/remove-bg", "post"), ("/v1/account", "get")):
        responses = document["paths"][path][method]["responses"]
        assert auth == set(responses["401"]["content"]["application/json"]["examples"]), path
    v2_example = document["paths"]["/v2"]["post"]["responses"]["401"]["content"][
        "application/json"
    ]["examples"]["missing_api_key"]["value"]
    assert v2_example["error"]["status"] == 401


def test_removal_routes_document_every_failure(document: Document) -> None:
    for path in REMOVAL:
        responses = document["paths"][path]["post"]["responses"]
        authentication = "403" if path.startswith("/v1.0/") else "401"  # remove.bg's 403
        assert {"400", authentication, "402", "403", "413", "415", "429", "503"} <= set(responses)
        assert "Retry-After" in responses["429"]["headers"]
        assert "Retry-After" in responses["503"]["headers"]
        codes_400 = set(responses["400"]["content"]["application/json"]["examples"])
        assert {
            "missing_source",
            "multiple_sources",
            "invalid_size",
            "invalid_bg_color",
        } <= codes_400
    codes_401 = set(
        document["paths"]["/v2"]["post"]["responses"]["401"]["content"]["application/json"][
            "examples"
        ]
    )
    assert codes_401 == {"missing_api_key", "invalid_api_key", "revoked_api_key", "expired_api_key"}
    removebg_400 = document["paths"]["/v1.0/removebg"]["post"]["responses"]["400"]["description"]
    assert "`invalid_bg_image_url`" in removebg_400 and "`multiple_bg_sources`" in removebg_400
    bybybg_400 = document["paths"]["/v1/remove-bg"]["post"]["responses"]["400"]["description"]
    assert "`invalid_image_url`" not in bybybg_400  # that contract has no URL source


def test_key_protected_routes_declare_the_header(document: Document) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "description": schemes["APIKeyHeader"]["description"],
        "in": "header",
        "name": "x-api-key",
    }
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    for method, path in PROTECTED:
        assert {"APIKeyHeader": []} in document["paths"][path][method]["security"]
    assert "security" not in document["paths"]["/v2/health"]["get"]


def test_removal_request_bodies_follow_the_contracts(document: Document) -> None:
    def body(path: str) -> Document:
        content: Document = document["paths"][path]["post"]["requestBody"]["content"]
        return content

    v2 = body("/v2")
    multipart = v2["multipart/form-data"]["schema"]
    assert multipart["properties"]["image_file"]["format"] == "binary"
    assert {"required": ["image_file"]} in multipart["oneOf"]
    assert set(v2["application/json"]["schema"]["properties"]) >= {"image_base64", "image_url"}
    assert "image_file" not in v2["application/json"]["schema"]["properties"]
    size = multipart["properties"]["size"]
    assert size["default"] == "full" and {"preview", "full", "auto"} <= set(size["enum"])
    assert set(multipart["properties"]["format"]["enum"]) >= {"png", "jpg", "webp", "zip"}
    assert multipart["properties"]["channels"]["enum"] == ["rgba", "alpha"]
    for option in ("crop", "crop_margin", "bg_color", "roi", "scale", "position", "type"):
        assert multipart["properties"][option]["description"], option

    bybybg = body("/v1/remove-bg")
    assert "application/json" not in bybybg  # no text source in that contract
    assert bybybg["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"

    removebg = body("/v1.0/removebg")
    assert set(removebg) >= {
        "multipart/form-data",
        "application/json",
        "application/x-www-form-urlencoded",
    }
    form = removebg["multipart/form-data"]["schema"]["properties"]
    assert form["size"]["default"] == "preview" and form["format"]["default"] == "auto"
    assert form["bg_image_file"]["format"] == "binary" and form["bg_image_url"]["format"] == "uri"
    urlencoded = removebg["application/x-www-form-urlencoded"]["schema"]
    assert "bg_image_file" not in urlencoded["properties"]
    assert urlencoded["oneOf"] == [
        {"required": ["image_file_b64"]},
        {"required": ["image_base64"]},  # an alias some remove.bg clients send
        {"required": ["image_url"]},
    ]


def test_removal_results_are_binary_with_headers(document: Document) -> None:
    for path in REMOVAL:
        ok = document["paths"][path]["post"]["responses"]["200"]
        for media in ("image/png", "image/jpeg", "image/webp", "application/zip"):
            assert ok["content"][media]["schema"] == {"type": "string", "format": "binary"}
        for header in (*RESULT_HEADERS, "X-Request-ID", "X-RateLimit-Remaining", "RateLimit"):
            assert header in ok["headers"]
            assert resolve(document, ok["headers"][header])["description"]
        # remove.bg's subject class is remove.bg's alone.
        assert ("X-Type" in ok["headers"]) is (path == "/v1.0/removebg"), path
    json_removebg = document["paths"]["/v1.0/removebg"]["post"]["responses"]["200"]["content"]
    assert json_removebg["application/json"]["schema"]["$ref"].endswith("/RemoveBgJson")


def test_the_server_serves_the_enriched_document(server: Server) -> None:
    served = httpx.get(server.base_url + "/openapi.json", timeout=10).json()
    assert "ErrorBody" in served["components"]["schemas"]
    assert "requestBody" in served["paths"]["/v2"]["post"]


def test_key_protected_routes_document_the_abuse_refusals(document: Document) -> None:
    for method, path in PROTECTED:
        responses = document["paths"][path][method]["responses"]
        throttled = responses["429"]
        assert "too_many_invalid_keys" in throttled["content"]["application/json"]["examples"]
        assert "Retry-After" in throttled["headers"]
        refused = responses["403"]["content"]["application/json"]["examples"]
        assert "browser_request_refused" in refused, (method, path)
