"""The OpenAPI description of `GET /v1/usage`: its JSON and CSV answers and its errors."""

from __future__ import annotations

from bgone.api.openapi.errors import ErrorCase, case
from bgone.api.openapi.schema import JSON, Schema
from bgone.domain.usage_report import MAX_RANGE_DAYS
from bgone.errors import InvalidDateRange, InvalidGroupBy, ProductionKeyRequired

ROW: Schema = {
    "type": "object",
    "description": (
        "One group. Only the grouping columns asked for are present, in this order; the four "
        "measures always are."
    ),
    "properties": {
        "day": {"type": "string", "format": "date", "description": "UTC day (group_by=day)."},
        "month": {"type": "string", "description": "YYYY-MM, UTC (group_by=month)."},
        "key_id": {
            "type": ["string", "null"],
            "description": "The key (group_by=key); null for requests without one.",
        },
        "key_name": {"type": ["string", "null"], "description": "The key's name."},
        "endpoint": {"type": "string", "description": "Method and path, e.g. `POST /v2`."},
        "status": {"type": "integer", "description": "The HTTP status answered."},
        "requests": {"type": "integer"},
        "failed_requests": {"type": "integer", "description": "Status 400 and above (free)."},
        "credits": {"type": "number", "description": "Credits charged."},
        "megapixels": {"type": "number", "description": "Megapixels processed."},
    },
    "required": ["requests", "failed_requests", "credits", "megapixels"],
}
EXAMPLE: Schema = {
    "from": "2026-12-01",
    "to": "2027-01-01",
    "group_by": ["day", "key"],
    "columns": [
        "day",
        "key_id",
        "key_name",
        "requests",
        "failed_requests",
        "credits",
        "megapixels",
    ],
    "rows": [
        {
            "day": "2026-12-01",
            "key_id": "key_7Hq2LmX9pR4tVb1c",
            "key_name": "shop backend",
            "requests": 120,
            "failed_requests": 2,
            "credits": 118.0,
            "megapixels": 1416.2,
        }
    ],
}
CSV_EXAMPLE = (
    "day,key_id,key_name,requests,failed_requests,credits,megapixels\r\n"
    "2026-12-01,key_7Hq2LmX9pR4tVb1c,shop backend,120,2,118.0,1416.2\r\n"
)


def usage_success() -> Schema:
    return {
        "description": "The report: JSON, or CSV (the same columns) with `Accept: text/csv`.",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["from", "to", "group_by", "columns", "rows"],
                    "properties": {
                        "from": {"type": "string", "format": "date"},
                        "to": {"type": "string", "format": "date"},
                        "group_by": {"type": "array", "items": {"type": "string"}},
                        "columns": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "The rows' fields in order: the CSV's header.",
                        },
                        "rows": {"type": "array", "items": ROW},
                    },
                },
                "example": EXAMPLE,
            },
            "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
        },
    }


USAGE_ERRORS: tuple[ErrorCase, ...] = (
    case(ProductionKeyRequired, "Reading usage needs a production key of the account."),
    case(InvalidGroupBy, "group_by takes day or month, not both"),
    case(InvalidDateRange, f"a report covers at most {MAX_RANGE_DAYS} days"),
)
