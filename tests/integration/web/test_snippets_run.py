"""Every snippet of the docs, as served, run against a live server with a real key.

The overview and the API reference show each provider endpoint's request in curl, Python (the
SDK, and `requests`), Node.js (`fetch`) and PHP (curl). Each is scraped from the HTML, so the
test runs what users copy, written to a file in an empty directory holding only photo.jpg, and
run by its own interpreter; the result must be a PNG with transparency at the photo's size.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bgone.inference.samples import SAMPLES_DIR
from bgone.web.snippets import LANGUAGES
from tests.support.servers import server_fixtures
from tests.support.snippets import run_snippet, scrape
from tests.support.stack import Server, Stack

# The URL examples fetch the server's own sample photo, on this machine's loopback address.
snippets_stack, snippets_server = server_fixtures(
    "snippets", url_fetch_allowed_networks='["127.0.0.1/32"]'
)

ENDPOINT_SLUGS = ("v2", "v1-remove-bg", "v1-0-removebg")
PHOTO = SAMPLES_DIR / "mug.jpg"  # 800x600, a red mug on a light background


@pytest.fixture(scope="module")
def key(snippets_stack: Stack) -> str:
    return snippets_stack.key(snippets_stack.account("business"))


@pytest.fixture(scope="module")
def overview(snippets_server: Server) -> str:
    response = httpx.get(snippets_server.base_url + "/docs", timeout=30)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("language", [language for language, *_ in LANGUAGES])
@pytest.mark.parametrize("slug", ENDPOINT_SLUGS)
def test_the_docs_snippet_runs_as_shown(
    overview: str, snippets_server: Server, key: str, slug: str, language: str, tmp_path: Path
) -> None:
    shown = scrape(overview)[f"ex-{slug}-{language}"]
    assert shown.language == language
    assert snippets_server.base_url in shown.text and key not in shown.text
    shutil.copy(PHOTO, tmp_path / "photo.jpg")
    done = run_snippet(language, shown.text, tmp_path, key)
    assert done.returncode == 0, (shown.text, done.stdout, done.stderr)
    with Image.open(tmp_path / "result.png") as result:
        assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (800, 600))
        low, high = result.getchannel("A").getextrema()
        assert low == 0 and high == 255  # the background gone, the mug kept


@pytest.mark.parametrize("language", [language for language, *_ in LANGUAGES])
@pytest.mark.parametrize("slug", ["v2", "v1-0-removebg"])
def test_the_docs_url_snippet_runs_as_shown(
    overview: str, snippets_server: Server, key: str, slug: str, language: str, tmp_path: Path
) -> None:
    """By URL: the server fetches its own sample photo; the directory starts empty."""
    shown = scrape(overview)[f"url-{slug}-{language}"]
    assert f"{snippets_server.base_url}/static/samples/mug.jpg" in shown.text
    assert "photo.jpg" not in shown.text
    done = run_snippet(language, shown.text, tmp_path, key)
    assert done.returncode == 0, (shown.text, done.stdout, done.stderr)
    with Image.open(tmp_path / "result.png") as result:
        assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (800, 600))
        assert result.getchannel("A").getextrema() == (0, 255)


def test_bybybg_has_no_url_example(overview: str) -> None:
    assert not any(name.startswith("url-v1-remove-bg") for name in scrape(overview))


def test_the_api_reference_shows_the_same_snippets(overview: str, snippets_server: Server) -> None:
    reference = scrape(httpx.get(snippets_server.base_url + "/docs/api", timeout=30).text)
    on_overview = scrape(overview)
    for slug in ENDPOINT_SLUGS:
        for language, *_ in LANGUAGES:
            assert (
                reference[f"api-{slug}-{language}"].text
                == on_overview[f"ex-{slug}-{language}"].text
            )


def test_a_snippet_with_a_bad_key_fails_loudly(overview: str, tmp_path: Path) -> None:
    """What a customer sees with a wrong key: a non-zero exit and the API's error."""
    shutil.copy(PHOTO, tmp_path / "photo.jpg")
    for language in ("requests", "node", "php"):
        shown = scrape(overview)[f"ex-v2-{language}"]
        done = run_snippet(language, shown.text, tmp_path, "bgone_live_" + "x" * 38)
        assert done.returncode != 0, language
        assert "401" in done.stderr + done.stdout, (language, done.stderr)
        assert not (tmp_path / "result.png").exists()
