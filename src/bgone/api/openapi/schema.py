"""Building blocks shared by the parts of the OpenAPI document.

The error catalogue, the request bodies, the responses and the assembly all speak of the same
media types and point at the same components; they are named once here so that a `$ref` or a
content type cannot be spelled two ways.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
RESULT_TYPES = (*IMAGE_TYPES, "application/zip")
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"
FILE = {"type": "string", "format": "binary"}


def ref(kind: str, name: str) -> Schema:
    """A `$ref` to `#/components/<kind>/<name>`."""
    return {"$ref": f"#/components/{kind}/{name}"}
