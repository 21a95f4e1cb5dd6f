"""The OpenAPI description of the jobs API: `POST /v1/jobs`'s bodies, and each route's errors.

The submit handler reads its body by hand (multipart or JSON), so FastAPI sees none; the
answers are pydantic models (`bgone.api.job_shapes`), which FastAPI documents itself.
"""

from __future__ import annotations

from bgone.api.openapi.errors import (
    NO_CREDITS,
    TOO_LARGE,
    ErrorCase,
    case,
    option_case,
)
from bgone.api.openapi.schema import JSON, Schema
from bgone.errors import (
    InvalidRequest,
    InvalidZip,
    InvalidZipEntry,
    JobCancelled,
    JobItemLost,
    JobItemNotFound,
    JobItemNotReady,
    JobNotFound,
    MissingSource,
    MultipleSources,
    TooManyJobItems,
)

MULTIPART = "multipart/form-data"
NOT_FOUND = case(JobNotFound, "no job 'job_4f1c0a9e7b2d4c6e8a0b1c2d' in this account")
SUBMIT_ERRORS: tuple[ErrorCase, ...] = (
    case(MissingSource, "No image was sent. Send image_file fields, one image_zip, or image_urls."),
    case(MultipleSources, "Send image_file fields or one image_zip, not both."),
    case(InvalidZip, "image_zip is not a readable ZIP archive (File is not a zip file)."),
    case(InvalidRequest, "webhook_url must be an http(s) URL of at most 2048 characters."),
    case(TooManyJobItems, "The job holds 1200 images; a job may hold 1000."),
    option_case("json", "The JSON body could not be parsed."),
    NO_CREDITS,
    TOO_LARGE,
)
BAD_PARAMETER = case(InvalidRequest, "query.limit: Input should be less than or equal to 100")
LIST_ERRORS: tuple[ErrorCase, ...] = (BAD_PARAMETER,)
READ_ERRORS: tuple[ErrorCase, ...] = (BAD_PARAMETER, NOT_FOUND)
CANCEL_ERRORS: tuple[ErrorCase, ...] = (NOT_FOUND,)
ITEM_ERRORS: tuple[ErrorCase, ...] = (
    NOT_FOUND,
    case(InvalidRequest, "path.index: Input should be greater than or equal to 0"),
    case(JobItemNotFound, "job job_4f1c0a9e7b2d4c6e8a0b1c2d has no item 12"),
    case(JobItemNotReady, "item 3 is failed (failed_to_read_image): no result"),
)
# What an item's `error_code` may be beyond the synchronous API's codes.
ITEM_CODES_NOTE = (
    "An item fails with the synchronous API's code (`failed_to_read_image`, "
    "`resolution_too_high`, `invalid_file_type`, `file_too_large`, `failed_image_download`, "
    "...), `invalid_zip_entry` (a ZIP entry with an odd or nested path, encrypted or "
    "unreadable), `job_cancelled` or `job_item_lost` (its worker stopped three times)."
)


def submit_body() -> Schema:
    options: Schema = {
        "type": "string",
        "description": "Any removal option of the synchronous API, e.g. `size`, `format`.",
    }
    return {
        "required": True,
        "description": "Images as files, one ZIP, or URLs; the removal options beside them. "
        + ITEM_CODES_NOTE,
        "content": {
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image_file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Repeat the field once per image.",
                        },
                        "image_zip": {
                            "type": "string",
                            "format": "binary",
                            "description": "One ZIP of images, at its top level.",
                        },
                        "webhook_url": {"type": "string", "maxLength": 2048},
                    },
                    "additionalProperties": options,
                }
            },
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["image_urls"],
                    "properties": {
                        "image_urls": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "format": "uri", "maxLength": 2048},
                        },
                        "webhook_url": {"type": "string", "maxLength": 2048},
                    },
                    "additionalProperties": options,
                },
                "example": {
                    "image_urls": ["https://shop.example/photos/0001.jpg"],
                    "size": "full",
                },
            },
        },
    }


def item_error_schema() -> Schema:
    """An item's failure as `GET /v1/jobs/{id}` and `errors.json` report it, with the codes
    only items have (the rest are the synchronous API's)."""
    cases = (
        case(InvalidZipEntry, "'photos/0001.jpg' is in a folder; put the images at the top."),
        case(JobCancelled, "the job was cancelled before this item started"),
        case(JobItemLost, "the item's worker stopped three times; not charged"),
    )
    return {
        "type": "object",
        "title": "JobItemError",
        "description": ITEM_CODES_NOTE,
        "properties": {
            "title": {"type": "string"},
            "code": {"type": "string"},
            "detail": {"type": "string"},
        },
        "examples": [{"title": c.title, "code": c.code, "detail": c.detail} for c in cases],
    }
