"""image_url fetching through the safety checks, and the bounded inference queue."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import server_fixture, stack_fixture
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
ALLOWED_HOST = "127.0.0.2"  # allow-listed for this server; 127.0.0.1 stays refused


class ImageHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared record of requests, reset per test module

    def do_GET(self) -> None:
        ImageHandler.hits.append(self.path)
        if self.path == "/image.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(SMALL_PNG)))
            self.end_headers()
            self.wfile.write(SMALL_PNG)
        elif self.path == "/to-loopback":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/secret")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer((ALLOWED_HOST, 0), ImageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{ALLOWED_HOST}:{httpd.server_address[1]}"
    httpd.shutdown()


stack = stack_fixture("stack")  # this module's own SQLite stack, not the shared one
# One pipeline worker and no queue, so a second concurrent request is refused.
narrow_server = server_fixture(
    "narrow_server",
    "stack",
    url_fetch_allowed_networks=f'["{ALLOWED_HOST}/32"]',
    pipeline_workers="1",
    queue_size="0",
)


def test_image_url_from_an_allowed_host(
    narrow_server: Server, stack: Stack, image_host: str
) -> None:
    key = stack.key(stack.account("business"))
    response = httpx.post(
        narrow_server.base_url + "/v1.0/removebg",
        headers={"x-api-key": key},
        data={"image_url": f"{image_host}/image.png", "size": "full"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-width"] == "64"


def test_image_url_failures(narrow_server: Server, stack: Stack, image_host: str) -> None:
    key = stack.key(stack.account("business"))

    def code(url: str) -> tuple[int, str]:
        response = httpx.post(
            narrow_server.base_url + "/v2",
            headers={"x-api-key": key},
            json={"image_url": url},
            timeout=60,
        )
        return response.status_code, code_of(response)

    assert code(f"{image_host}/missing.png") == (400, "failed_image_download")
    assert code(f"{image_host}/to-loopback") == (400, "invalid_image_url")
    assert code("http://127.0.0.1:9/x.png") == (400, "invalid_image_url")
    assert code("file:///etc/passwd") == (400, "invalid_image_url")


def test_full_queue_answers_server_busy(narrow_server: Server, stack: Stack) -> None:
    key = stack.key(stack.account("business"))
    large = encode(gradient_rgb(4000, 3000), "JPEG")

    def send() -> httpx.Response:
        return httpx.post(
            narrow_server.base_url + "/v2",
            headers={"x-api-key": key},
            files={"image_file": ("big.jpg", large)},
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(send)
        deadline = time.monotonic() + 30
        while httpx.get(narrow_server.base_url + "/readyz").json()["pipeline"]["pending"] < 1:
            assert time.monotonic() < deadline, "the first request never reached the pipeline"
            time.sleep(0.01)
        second = pool.submit(send)
        responses = [first.result(), second.result()]
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 503]
    busy = next(response for response in responses if response.status_code == 503)
    assert code_of(busy) == "server_busy"
    assert int(busy.headers["retry-after"]) >= 1
    account = httpx.get(narrow_server.base_url + "/v1/account", headers={"x-api-key": key})
    assert account.json()["data"]["attributes"]["credits_used"] == 1  # the refusal was free
