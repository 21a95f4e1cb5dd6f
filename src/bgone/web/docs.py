"""The documentation pages: guides, and an API reference rendered from the OpenAPI document.

Everything is rendered on the server from local files: no Swagger or Redoc bundle, no CDN.
The reference reads `app.openapi()`, the error examples come from the tables in
`bgone.api.openapi`, and the web-integration guide shows the files of `examples/web-proxy/`
as they are on disk, so none of them can drift from what the server does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from bgone.api.openapi import (
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
from bgone.web.templating import render
from bgone.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)

Schema = dict[str, Any]

NAV = (
    ("/docs", "Overview"),
    ("/docs/authentication", "Authentication"),
    ("/docs/web-integration", "Web integration"),
    ("/docs/api", "API reference"),
)
# The repository's examples folder (bgone is run from a checkout or an editable install).
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples" / "web-proxy"
EXAMPLE_FILES = (("server.py", "python"), ("index.html", "html"), ("README.md", "markdown"))


def _page(
    request: Request, viewer: ViewerDep, template: str, title: str, **context: Any
) -> Response:
    return render(
        request,
        template,
        viewer,
        nav=NAV,
        current=request.url.path.rstrip("/") or "/docs",
        page_title=title,
        base_url=str(request.base_url).rstrip("/"),
        **context,
    )


def ticks(text: str) -> Markup:
    """Escape `text`, then show `quoted` parts as code: descriptions use Markdown's backticks."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # safe: escaped above


# -- guides ------------------------------------------------------------------------------


@router.get("/docs")
async def overview(request: Request, viewer: ViewerDep) -> Response:
    return _page(request, viewer, "docs_overview.html", "Documentation")


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


@router.get("/docs/authentication")
async def authentication(request: Request, viewer: ViewerDep) -> Response:
    return _page(
        request,
        viewer,
        "docs_authentication.html",
        "Authentication and errors",
        statuses=error_statuses(AUTH_GUIDE_ERRORS),
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


@router.get("/docs/web-integration")
async def web_integration(request: Request, viewer: ViewerDep) -> Response:
    return _page(
        request,
        viewer,
        "docs_web_integration.html",
        "Web integration",
        files=example_files(),
    )


# -- API reference -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: bool
    values: list[str]
    default: str | None
    description: Markup


@dataclass(frozen=True)
class BodyView:
    media_type: str
    type: str  # for bodies that are not objects, e.g. a raw image
    rows: list[FieldRow]  # fields not already described under an earlier body kind
    one_of: list[str]  # "send exactly one of these"
    described: list[str] = field(default_factory=list)  # fields described above
    described_under: str | None = None


@dataclass(frozen=True)
class ResponseView:
    status: str
    description: Markup
    media_types: list[str]
    headers: list[str]
    example: str | None


@dataclass(frozen=True)
class OperationView:
    method: str
    path: str
    summary: str
    description: Markup
    security: list[Markup]
    parameters: list[FieldRow]
    body_description: Markup
    bodies: list[BodyView]
    responses: list[ResponseView]

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.method} {self.path}".lower()).strip("-")


@dataclass
class TagView:
    name: str
    operations: list[OperationView] = field(default_factory=list)


class Reference:
    """A read-only walk over an OpenAPI 3.1 document, producing plain rows for templates."""

    def __init__(self, document: Schema) -> None:
        self.document = document
        self.components: Schema = document.get("components", {})

    def resolve(self, node: Schema) -> Schema:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def type_of(self, raw: Schema) -> str:
        schema = self.resolve(raw)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                kinds = [self.type_of(s) for s in schema[combinator]]
                return " | ".join(dict.fromkeys(k for k in kinds if k != "null"))
        kind = schema.get("type", "any")
        if isinstance(kind, list):
            return " | ".join(kind)
        if kind == "string" and schema.get("format") == "binary":
            return "file"
        if kind == "string" and schema.get("contentEncoding") == "base64":
            return "string (base64)"
        if kind == "string" and schema.get("format") == "uri":
            return "URL"
        if kind == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        return str(kind)

    def unwrap_optional(self, raw: Schema) -> Schema:
        """`X | None` read as X (with the outer keywords such as description kept)."""
        schema = self.resolve(raw)
        options = [self.resolve(option) for option in schema.get("anyOf", [])]
        present = [option for option in options if option.get("type") != "null"]
        if len(present) != 1:
            return schema
        outer = {key: value for key, value in schema.items() if key != "anyOf"}
        return {**present[0], **outer}

    def field_row(self, name: str, raw: Schema, required: bool, description: str = "") -> FieldRow:
        schema = self.unwrap_optional(raw)
        text = description or raw.get("description") or schema.get("description", "")
        if schema.get("examples"):
            text += " E.g. " + ", ".join(f"`{value}`" for value in schema["examples"]) + "."
        default = raw.get("default", schema.get("default"))
        return FieldRow(
            name=name,
            type=self.type_of(raw),
            required=required,
            values=[str(value) for value in schema.get("enum", [])],
            default=None if default is None else json.dumps(default).strip('"'),
            description=ticks(text.strip()),
        )

    def object_rows(self, raw: Schema) -> tuple[list[FieldRow], list[str]]:
        schema = self.unwrap_optional(raw)  # an optional body: Model | None
        required = set(schema.get("required", []))
        one_of = [name for rule in schema.get("oneOf", []) for name in rule.get("required", [])]
        rows = [
            self.field_row(name, prop, name in required)
            for name, prop in schema.get("properties", {}).items()
        ]
        return rows, one_of

    def body(self, operation: Schema) -> tuple[Markup, list[BodyView]]:
        request_body = self.resolve(operation.get("requestBody", {}))
        views: list[BodyView] = []
        for media_type, media in request_body.get("content", {}).items():
            schema = self.resolve(media.get("schema", {}))
            rows, one_of = self.object_rows(schema)
            first = next((view for view in views if view.rows), None)
            if first is None:
                views.append(BodyView(media_type, self.type_of(schema), rows, one_of))
                continue
            # The same fields under another body kind: name them, describe them once.
            known = {row.name for row in first.rows}
            views.append(
                BodyView(
                    media_type,
                    self.type_of(schema),
                    [row for row in rows if row.name not in known],
                    one_of,
                    [row.name for row in rows if row.name in known],
                    first.media_type,
                )
            )
        return ticks(request_body.get("description", "")), views

    def responses(self, operation: Schema) -> list[ResponseView]:
        views = []
        for status, raw in operation.get("responses", {}).items():
            response = self.resolve(raw)
            content: Mapping[str, Schema] = response.get("content", {})
            example = None
            for media in content.values():
                examples = media.get("examples", {})
                if examples:
                    first = self.resolve(next(iter(examples.values())))
                    example = json.dumps(first.get("value"), indent=2)
                    break
            views.append(
                ResponseView(
                    status=status,
                    description=ticks(response.get("description", "")),
                    media_types=list(content),
                    headers=list(response.get("headers", {})),
                    example=example,
                )
            )
        return views

    def security(self, operation: Schema) -> list[Markup]:
        schemes = self.components.get("securitySchemes", {})
        shown = []
        for requirement in operation.get("security", []):
            for name in requirement:
                scheme = schemes.get(name, {})
                if scheme.get("type") == "apiKey":
                    where = scheme.get("in", "header")
                    shown.append(ticks(f"{where} `{scheme.get('name', name)}: YOUR_KEY`"))
                elif scheme.get("type") == "http":
                    bearer = str(scheme.get("scheme", "bearer")).capitalize()
                    shown.append(ticks(f"header `Authorization: {bearer} YOUR_KEY`"))
                else:
                    shown.append(ticks(name))
        return shown

    def parameters(self, operation: Schema) -> list[FieldRow]:
        rows = []
        for raw in operation.get("parameters", []):
            parameter = self.resolve(raw)
            row = self.field_row(
                parameter["name"],
                parameter.get("schema", {}),
                bool(parameter.get("required")),
                parameter.get("description", ""),
            )
            rows.append(replace(row, type=f"{row.type}, in {parameter.get('in', 'query')}"))
        return rows

    def operations(self) -> list[TagView]:
        tags: dict[str, TagView] = {}
        for path, item in self.document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                body_description, bodies = self.body(operation)
                view = OperationView(
                    method=method.upper(),
                    path=path,
                    summary=operation.get("summary", ""),
                    description=ticks(operation.get("description", "")),
                    security=self.security(operation),
                    parameters=self.parameters(operation),
                    body_description=body_description,
                    bodies=bodies,
                    responses=self.responses(operation),
                )
                tag = (operation.get("tags") or ["other"])[0]
                tags.setdefault(tag, TagView(tag)).operations.append(view)
        return list(tags.values())

    def headers(self) -> list[tuple[str, str, Markup]]:
        return [
            (name, self.type_of(header.get("schema", {})), ticks(header.get("description", "")))
            for name, header in self.components.get("headers", {}).items()
        ]


@router.get("/docs/api")
async def api_reference(request: Request, viewer: ViewerDep) -> Response:
    document = request.app.openapi()
    reference = Reference(document)
    info = document.get("info", {})
    error_example = document["components"]["schemas"].get("ErrorBody", {}).get("example")
    return _page(
        request,
        viewer,
        "docs_api.html",
        "API reference",
        info=info,
        intro=ticks(info.get("description", "")),
        tags=reference.operations(),
        headers=reference.headers(),
        error_example=json.dumps(error_example, indent=2) if error_example else None,
    )
