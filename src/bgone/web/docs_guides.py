"""Content of the guide pages: the error examples and the web-integration example files.

The authentication guide shows whole HTTP answers built from the error catalogue of
`bgone.api.openapi.errors`, and the web-integration guide shows the files of
`examples/web-proxy/` as they are on disk, so neither can drift from what the server does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from markupsafe import Markup

from bgone.api.openapi.errors import (
    AUTH_ERRORS,
    BUSY,
    NO_API_ACCESS,
    NO_CREDITS,
    RATE_LIMITED,
    STATUS_MEANING,
    SUSPENDED,
    TOO_LARGE,
    UNAVAILABLE,
    WRONG_TYPE,
    ErrorCase,
)
from bgone.web.docs_markup import ticks

# The repository's examples folder (bgone is run from a checkout or an editable install).
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples" / "web-proxy"
EXAMPLE_FILES = (("server.py", "python"), ("index.html", "html"), ("README.md", "markdown"))


@dataclass(frozen=True)
class ErrorExample:
    case: ErrorCase
    http: str  # the whole answer: status line, headers, body

    @property
    def anchor(self) -> str:
        return self.case.code.replace("_", "-")


@dataclass(frozen=True)
class ErrorStatus:
    status: int
    phrase: str
    meaning: Markup
    examples: list[ErrorExample]


def _answer(case: ErrorCase) -> str:
    lines = [f"HTTP/1.1 {case.status} {HTTPStatus(case.status).phrase}"]
    lines.append("Content-Type: application/json")
    if case.retry_after:
        lines.append(f"Retry-After: {case.retry_after}")
    lines.append(f"X-Request-ID: {case.body()['request_id']}")
    return "\n".join(lines) + "\n\n" + json.dumps(case.body(), indent=2)


def error_statuses(cases: Iterable[ErrorCase]) -> list[ErrorStatus]:
    grouped: dict[int, list[ErrorExample]] = {}
    for item in cases:
        grouped.setdefault(item.status, []).append(ErrorExample(item, _answer(item)))
    return [
        ErrorStatus(
            status, HTTPStatus(status).phrase, ticks(STATUS_MEANING.get(status, "")), examples
        )
        for status, examples in sorted(grouped.items())
    ]


AUTH_GUIDE_ERRORS = (
    *AUTH_ERRORS[:4],
    NO_CREDITS,
    NO_API_ACCESS,
    SUSPENDED,
    TOO_LARGE,
    WRONG_TYPE,
    RATE_LIMITED,
    BUSY,
    UNAVAILABLE,
)


@dataclass(frozen=True)
class ExampleFile:
    name: str
    language: str
    text: str | None  # None when bgone runs without its examples folder


def example_files(directory: Path = EXAMPLES_DIR) -> list[ExampleFile]:
    """Read at request time: the page always shows the files as they are."""
    found = []
    for name, language in EXAMPLE_FILES:
        path = directory / name
        text = path.read_text(encoding="utf-8") if path.is_file() else None
        found.append(ExampleFile(name, language, text))
    return found
