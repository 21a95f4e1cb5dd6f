"""Content of the API reference page: plain rows for the templates, read from OpenAPI.

The reference is rendered on the server from `app.openapi()` (no Swagger or Redoc bundle), so
it documents exactly what the served document says. `Reference` walks the document once per
request and hands the template simple views; it never changes the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import Markup

from bgone.web.docs_markup import ticks

Schema = dict[str, Any]


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
