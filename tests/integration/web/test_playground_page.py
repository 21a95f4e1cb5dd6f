"""The playground page over real HTTP: what it offers, signed out and in, and its samples."""

from __future__ import annotations

import io
import json
import re

import httpx
from PIL import Image

from bgone.db.engine import transaction
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from bgone.inference.samples import SAMPLES_DIR
from bgone.web.playground import ENDPOINTS, SAMPLES
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

playground_stack, playground_server = server_fixtures("playground")


def get_page(server: Server, cookies: dict[str, str] | None = None) -> str:
    response = httpx.get(server.base_url + "/playground", cookies=cookies, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    return response.text


def signed_in_cookie(stack: Stack, plan: str) -> dict[str, str]:
    account_id = stack.account(plan)
    with transaction(stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
    return {COOKIE_NAME: token}


def page_config(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="playground-config">(.*?)</script>', html, re.S
    )
    assert match, "the page carries its configuration for playground.js"
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_lists_the_three_endpoints_with_their_fields_and_defaults(
    playground_server: Server,
) -> None:
    html = get_page(playground_server)
    for path in ("/v2", "/v1/remove-bg", "/v1.0/removebg"):
        assert f'<option value="{path}">' in html
    config = page_config(html)
    assert config["endpoints"] == [
        {"path": "/v2", "label": "BackgroundErase", "field": "image_file", "size": "full",
         "format": "png"},
        {"path": "/v1/remove-bg", "label": "ByByBG", "field": "file", "size": "full",
         "format": "png"},
        {"path": "/v1.0/removebg", "label": "remove.bg", "field": "image_file",
         "size": "preview", "format": "auto"},
    ]  # fmt: skip
    assert [endpoint.path for endpoint in ENDPOINTS] == ["/v2", "/v1/remove-bg", "/v1.0/removebg"]


def test_offers_every_option_value(playground_server: Server) -> None:
    html = get_page(playground_server)
    for name, values in (
        ("size", ("preview", "medium", "hd", "full", "auto")),
        ("format", ("png", "webp", "jpg", "zip", "auto")),
        ("channels", ("rgba", "alpha")),
        ("quality", ("fast", "best")),
    ):
        select = re.search(rf'<select id="opt-{name}".*?</select>', html, re.S)
        assert select, name
        assert re.findall(r'<option value="([^"]+)"', select.group(0)) == list(values)
    for field in ("crop", "crop_margin", "bg_color"):
        assert f'name="{field}"' in html
    # The operator's default quality is preselected, and the curl command leaves it out.
    assert '<option value="fast" selected>' in html
    assert page_config(html)["quality"] == "fast"


def test_key_input_is_a_password_and_assets_are_local(playground_server: Server) -> None:
    html = get_page(playground_server)
    assert re.search(r'<input id="api-key"[^>]*type="password"', html)
    assert "/static/playground.js" in html and "/static/playground.css" in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", playground_server.base_url)), url
    for asset, kind in (("playground.js", "javascript"), ("playground.css", "text/css")):
        response = httpx.get(f"{playground_server.base_url}/static/{asset}", timeout=10)
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_lists_the_samples_and_serves_them_as_images(playground_server: Server) -> None:
    html = get_page(playground_server)
    assert page_config(html)["samples"] == [sample.name for sample in SAMPLES]
    assert len(SAMPLES) == 3
    for sample in SAMPLES:
        assert f'value="{sample.name}"' in html
        assert f"/static/samples/{sample.name}" in html
        assert f'alt="{sample.alt}"' in html
        response = httpx.get(
            f"{playground_server.base_url}/static/samples/{sample.name}", timeout=10
        )
        assert response.status_code == 200
        assert response.headers["content-type"] in ("image/jpeg", "image/png")
        assert len(response.content) <= 120_000
        assert response.content == (SAMPLES_DIR / sample.name).read_bytes()
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.size == (800, 600)
            assert Image.MIME[image.format or ""] == response.headers["content-type"]


def test_signed_out_visitors_are_asked_to_sign_up(playground_server: Server) -> None:
    html = get_page(playground_server)
    hint = re.search(r'data-testid="key-hint">(.*?)</p>', html, re.S)
    assert hint and 'href="/signup"' in hint.group(1)
    assert "/account#api-access" not in hint.group(1)


def test_signed_in_users_get_a_link_to_their_keys(
    playground_stack: Stack, playground_server: Server
) -> None:
    html = get_page(playground_server, signed_in_cookie(playground_stack, "business"))
    hint = re.search(r'data-testid="key-hint">(.*?)</p>', html, re.S)
    assert hint and 'href="/account#api-access"' in hint.group(1)
    assert "Create one" in hint.group(1)


def test_a_plan_without_api_access_is_told_so(
    playground_stack: Stack, playground_server: Server
) -> None:
    html = get_page(playground_server, signed_in_cookie(playground_stack, "starter"))
    hint = re.search(r'data-testid="key-hint">(.*?)</p>', html, re.S)
    assert hint and "no API access" in hint.group(1)
    assert 'href="/account#api-access"' in hint.group(1)
