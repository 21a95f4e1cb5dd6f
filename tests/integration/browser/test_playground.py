"""The API playground in a real Chromium against a real server and the real model.

Each flow sends a request from the page, checks what the page shows, then runs the `curl`
command the page printed, exactly as shown, and checks it reproduces the same result.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.integration.browser.conftest import screenshot
from tests.support.snippets import run_snippet
from tests.support.stack import Server, Stack

RESULT_LOADED = """() => {
  const image = document.querySelector('[data-testid=result-image]');
  return image && !image.hidden && image.complete && image.naturalWidth > 0;
}"""


def new_key(stack: Stack) -> str:
    return stack.key(stack.account("business"))


def open_playground(page: Page, server: Server) -> None:
    page.goto(server.base_url + "/playground")
    expect(page.get_by_test_id("curl-command")).not_to_be_empty()


def send(page: Page, key: str, endpoint: str) -> None:
    page.get_by_test_id("endpoint").select_option(endpoint)
    page.get_by_test_id("api-key").fill(key)
    page.get_by_test_id("send").click()


def header(page: Page, name: str) -> str:
    cell = page.locator(f"[data-testid=response-headers] tr[data-header='{name}'] td")
    return cell.inner_text().split(" (")[0].strip()


def wait_for_result(page: Page, timeout_ms: float = 5_000) -> None:
    expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^200\b"), timeout=timeout_ms)
    page.wait_for_function(RESULT_LOADED)
    expect(page.get_by_test_id("elapsed")).to_have_text(re.compile(r"^\d+ ms$"))


def run_curl(command: str, directory: Path, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=True,
        cwd=directory,
        env={**os.environ, "BGONE_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )


def shot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def test_upload_to_v2_and_the_curl_command_reproduces_it(
    page: Page, web_server: Server, web_stack: Stack, person_jpeg: bytes, tmp_path: Path
) -> None:
    key = new_key(web_stack)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(person_jpeg)
    open_playground(page, web_server)
    page.get_by_test_id("source-file").set_input_files(str(photo))
    send(page, key, "/v2")
    wait_for_result(page)

    assert header(page, "x-credits-charged") == "1"
    assert header(page, "content-type") == "image/png"
    assert re.fullmatch(r"[0-9a-f]{32}", header(page, "x-request-id"))
    assert int(header(page, "x-ratelimit-limit")) == 500
    width, height = int(header(page, "x-width")), int(header(page, "x-height"))
    with Image.open(io.BytesIO(person_jpeg)) as original:
        assert (width, height) == original.size  # size=full: the photo's own size
    shown = page.get_by_test_id("result-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert shown == [width, height]
    shot(page, "playground-upload")

    command = page.get_by_test_id("curl-command").inner_text().strip()
    assert command == (
        f'curl -H "x-api-key: $BGONE_API_KEY" -f {web_server.base_url}/v2 '
        '-F "image_file=@photo.jpg" -F "size=full" -o result.png'
    )
    assert key not in command
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("copy-curl").click()
    expect(page.get_by_test_id("copy-curl")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == command
    done = run_curl(command, tmp_path, key)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "result.png") as result:
        assert result.format == "PNG" and result.mode == "RGBA"
        assert result.size == (width, height)


def test_sample_on_bybybg_with_crop_runs_as_two_steps(
    page: Page, web_server: Server, web_stack: Stack, tmp_path: Path
) -> None:
    key = new_key(web_stack)
    open_playground(page, web_server)
    page.locator("label.pg-sample", has=page.get_by_test_id("sample-robot")).click()
    page.get_by_test_id("opt-crop").check()
    page.get_by_test_id("opt-crop-margin").fill("10px")
    send(page, key, "/v1/remove-bg")
    wait_for_result(page)
    assert header(page, "x-credits-charged") == "1"
    width, height = int(header(page, "x-width")), int(header(page, "x-height"))
    assert width < 800 and height < 600  # cropped to the robot plus the margin
    shot(page, "playground")

    command = page.get_by_test_id("curl-command").inner_text().strip()
    base = web_server.base_url
    assert command == (
        f"curl -fsS {base}/static/samples/robot.jpg -o robot.jpg && "
        f'curl -H "x-api-key: $BGONE_API_KEY" -f {base}/v1/remove-bg '
        '-F "file=@robot.jpg" -F "size=full" -F "crop=true" -F "crop_margin=10px" -o result.png'
    )
    done = run_curl(command, tmp_path, key)  # an empty directory: the sample is fetched first
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "robot.jpg").stat().st_size > 10_000
    with Image.open(tmp_path / "result.png") as result:
        assert result.format == "PNG" and result.size == (width, height)


def test_language_tabs_show_each_snippet_and_every_one_runs(
    page: Page, web_server: Server, web_stack: Stack, tmp_path: Path
) -> None:
    """The same request in every language: the tabs switch under the policy (app.js), and
    each snippet, as the page shows it, reproduces the result from an empty directory."""
    key = new_key(web_stack)
    open_playground(page, web_server)
    page.locator("label.pg-sample", has=page.get_by_test_id("sample-robot")).click()
    page.get_by_test_id("opt-crop").check()
    # The snippets follow the form as it is typed, each language quoting in its own way.
    page.get_by_test_id("opt-bg-color").fill('it\'s "odd"')
    expect(page.get_by_test_id("curl-command")).to_contain_text("-F 'bg_color=it'\\''s \"odd\"'")
    page.get_by_test_id("tab-playground-php").click()
    expect(page.get_by_test_id("snippet-playground-php")).to_contain_text(
        "'bg_color' => 'it\\'s \"odd\"',"
    )
    page.get_by_test_id("tab-playground-curl").click()
    page.get_by_test_id("opt-bg-color").fill("")
    send(page, key, "/v1/remove-bg")
    wait_for_result(page)
    width, height = int(header(page, "x-width")), int(header(page, "x-height"))
    expect(page.get_by_test_id("curl-command")).to_be_visible()
    for language, needle in (
        ("python", "bgone.remove("),
        ("requests", "requests.post("),
        ("node", "await fetch("),
        ("php", "curl_init("),
    ):
        page.get_by_test_id(f"tab-playground-{language}").click()
        code = page.get_by_test_id(f"snippet-playground-{language}")
        expect(code).to_be_visible()
        expect(code).to_contain_text(needle)
        expect(page.get_by_test_id("curl-command")).to_be_hidden()
        if language == "node":
            shot(page, "playground-snippets")
        text = code.inner_text()
        assert key not in text and f"{web_server.base_url}/static/samples/robot.jpg" in text
        directory = tmp_path / language
        directory.mkdir()
        done = run_snippet(language, text, directory, key)
        assert done.returncode == 0, (text, done.stderr)
        with Image.open(directory / "result.png") as result:
            assert result.format == "PNG" and result.size == (width, height)
    page.get_by_test_id("tab-playground-curl").click()
    expect(page.get_by_test_id("curl-command")).to_be_visible()
    # The snippets follow the form.
    page.get_by_test_id("endpoint").select_option("/v2")
    page.get_by_test_id("tab-playground-php").click()
    expect(page.get_by_test_id("snippet-playground-php")).to_contain_text(
        f"curl_init('{web_server.base_url}/v2')"
    )


def test_removebg_preview_with_a_colour_names_the_output_after_the_content_type(
    page: Page, web_server: Server, web_stack: Stack, tmp_path: Path
) -> None:
    key = new_key(web_stack)
    open_playground(page, web_server)
    page.locator("label.pg-sample", has=page.get_by_test_id("sample-duck")).click()
    page.get_by_test_id("endpoint").select_option("/v1.0/removebg")
    # remove.bg's defaults follow the endpoint: preview size, automatic format.
    expect(page.get_by_test_id("opt-size")).to_have_value("preview")
    expect(page.get_by_test_id("opt-format")).to_have_value("auto")
    page.get_by_test_id("opt-bg-color").fill("#81d4fa")
    send(page, key, "/v1.0/removebg")
    wait_for_result(page)
    assert header(page, "x-credits-charged") == "0.25"
    assert header(page, "content-type") == "image/jpeg"  # opaque, so `auto` gives a JPEG
    width, height = int(header(page, "x-width")), int(header(page, "x-height"))
    assert width * height <= 250_000 and abs(width / height - 4 / 3) < 0.01
    shot(page, "playground-removebg")

    command = page.get_by_test_id("curl-command").inner_text().strip()
    assert command.endswith(
        f'-f {web_server.base_url}/v1.0/removebg -F "image_file=@duck.jpg" -F "size=preview" '
        '-F "bg_color=#81d4fa" -o result.jpg'
    )
    done = run_curl(command, tmp_path, key)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "result.jpg") as result:
        assert result.format == "JPEG" and result.size == (width, height)


def test_quality_best_is_sent_shown_in_the_headers_and_in_the_curl_command(
    page: Page, web_server: Server, web_stack: Stack
) -> None:
    key = new_key(web_stack)
    open_playground(page, web_server)
    expect(page.get_by_test_id("opt-quality")).to_have_value("fast")  # the server's default
    assert "quality" not in page.get_by_test_id("curl-command").inner_text()
    page.get_by_test_id("opt-quality").select_option("best")
    send(page, key, "/v2")
    # best loads isnet on first use where it is installed, then runs both models: seconds.
    wait_for_result(page, timeout_ms=120_000)
    assert header(page, "x-quality") == "best"
    assert header(page, "x-quality-models").split(",")[0] == "u2netp"
    assert '-F "quality=best"' in page.get_by_test_id("curl-command").inner_text()


def test_awkward_file_names_are_quoted_so_the_command_still_runs(
    page: Page, web_server: Server, web_stack: Stack, person_jpeg: bytes, tmp_path: Path
) -> None:
    key = new_key(web_stack)
    photo = tmp_path / 'it\'s my "best"; photo $1.jpg'
    photo.write_bytes(person_jpeg)
    open_playground(page, web_server)
    page.get_by_test_id("source-file").set_input_files(str(photo))
    page.get_by_test_id("opt-size").select_option("preview")
    send(page, key, "/v2")
    wait_for_result(page)
    width, height = int(header(page, "x-width")), int(header(page, "x-height"))
    command = page.get_by_test_id("curl-command").inner_text().strip()
    done = run_curl(command, tmp_path, key)
    assert done.returncode == 0, (command, done.stderr)
    with Image.open(tmp_path / "result.png") as result:
        assert result.size == (width, height)


def test_a_bad_key_shows_the_api_error_as_returned(
    page: Page, web_server: Server, tmp_path: Path
) -> None:
    open_playground(page, web_server)
    send(page, "bgone_live_" + "x" * 38, "/v2")
    expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^401\b"))
    body = page.get_by_test_id("response-json")
    expect(body).to_be_visible()
    error = json.loads(body.inner_text())
    # /v2 speaks BackgroundErase's dialect: one `error` object, with the status and request id.
    assert error["error"]["code"] == "invalid_api_key"
    assert {"code", "message", "status", "request_id"} <= set(error["error"])
    assert error["error"]["request_id"] == header(page, "x-request-id")
    assert header(page, "content-type") == "application/json"
    expect(page.get_by_test_id("result-image")).to_be_hidden()
    expect(page.get_by_test_id("elapsed")).to_have_text(re.compile(r"^\d+ ms$"))
    shot(page, "playground-error")


def test_the_key_is_remembered_only_when_asked_and_only_in_the_tab(
    page: Page, web_server: Server
) -> None:
    open_playground(page, web_server)
    key_input = page.get_by_test_id("api-key")
    expect(key_input).to_have_attribute("type", "password")
    key_input.fill("bgone_live_remember_me")
    page.reload()
    expect(page.get_by_test_id("api-key")).to_have_value("")
    page.get_by_test_id("api-key").fill("bgone_live_remember_me")
    page.get_by_test_id("remember-key").check()
    page.reload()
    expect(page.get_by_test_id("api-key")).to_have_value("bgone_live_remember_me")
    assert page.evaluate("Object.keys(localStorage).length") == 0
    page.get_by_test_id("remember-key").uncheck()
    page.reload()
    expect(page.get_by_test_id("api-key")).to_have_value("")


def test_readable_on_a_phone(page: Page, web_server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_playground(page, web_server)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    for test_id in ("send", "api-key", "endpoint", "curl-command"):
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # Every form control has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('#playground-form input, #playground-form select')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.id || el.name)"""
    )
    assert unnamed == []
    shot(page, "playground-phone")
