"""examples/web-proxy/ against a real bgone server: the key stays on the server side."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.imagegen import open_bytes
from tests.support.proxy import EXAMPLE_DIR, Proxy, running_proxy
from tests.support.stack import Server, Stack, free_port


@pytest.fixture(scope="module")
def key(stack: Stack) -> str:
    return stack.key(stack.account("business"))


@pytest.fixture(scope="module")
def proxy(server: Server, key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    with running_proxy(key, server.base_url, tmp_path_factory.mktemp("proxy")) as running:
        yield running


def test_cutout_over_http_returns_the_png(proxy: Proxy, person_jpeg: bytes) -> None:
    response = httpx.post(
        proxy.base_url + "/cutout",
        files={"image": ("person.jpg", person_jpeg, "image/jpeg")},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    result = open_bytes(response.content)
    assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (267, 400))
    # bgone's own headers come through, so the app can log what a cut-out cost.
    assert response.headers["x-credits-charged"] == "1"
    assert len(response.headers["x-request-id"]) == 32


def test_page_and_answers_never_contain_the_key(proxy: Proxy, key: str) -> None:
    page = httpx.get(proxy.base_url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<input type="file"' in page.text and "<img" in page.text
    assert 'fetch("/cutout"' in page.text
    for secret in (key, key[11:], key[:20]):  # whole, without prefix, a long prefix
        assert secret not in page.text
        assert secret not in str(page.headers)


def test_bgone_errors_pass_through(proxy: Proxy, key: str) -> None:
    response = httpx.post(
        proxy.base_url + "/cutout",
        files={"image": ("notes.txt", b"not an image at all", "text/plain")},
        timeout=60,
    )
    assert response.status_code == 415
    body = response.json()
    assert body["error"]["code"] == "invalid_file_type"
    assert len(body["error"]["request_id"]) == 32
    assert key not in response.text


def test_unreachable_bgone_is_a_502(tmp_path: Path) -> None:
    key = "bgone_test_" + "x" * 38  # never reaches anything: nothing listens on that port
    with running_proxy(key, f"http://127.0.0.1:{free_port()}", tmp_path) as dead_end:
        response = httpx.post(
            dead_end.base_url + "/cutout", files={"image": ("a.png", b"x", "image/png")}
        )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bgone_unreachable"
    assert key not in response.text


def test_refuses_to_start_without_a_key() -> None:
    env = {name: value for name, value in os.environ.items() if name != "BGONE_API_KEY"}
    finished = subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "server.py"), "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "BGONE_API_KEY" in finished.stderr
