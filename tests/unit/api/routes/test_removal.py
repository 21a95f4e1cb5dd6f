"""A removal through each of the three contracts, in process, with the fake engine."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import UsageRecordRow
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.fakes import FAKE_PNG
from tests.unit.inprocess import InProcess

PHOTO = encode(gradient_rgb(64, 48), "PNG")
# (path, key header as each provider documents it, file field, credits charged): remove.bg's
# contract defaults to its preview size, which costs a quarter of a credit.
CONTRACTS = [
    ("/v2", "x-api-key", "image_file", "1"),
    ("/v1/remove-bg", "X-API-KEY", "file", "1"),
    ("/v1.0/removebg", "X-Api-Key", "image_file", "0.25"),
]


@pytest.mark.parametrize(
    ("path", "header", "field", "charged"), CONTRACTS, ids=[c[0] for c in CONTRACTS]
)
def test_each_contract_returns_the_engines_png_and_writes_one_usage_row(
    app: InProcess, key: str, path: str, header: str, field: str, charged: str
) -> None:
    response = app.client.post(path, headers={header: key}, files={field: ("a.png", PHOTO)})

    assert response.status_code == 200, response.text
    assert response.content == FAKE_PNG
    headers = response.headers
    assert headers["content-type"] == "image/png"
    assert (headers["x-width"], headers["x-height"]) == ("4", "3")
    foreground = [headers[f"x-foreground-{side}"] for side in ("top", "left", "width", "height")]
    assert foreground == ["0", "1", "2", "3"]
    assert headers["x-credits-charged"] == charged
    assert "x-ratelimit-remaining" in headers
    with transaction(app.stack.sessions) as session:
        rows = session.scalars(
            select(UsageRecordRow).where(UsageRecordRow.request_id == headers["x-request-id"])
        ).all()
        assert [(row.status, row.endpoint, row.credits_milli) for row in rows] == [
            (200, f"POST {path}", int(float(charged) * 1000))
        ]


def test_staging_keys_get_previews_for_free(app: InProcess) -> None:
    account = app.stack.account("business")
    staging = app.stack.key(account, environment="staging")

    response = app.client.post("/v2", headers={"x-api-key": staging}, files={"image_file": PHOTO})

    assert response.status_code == 200, response.text
    assert response.headers["x-credits-charged"] == "0"
    assert app.remover.calls[-1].size.value == "preview"


def test_json_answer_carries_the_result_in_base64(app: InProcess, key: str) -> None:
    response = app.client.post(
        "/v2",
        headers={"x-api-key": key, "accept": "application/json"},
        files={"image_file": PHOTO},
    )

    assert response.status_code == 200, response.text
    document = response.json()
    assert (document["format"], document["width"], document["height"]) == ("png", 4, 3)
    assert document["foreground"] == {"top": 0, "left": 1, "width": 2, "height": 3}


def test_remove_bg_accepts_image_base64_as_an_alias_of_image_file_b64(
    app: InProcess, key: str
) -> None:
    """Some remove.bg clients (PyPI removebgplus) send BackgroundErase's field name."""
    encoded = base64.b64encode(PHOTO).decode()
    response = app.client.post(
        "/v1.0/removebg", headers={"X-Api-Key": key}, data={"image_base64": encoded}
    )
    assert response.status_code == 200, response.text
    both = app.client.post(
        "/v1.0/removebg",
        headers={"X-Api-Key": key},
        data={"image_base64": encoded, "image_file_b64": encoded},
    )
    assert both.status_code == 400
    assert both.json()["errors"][0]["code"] == "multiple_sources"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "other"),  # type=auto: bgone does not classify, and says so
        ({"type": "auto", "type_level": "2"}, "other"),
        ({"type": "person"}, "person"),
        ({"type": "Product", "type_level": "latest"}, "product"),
        ({"type": "graphic"}, "graphics"),  # the request's spelling -> X-Type's documented one
        ({"type": "car", "type_level": "none"}, None),  # none: no header, as remove.bg
    ],
)
def test_remove_bg_sends_x_type_from_the_type_the_client_gave(
    app: InProcess, key: str, fields: dict[str, str], expected: str | None
) -> None:
    response = app.client.post(
        "/v1.0/removebg", headers={"X-Api-Key": key}, files={"image_file": PHOTO}, data=fields
    )
    assert response.status_code == 200, response.text
    assert response.headers.get("x-type") == expected


def test_x_type_is_remove_bgs_alone(app: InProcess, key: str) -> None:
    for path, field in (("/v2", "image_file"), ("/v1/remove-bg", "file")):
        response = app.client.post(
            path, headers={"x-api-key": key}, files={field: PHOTO}, data={"type": "person"}
        )
        assert response.status_code == 200, response.text
        assert "x-type" not in response.headers
