"""One removal request, written out in each language a customer may call the API from.

The docs pages and the playground both show these: curl, Python (the SDK, and plain
`requests`), Node.js (its built-in `fetch`) and PHP (its curl extension). Every snippet reads
the key from the `BGONE_API_KEY` environment variable (never the key itself), sends the image
from a local file (or names its URL, for the server to fetch), and writes the result to a
file. Each is a complete program that runs as written: tests/integration/web/
test_snippets_run.py scrapes them from the served pages and runs them against a live server.

One builder per language, each a plain text builder quoting in its own language's rules; the
playground asks for them (`GET /playground/snippets`) rather than building them in JavaScript,
so there is one implementation of each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

KEY_VARIABLE = "BGONE_API_KEY"
SDK_PATH = "/v2"  # the SDK speaks BackgroundErase's contract
SDK_DEFAULT_FORMAT = "png"
SDK_KEYWORDS = frozenset(
    {
        "size",
        "format",
        "channels",
        "crop",
        "crop_margin",
        "bg_color",
        "roi",
        "scale",
        "position",
        "model",
        "refinement",
        "quality",
    }
)


@dataclass(frozen=True)
class SnippetRequest:
    """A removal: the endpoint, its file field and the local image (or the image's URL in the
    endpoint's URL field), the text fields, the file the result is written to."""

    base_url: str  # the server's public base, e.g. https://bgone.example.com
    path: str  # /v2, /v1/remove-bg, /v1.0/removebg
    file_field: str  # the endpoint's multipart image field
    image: str  # the local file sent
    fields: tuple[tuple[str, str], ...] = ()
    output: str = "result.png"
    sample: str | None = None  # a sample of this server's, downloaded to `image` first
    default_format: str = SDK_DEFAULT_FORMAT  # the endpoint's, when `format` is not sent
    label: str = ""  # the endpoint's contract, e.g. "remove.bg"
    image_url: str | None = None  # instead of a file: the server fetches the image
    url_field: str = "image_url"

    @property
    def texts(self) -> tuple[tuple[str, str], ...]:
        """The text fields, the image's URL first when it is sent by URL."""
        if self.image_url is None:
            return self.fields
        return ((self.url_field, self.image_url), *self.fields)

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def sample_url(self) -> str | None:
        if self.sample is None:
            return None
        return f"{self.base_url}/static/samples/{quote(self.sample, safe='')}"


@dataclass(frozen=True)
class Snippet:
    language: str  # a stable id: curl, python, requests, node, php
    label: str  # the tab's name
    text: str
    filename: str  # what to save it as, e.g. remove-bg.mjs


@dataclass(frozen=True)
class SnippetSet:
    request: SnippetRequest
    snippets: list[Snippet] = field(default_factory=list)


# -- curl (bash) ------------------------------------------------------------------------------


def shell_quote(text: str) -> str:
    """Double quotes when nothing inside would be expanded; single quotes otherwise."""
    if not re.search(r'["$`\\!]', text):
        return f'"{text}"'
    return "'" + text.replace("'", "'\\''") + "'"


def shell_word(text: str) -> str:
    """Bare where nothing needs quoting (file names after -o)."""
    return text if re.fullmatch(r"[\w.@%+=:,/-]+", text, re.ASCII) else shell_quote(text)


def _curl_file(name: str, value: str) -> str:
    # curl -F treats `;` (and `,` for files) as separators and a leading `"` as quoting.
    if re.search(r'[;,"\\]', value):
        escaped = re.sub(r'([\\"])', r"\\\1", value)
        return "-F " + shell_quote(name + '=@"' + escaped + '"')
    return f"-F {shell_quote(f'{name}=@{value}')}"


def _curl_text(name: str, value: str) -> str:
    # A leading @ or < would read a file; --form-string sends a text value literally.
    literal = value.startswith(("@", "<", '"')) or ";" in value
    return f"{'--form-string' if literal else '-F'} {shell_quote(f'{name}={value}')}"


def curl(request: SnippetRequest) -> str:
    parts = []
    if request.sample_url:
        parts.append(f"curl -fsS {request.sample_url} -o {shell_word(request.image)} &&")
    parts.append(f'curl -H "x-api-key: ${KEY_VARIABLE}" -f {request.url}')
    if request.image_url is None:
        parts.append(_curl_file(request.file_field, request.image))
    parts.extend(_curl_text(name, value) for name, value in request.texts)
    parts.append(f"-o {shell_word(request.output)}")
    return " ".join(parts)


# -- Python -----------------------------------------------------------------------------------


def py(text: str) -> str:
    """A Python string literal (JSON's escapes are all Python's too)."""
    return json.dumps(text)


def python_sdk(request: SnippetRequest) -> str:
    arguments = [py(request.image if request.image_url is None else request.image_url)]
    for name, value in request.fields:
        if name not in SDK_KEYWORDS:
            continue
        shown = ("True" if value == "true" else "False") if name == "crop" else py(value)
        arguments.append(f"{name}={shown}")
    names = {name for name, _ in request.fields}
    if "format" not in names and request.default_format != SDK_DEFAULT_FORMAT:
        arguments.append(f"format={py(request.default_format)}")  # the endpoint's default
    lines = ["# pip install bgone-client", "import os"]
    if request.sample_url:
        lines.append("import urllib.request")
    lines += ["", "from bgone_client import Client", ""]
    if request.path != SDK_PATH:
        lines.append(
            f"# The SDK sends the same cut-out to {SDK_PATH}, the BackgroundErase contract."
        )
    if request.sample_url:
        lines.append(f"urllib.request.urlretrieve({py(request.sample_url)}, {py(request.image)})")
    lines.append(f'with Client(os.environ["{KEY_VARIABLE}"], {py(request.base_url)}) as bgone:')
    call = f"    result = bgone.remove({', '.join(arguments)})"
    if len(call) > 99:
        call = (
            "    result = bgone.remove(\n" + "".join(f"        {a},\n" for a in arguments) + "    )"
        )
    lines.append(call)
    lines.append(f"result.save({py(request.output)})")
    return "\n".join(lines) + "\n"


def python_requests(request: SnippetRequest) -> str:
    lines = ["# pip install requests", "import os", "", "import requests", ""]
    if request.sample_url:
        lines += [
            f"sample = requests.get({py(request.sample_url)}, timeout=60)",
            "sample.raise_for_status()",
            f'with open({py(request.image)}, "wb") as photo:',
            "    photo.write(sample.content)",
            "",
        ]
    call = [
        "response = requests.post(",
        f"    {py(request.url)},",
        f'    headers={{"x-api-key": os.environ["{KEY_VARIABLE}"]}},',
    ]
    if request.image_url is None:
        call.append(f"    files={{{py(request.file_field)}: image}},")
    if request.texts:
        call.append("    data={")
        call += [f"        {py(name)}: {py(value)}," for name, value in request.texts]
        call.append("    },")
    call += ["    timeout=60,", ")"]
    if request.image_url is None:
        lines.append(f'with open({py(request.image)}, "rb") as image:')
        call = ["    " + line for line in call]
    lines += call
    lines += [
        "if not response.ok:",
        '    raise SystemExit(f"{response.status_code}: {response.text}")',
        f'with open({py(request.output)}, "wb") as result:',
        "    result.write(response.content)",
    ]
    return "\n".join(lines) + "\n"


# -- Node.js ----------------------------------------------------------------------------------


def js(text: str) -> str:
    """A JavaScript string literal (JSON is valid JavaScript, U+2028 included with ASCII)."""
    return json.dumps(text)


def node(request: SnippetRequest) -> str:
    lines = [
        "// Node.js 18 or later: save as remove-bg.mjs, run with `node remove-bg.mjs`.",
        'import { readFile, writeFile } from "node:fs/promises";'
        if request.image_url is None
        else 'import { writeFile } from "node:fs/promises";',
        "",
    ]
    if request.sample_url:
        lines += [
            f"const sample = await fetch({js(request.sample_url)});",
            "if (!sample.ok) throw new Error(`sample: HTTP ${sample.status}`);",
            f"await writeFile({js(request.image)}, Buffer.from(await sample.arrayBuffer()));",
            "",
        ]
    lines.append("const form = new FormData();")
    if request.image_url is None:
        image = js(request.image)
        lines.append(
            f"form.append({js(request.file_field)}, new Blob([await readFile({image})]), {image});"
        )
    lines += [f"form.append({js(name)}, {js(value)});" for name, value in request.texts]
    lines += [
        f"const response = await fetch({js(request.url)}, {{",
        '  method: "POST",',
        f'  headers: {{ "x-api-key": process.env.{KEY_VARIABLE} }},',
        "  body: form,",
        "});",
        "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);",
        f"await writeFile({js(request.output)}, Buffer.from(await response.arrayBuffer()));",
    ]
    return "\n".join(lines) + "\n"


# -- PHP --------------------------------------------------------------------------------------


def php_string(text: str) -> str:
    """A single-quoted PHP string: only the backslash and the quote are special."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def php(request: SnippetRequest) -> str:
    lines = ["<?php", "// PHP with its curl extension (php-curl): run with `php remove-bg.php`."]
    if request.sample_url:
        lines += [
            f"$sample = file_get_contents({php_string(request.sample_url)});",
            "if ($sample === false) {",
            "    exit(1);",
            "}",
            f"file_put_contents({php_string(request.image)}, $sample);",
            "",
        ]
    lines += [
        f"$curl = curl_init({php_string(request.url)});",
        "curl_setopt_array($curl, [",
        "    CURLOPT_POST => true,",
        f"    CURLOPT_HTTPHEADER => ['x-api-key: ' . getenv('{KEY_VARIABLE}')],",
        "    CURLOPT_POSTFIELDS => [",
    ]
    if request.image_url is None:
        image = php_string(request.image)
        lines.append(f"        {php_string(request.file_field)} => new CURLFile({image}),")
    lines += [f"        {php_string(n)} => {php_string(v)}," for n, v in request.texts]
    lines += [
        "    ],",
        "    CURLOPT_RETURNTRANSFER => true,",
        "]);",
        "$body = curl_exec($curl);",
        "$status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);",
        "if ($body === false || $status !== 200) {",
        "    $error = $body === false ? curl_error($curl) : $body;",
        '    fwrite(STDERR, "HTTP $status: $error\\n");',
        "    exit(1);",
        "}",
        f"file_put_contents({php_string(request.output)}, $body);",
    ]
    return "\n".join(lines) + "\n"


Builder = Callable[[SnippetRequest], str]
LANGUAGES: tuple[tuple[str, str, str, Builder], ...] = (
    ("curl", "curl", "remove-bg.sh", curl),
    ("python", "Python (SDK)", "remove_bg.py", python_sdk),
    ("requests", "Python (requests)", "remove_bg_requests.py", python_requests),
    ("node", "Node.js (fetch)", "remove-bg.mjs", node),
    ("php", "PHP (curl)", "remove-bg.php", php),
)


def snippets(request: SnippetRequest) -> SnippetSet:
    """The request in every language, in the order the tabs show them."""
    return SnippetSet(
        request,
        [
            Snippet(language, label, build(request), filename)
            for language, label, filename, build in LANGUAGES
        ],
    )
