"""The three removal contracts over real HTTP, with the real model."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.environment import require
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb, open_bytes
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")


@pytest.fixture()
def key(stack: Stack) -> str:
    return stack.key(stack.account("business"))


def test_documented_curl_requests_verbatim(
    server: Server, key: str, tmp_path: Path, datasets: Path
) -> None:
    require(shutil.which("curl") is not None, "curl is needed for the documented examples")
    photo = datasets / "ecssd50" / "images" / "0001.jpg"
    image_jpg = tmp_path / "image.jpg"
    image_png = tmp_path / "image.png"
    shutil.copyfile(photo, image_jpg)
    Image.open(photo).save(image_png)
    port = server.base_url.rsplit(":", 1)[1]
    # BackgroundErase's example, with the absolute path filled in.
    subprocess.run(
        f"curl -H 'x-api-key: {key}' -f http://127.0.0.1:{port}/v2 "
        f"-F 'image_file=@{image_jpg}' -o output.png",
        shell=True,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    # ByByBG's example.
    subprocess.run(
        f'curl -X POST http://127.0.0.1:{port}/v1/remove-bg -H "X-API-KEY: {key}" '
        f'-F "file=@image.png" -o bybybg.png',
        shell=True,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in ("output.png", "bybybg.png"):
        result = Image.open(tmp_path / name)
        assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (267, 400))


def test_result_headers(server: Server, key: str, person_jpeg: bytes) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("p.jpg", person_jpeg)},
        timeout=60,
    )
    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"] == "image/png"
    assert (headers["x-width"], headers["x-height"]) == ("267", "400")
    assert int(headers["x-foreground-width"]) > 50 and int(headers["x-foreground-top"]) >= 0
    assert headers["x-credits-charged"] == "1"
    assert len(headers["x-request-id"]) == 32
    for name in (
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "ratelimit-policy",
        "ratelimit",
    ):
        assert name in headers
    assert headers["x-ratelimit-limit"] == "500"
    assert (headers["x-quality"], headers["x-quality-models"]) == ("fast", "u2netp")


def test_quality_best_runs_and_says_so(server: Server, key: str, person_jpeg: bytes) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("p.jpg", person_jpeg)},
        data={"quality": "best"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-quality"] == "best"
    ready = httpx.get(server.base_url + "/readyz").json()
    # What ran is what /readyz says `best` runs here: u2netp, with isnet where installed.
    assert response.headers["x-quality-models"].split(",") == ready["best_quality_models"]
    assert ready["best_quality_models"][0] == "u2netp"
    conflict = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("p.jpg", person_jpeg)},
        data={"quality": "best", "refinement": "raw"},
        timeout=60,
    )
    assert conflict.status_code == 400
    assert code_of(conflict) == "invalid_quality"


def test_v2_json_base64_and_options(server: Server, key: str) -> None:
    body = {
        "image_base64": base64.b64encode(SMALL_PNG).decode(),
        "channels": "alpha",
        "format": "png",
    }
    response = httpx.post(
        server.base_url + "/v2", headers={"x-api-key": key}, json=body, timeout=60
    )
    assert response.status_code == 200, response.text
    document = response.json()
    assert (document["width"], document["height"]) == (64, 48)
    assert open_bytes(base64.b64decode(document["image_base64"])).mode == "L"


def test_v2_field_names_are_case_insensitive(server: Server, key: str) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"X-Api-Key": key},
        files={"Image_File": ("a.png", SMALL_PNG)},
        data={"Format": "jpg", "CROP": "no"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"


def test_removebg_contract_defaults_and_json(server: Server, key: str, person_jpeg: bytes) -> None:
    big = encode(open_bytes(person_jpeg).resize((1068, 1600)), "JPEG")
    response = httpx.post(
        server.base_url + "/v1.0/removebg",
        headers={"X-Api-Key": key},
        files={"image_file": ("p.jpg", big)},
        data={"type": "person"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    # remove.bg's default size is preview (0.25 MP, 0.25 credits), format auto -> PNG.
    assert response.headers["x-credits-charged"] == "0.25"
    assert response.headers["x-type"] == "person"  # the type sent: bgone does not classify
    image = open_bytes(response.content)
    assert image.format == "PNG" and image.width * image.height <= 250_000
    as_json = httpx.post(
        server.base_url + "/v1.0/removebg",
        headers={"X-Api-Key": key, "Accept": "application/json"},
        data={
            # image_base64, BackgroundErase's name, is accepted too (removebgplus sends it).
            "image_base64": base64.b64encode(SMALL_PNG).decode(),
            "size": "full",
            "bg_color": "00ff00",
        },
        timeout=60,
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["x-type"] == "other"  # type=auto (the default)
    data = as_json.json()["data"]
    assert set(data) == {
        "result_b64",
        "foreground_top",
        "foreground_left",
        "foreground_width",
        "foreground_height",
    }
    # An opaque result in format auto comes back as JPEG, like remove.bg.
    assert open_bytes(base64.b64decode(data["result_b64"])).format == "JPEG"


def test_removebg_bg_image_file(server: Server, key: str) -> None:
    backdrop = encode(Image.new("RGB", (10, 10), (200, 10, 10)), "PNG")
    response = httpx.post(
        server.base_url + "/v1.0/removebg",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG), "bg_image_file": ("b.png", backdrop)},
        data={"size": "full", "format": "png"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert open_bytes(response.content).mode == "RGB"


def test_bearer_authorization_is_accepted(server: Server, key: str) -> None:
    response = httpx.post(
        server.base_url + "/v1/remove-bg",
        headers={"Authorization": f"Bearer {key}"},
        files={"file": ("a.png", SMALL_PNG)},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def test_staging_key_is_free_and_preview_sized(
    server: Server, stack: Stack, person_jpeg: bytes
) -> None:
    account_id = stack.account("business")
    staging = stack.key(account_id, "staging")
    big = encode(open_bytes(person_jpeg).resize((1068, 1600)), "JPEG")
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": staging},
        files={"image_file": ("p.jpg", big)},
        data={"size": "full"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.headers["x-credits-charged"] == "0"
    image = open_bytes(response.content)
    assert image.width * image.height <= 250_000
    # Staging has its own, smaller rate limit (20/min on Business).
    assert response.headers["x-ratelimit-limit"] == "20"
    account = httpx.get(
        server.base_url + "/v1/account", headers={"x-api-key": stack.key(account_id)}, timeout=10
    ).json()
    assert account["data"]["attributes"]["credits_used"] == 0


def test_account_endpoint(server: Server, stack: Stack) -> None:
    account_id = stack.account("business")
    key = stack.key(account_id)
    for _ in range(2):
        assert httpx.post(
            server.base_url + "/v2",
            headers={"x-api-key": key},
            files={"image_file": ("a.png", SMALL_PNG)},
            timeout=60,
        ).is_success
    for path in ("/v1/account", "/v1.0/account"):
        response = httpx.get(server.base_url + path, headers={"x-api-key": key}, timeout=10)
        assert response.status_code == 200
        attributes = response.json()["data"]["attributes"]
        assert attributes["plan"] == "business"
        assert attributes["credits"]["total"] == attributes["credits_left"] == 998
        assert attributes["rate_limit_per_minute"] == 500
        assert attributes["usage_this_period"]["requests"] >= 2
        assert "x-ratelimit-remaining" in response.headers


def test_health_and_readiness(server: Server) -> None:
    assert httpx.get(server.base_url + "/v2/health").json() == {"status": "ok"}
    ready = httpx.get(server.base_url + "/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert "u2netp" in ready.json()["models"]


def test_openapi_declares_the_key_scheme(server: Server) -> None:
    document = httpx.get(server.base_url + "/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("name") == "x-api-key" and s.get("in") == "header" for s in schemes.values())
    assert {"/v2", "/v1/remove-bg", "/v1.0/removebg"} <= set(document["paths"])
    json.dumps(document)  # serialisable


def test_raw_image_body(server: Server, key: str) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key, "content-type": "image/png"},
        content=SMALL_PNG,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert open_bytes(response.content).size == (64, 48)


def test_result_bytes_decode(server: Server, key: str) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG)},
        data={"format": "webp"},
        timeout=60,
    )
    assert Image.open(io.BytesIO(response.content)).format == "WEBP"
