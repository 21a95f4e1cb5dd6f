"""Running the docs' and the playground's snippets exactly as shown: scraped from the served
HTML (or read from the page), written to a file, run by the language's own interpreter
(bash, this venv's Python with the SDK of this checkout and `requests`, Debian's node and
php-cli with php-curl) with the key in BGONE_API_KEY."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.environment import REPO, require

CODE = re.compile(
    r'<code [^>]*data-snippet="(?P<language>[a-z]+)" data-filename="(?P<filename>[^"]+)"'
    r' data-testid="snippet-(?P<name>[a-z0-9-]+)">(?P<text>.*?)</code>',
    re.S,
)
FILENAMES = {
    "curl": "remove-bg.sh",
    "python": "remove_bg.py",
    "requests": "remove_bg_requests.py",
    "node": "remove-bg.mjs",
    "php": "remove-bg.php",
}


@dataclass(frozen=True)
class ShownSnippet:
    name: str  # e.g. ex-v2-node
    language: str
    filename: str
    text: str


def scrape(page: str) -> dict[str, ShownSnippet]:
    """Every snippet of a docs page, as text (the HTML's escapes undone, as a browser does)."""
    return {
        match["name"]: ShownSnippet(
            match["name"], match["language"], match["filename"], html.unescape(match["text"])
        )
        for match in CODE.finditer(page)
    }


def php_has_curl() -> bool:
    php = shutil.which("php")
    if php is None:
        return False
    done = subprocess.run(
        [php, "-r", "exit(function_exists('curl_init') ? 0 : 1);"], capture_output=True, timeout=30
    )
    return done.returncode == 0


def require_runtime(language: str) -> None:
    """node and php-cli (with php-curl) from Debian: skipped locally, failures in CI."""
    if language == "node":
        require(shutil.which("node") is not None, "node not found (apt-get install nodejs)")
    elif language == "php":
        require(php_has_curl(), "php with curl not found (apt-get install php-cli php-curl)")
    elif language == "curl":
        require(shutil.which("curl") is not None, "curl not found (apt-get install curl)")


def command(language: str, path: Path) -> list[str]:
    if language == "curl":
        return ["bash", "-euo", "pipefail", str(path)]
    if language in ("python", "requests"):
        return [sys.executable, str(path)]
    return [language, str(path)]  # node, php


def run_snippet(
    language: str, text: str, directory: Path, key: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Writes `text` to its file in `directory` and runs it there, as a customer would."""
    require_runtime(language)
    path = directory / FILENAMES[language]
    path.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "BGONE_API_KEY": key,
        "PYTHONPATH": str(REPO / "client" / "src"),  # the SDK of this checkout
    }
    return subprocess.run(
        command(language, path),
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
