"""The snippets of one request in every language: quoting, the key from the environment, and
the pages and the playground's endpoint that serve them (in process, with a fake engine)."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest

from bgone.web.snippets import (
    LANGUAGES,
    SnippetRequest,
    curl,
    node,
    php,
    php_string,
    python_requests,
    python_sdk,
    snippets,
)
from tests.unit.inprocess import in_process_app

BASE = "http://bgone.test"
AWKWARD = 'it\'s my "best"; photo $1 \\ é.jpg'


def request(**changes: object) -> SnippetRequest:
    values: dict[str, object] = {
        "base_url": BASE,
        "path": "/v2",
        "file_field": "image_file",
        "image": "photo.jpg",
        "fields": (("size", "full"),),
    }
    values.update(changes)
    return SnippetRequest(**values)  # type: ignore[arg-type]


def test_every_language_reads_the_key_from_the_environment_and_names_the_endpoint() -> None:
    built = snippets(request(fields=(("size", "full"), ("crop", "true"))))
    assert [s.language for s in built.snippets] == ["curl", "python", "requests", "node", "php"]
    assert [s.label for s in built.snippets] == [label for _, label, _, _ in LANGUAGES]
    for snippet in built.snippets:
        assert "BGONE_API_KEY" in snippet.text, snippet.language
        assert BASE in snippet.text and "photo.jpg" in snippet.text and "result.png" in snippet.text
        assert "bgone_live_" not in snippet.text
        if snippet.language != "python":  # the SDK chooses its own path
            assert f"{BASE}/v2" in snippet.text


def test_curl_is_the_one_line_the_playground_always_showed() -> None:
    assert curl(request()) == (
        f'curl -H "x-api-key: $BGONE_API_KEY" -f {BASE}/v2 '
        '-F "image_file=@photo.jpg" -F "size=full" -o result.png'
    )
    sample = request(path="/v1/remove-bg", file_field="file", image="robot.jpg", sample="robot.jpg")
    assert curl(sample).startswith(
        f"curl -fsS {BASE}/static/samples/robot.jpg -o robot.jpg && curl -H"
    )
    awkward = curl(request(image=AWKWARD, fields=(("bg_color", "#81d4fa"), ("roi", "@x;y"))))
    assert "-F 'image_file=@\"it'\\''s my \\\"best\\\"; photo $1 \\\\ é.jpg\"'" in awkward
    assert '-F "bg_color=#81d4fa" --form-string "roi=@x;y"' in awkward


def test_python_snippets_are_valid_python_with_awkward_values() -> None:
    for build in (python_sdk, python_requests):
        text = build(request(image=AWKWARD, fields=(("bg_color", "a\"b'c\\d"),), sample="mug.jpg"))
        tree = ast.parse(text)
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert AWKWARD in strings and "a\"b'c\\d" in strings


def test_the_sdk_snippet_sends_the_endpoints_default_format_and_says_where_it_goes() -> None:
    text = python_sdk(request(path="/v1.0/removebg", default_format="auto"))
    assert 'format="auto"' in text and "/v2" in text
    assert "crop=True" in python_sdk(request(fields=(("crop", "true"),)))
    assert "format=" not in python_sdk(request())


def test_php_and_node_quote_their_strings() -> None:
    assert php_string("it's \\ ok") == "'it\\'s \\\\ ok'"
    assert "new CURLFile('it\\'s.jpg')" in php(request(image="it's.jpg"))
    assert 'readFile("say \\"hi\\".jpg")' in node(request(image='say "hi".jpg'))


def codes_of(page: str) -> dict[str, str]:
    found = re.findall(
        r'<code [^>]*data-testid="snippet-([a-z0-9-]+)"[^>]*>(.*?)</code>', page, re.S
    )
    return {name: html.unescape(text) for name, text in found}


def test_docs_pages_show_every_language_for_the_three_endpoints(tmp_path: Path) -> None:
    with in_process_app(tmp_path) as app:
        overview = app.client.get("/docs").text
        reference = app.client.get("/docs/api").text
    for page, prefix in ((overview, "ex"), (reference, "api")):
        codes = codes_of(page)
        for slug in ("v2", "v1-remove-bg", "v1-0-removebg"):
            for language, *_ in LANGUAGES:
                assert f"{prefix}-{slug}-{language}" in codes, (prefix, slug, language)
        assert "<script>" not in page and "style=" not in page
    assert '-F "size=full"' in codes_of(overview)["ex-v1-0-removebg-curl"]
    assert "size" not in codes_of(overview)["ex-v2-curl"]


def test_the_playground_endpoint_builds_the_forms_request(tmp_path: Path) -> None:
    with in_process_app(tmp_path) as app:
        answer = app.client.get(
            "/playground/snippets",
            params=[
                ("endpoint", "/v1/remove-bg"),
                ("sample", "robot.jpg"),
                ("image", "robot.jpg"),
                ("ext", "png"),
                ("option", "size=full"),
                ("option", "crop=true"),
            ],
        )
        assert answer.status_code == 200, answer.text
        shown = answer.json()
        assert set(shown) == {language for language, *_ in LANGUAGES}
        assert shown["curl"] == (
            "curl -fsS http://testserver/static/samples/robot.jpg -o robot.jpg && "
            'curl -H "x-api-key: $BGONE_API_KEY" -f http://testserver/v1/remove-bg '
            '-F "file=@robot.jpg" -F "size=full" -F "crop=true" -o result.png'
        )
        same_name = app.client.get(
            "/playground/snippets", params={"endpoint": "/v2", "image": "C:\\x\\result.png"}
        ).json()
        assert same_name["curl"].endswith('-F "image_file=@result.png" -o bgone-result.png')
        playground = app.client.get("/playground").text
        assert (
            'data-testid="curl-command"' in playground and 'data-testid="copy-curl"' in playground
        )


@pytest.mark.parametrize(
    "params",
    [
        {"endpoint": "/v1/account"},
        {"endpoint": "/v2", "sample": "../../etc/passwd"},
        {"endpoint": "/v2", "ext": "exe"},
        {"endpoint": "/v2", "option": "api_key=x"},
        {"endpoint": "/v2", "option": "size"},
        {"endpoint": "/v2", "image": "a\nb.jpg"},
        {"endpoint": "/v2", "option": "bg_color=" + "x" * 400},
    ],
)
def test_the_playground_endpoint_refuses_what_the_form_cannot_send(
    tmp_path: Path, params: dict[str, str]
) -> None:
    with in_process_app(tmp_path) as app:
        assert app.client.get("/playground/snippets", params=params).status_code == 422


def test_by_url_no_language_reads_a_file() -> None:
    url = "https://images.example/a b.jpg"
    for snippet in snippets(request(image_url=url)).snippets:
        assert url in snippet.text, snippet.language
        for reading in ("photo.jpg", "readFile", "CURLFile", "files=", "=@"):
            assert reading not in snippet.text, (snippet.language, reading)
    assert curl(request(image_url=url)).endswith(
        f'-f {BASE}/v2 -F "image_url={url}" -F "size=full" -o result.png'
    )
