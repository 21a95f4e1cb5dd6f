"""The OpenAPI description of `POST /v1/keys/leaked`: its two bodies, its answer, its errors.

The handler reads its body by hand (two shapes), so FastAPI sees none. The example key is
well-formed (its checksum is right) and belongs to no account.
"""

from __future__ import annotations

from bgone.api.openapi.errors import ErrorCase, case
from bgone.api.openapi.schema import JSON, Schema
from bgone.errors import InvalidReportSignature, InvalidRequest, TooManyReports
from bgone.security.keys import SCANNER_PATTERN
from bgone.services.leaks import MAX_REPORTED_KEYS

EXAMPLE_KEY = "bgone_live_000000000000000000000000000000003CxS1I"
KEY_PATTERN = f"^{SCANNER_PATTERN}$"

GITHUB_ENTRY: Schema = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string", "description": "The key as found."},
        "type": {"type": "string", "description": "The scanner's name for the pattern."},
        "url": {"type": "string", "description": "Where it was found; kept in the audit log."},
        "source": {"type": "string", "description": "GitHub's kind of place, e.g. `content`."},
    },
}


def leak_body() -> Schema:
    entry: Schema = {
        "oneOf": [{"type": "string", "description": f"A key, `{KEY_PATTERN}`."}, GITHUB_ENTRY]
    }
    return {
        "required": True,
        "description": (
            "One or more keys found where they should not be: a plain list of key strings, or "
            "the body of a GitHub secret-scanning partner alert. No key is needed to report "
            f"one; at most {MAX_REPORTED_KEYS} per request. Each real key is revoked at once "
            "(or only flagged, if its account chose 'warn only'), audited with its URL and "
            "shown to the account's owners; malformed keys are dropped from their checksum."
        ),
        "content": {
            JSON: {
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_REPORTED_KEYS,
                    "items": entry,
                },
                "examples": {
                    "plain": {"summary": "A list of keys", "value": [EXAMPLE_KEY]},
                    "github": {
                        "summary": "GitHub's partner alert",
                        "value": [
                            {
                                "token": EXAMPLE_KEY,
                                "type": "bgone_api_key",
                                "url": "https://github.com/octo/app/blob/0a1b2c/.env",
                                "source": "content",
                            }
                        ],
                    },
                },
            }
        },
    }


def leak_success() -> Schema:
    return {
        "description": (
            "Received. The same answer, an empty list, whether the keys were real, unknown, "
            "already revoked or malformed: labelling them (GitHub's `true_positive`) would "
            "tell the reporter which keys exist."
        ),
        "content": {JSON: {"schema": {"type": "array", "maxItems": 0}, "example": []}},
    }


LEAK_ERRORS: tuple[ErrorCase, ...] = (
    case(InvalidRequest, "The body must be a JSON list of keys."),
    case(
        InvalidReportSignature,
        "This server checks the signature of secret-scanning alerts: the report needs the "
        "Github-Public-Key-Identifier and Github-Public-Key-Signature headers of one of the "
        "scanner's keys, over the body as sent. A plain list of keys needs none.",
    ),
    case(
        TooManyReports,
        "More than 30 leaked-key reports came from your address this minute; retry after 20 s.",
        retry_after=20,
    ),
)
