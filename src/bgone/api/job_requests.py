"""Parsing `POST /v1/jobs` into a `JobSubmission`: the parse step, apart from admission.

Three body kinds: multipart with repeated `image_file` fields, multipart with one
`image_zip` (both streamed into the job's folder by `bgone.api.job_multipart`), or JSON
`{"image_urls": [...]}`; beside them the synchronous API's removal options by the same
names, and `webhook_url`. An idempotency layer can hash the submission this returns before
it is admitted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bgone.api.job_multipart import read_multipart
from bgone.db.tables import WEBHOOK_URL_LENGTH
from bgone.domain.jobs import NewItem
from bgone.errors import (
    FileTooLarge,
    InvalidOption,
    InvalidRequest,
    MissingSource,
    TooManyJobItems,
)
from bgone.inference.option_table import validate_accepted_only
from bgone.services.idempotency import fingerprint
from bgone.services.job_inputs import JobInputs, stem_of
from bgone.services.jobs import JobSubmission

URLS_FIELD = "image_urls"
WEBHOOK_FIELD = "webhook_url"
MAX_URL_LENGTH = 2048
JSON_OPTIONS_BYTES = 64 * 1024


async def parse_job_request(
    request: Request, job_id: str, inputs: JobInputs, max_items: int
) -> JobSubmission:
    """The submission, its uploads staged under the job's folder (deleted on a refusal)."""
    try:
        return await _parse(request, job_id, inputs, max_items)
    except BaseException:
        await run_in_threadpool(inputs.discard, job_id)
        raise


async def _parse(request: Request, job_id: str, inputs: JobInputs, max_items: int) -> JobSubmission:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _multipart(request, job_id, inputs, max_items)
    if content_type in ("application/json", ""):
        return await _json(request, job_id, max_items)
    raise InvalidRequest(
        "Send multipart/form-data (image_file fields or one image_zip) or JSON (image_urls)."
    )


async def _multipart(
    request: Request, job_id: str, inputs: JobInputs, max_items: int
) -> JobSubmission:
    form = await read_multipart(request, job_id, inputs, max_items)
    items = form.items
    if form.archive is not None:
        items = await run_in_threadpool(inputs.expand_zip, job_id, form.archive, 0, max_items)
        form.archive.unlink(missing_ok=True)
    if not items:
        raise MissingSource(
            "No image was sent. Send image_file fields, one image_zip, or image_urls."
        )
    return _submission(job_id, items, form.texts)


async def _json(request: Request, job_id: str, max_items: int) -> JobSubmission:
    # URLs and options only: never the whole job body limit in memory.
    limit = max_items * (MAX_URL_LENGTH + 16) + JSON_OPTIONS_BYTES
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise FileTooLarge(f"A JSON job body may have at most {limit} bytes.")
    try:
        document = json.loads(bytes(body))
    except (ValueError, RecursionError):
        raise InvalidOption("json", "The JSON body could not be parsed.") from None
    if not isinstance(document, dict):
        raise InvalidOption("json", "The JSON body must be an object.")
    urls = document.pop(URLS_FIELD, None)
    if not isinstance(urls, list) or not urls:
        raise MissingSource("No image was sent: image_urls must be a non-empty list of URLs.")
    if len(urls) > max_items:
        raise TooManyJobItems(f"The job holds {len(urls)} images; a job may hold {max_items}.")
    items = [_url_item(position, url) for position, url in enumerate(urls)]
    texts = {str(k).lower(): _text(str(k), v) for k, v in document.items() if v is not None}
    return _submission(job_id, items, texts)


def _url_item(position: int, url: Any) -> NewItem:
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(
            f"image_urls[{position}] must be a URL of at most {MAX_URL_LENGTH} characters."
        )
    url = url.strip()
    return NewItem(stem_of(urlsplit(url).path or f"image-{position}"), url, source_is_url=True)


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise InvalidOption(name, f"{name} must be a string, number or boolean.")


def job_fingerprint(submission: JobSubmission) -> str:
    """What an `Idempotency-Key` retry must repeat: the option fields, the webhook URL and
    each item's URL or file contents (sha256, read back from the staged file), in order;
    multipart boundaries and file names do not count."""
    fields = dict(submission.fields)
    fields["webhook_url"] = submission.webhook_url or ""
    for index, item in enumerate(submission.items):
        if item.source_is_url or item.failure is not None:
            failed = item.failure.code if item.failure is not None else ""
            fields[f"item:{index}"] = f"{item.source_is_url}:{item.source}:{failed}"
            continue
        digest = hashlib.sha256()
        with open(item.source, "rb") as staged:
            while chunk := staged.read(1 << 20):
                digest.update(chunk)
        fields[f"item:{index}"] = digest.hexdigest()
    return fingerprint("POST /v1/jobs", fields, {})


def _submission(job_id: str, items: list[NewItem], texts: dict[str, str]) -> JobSubmission:
    webhook_url = texts.pop(WEBHOOK_FIELD, "").strip() or None
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if (
            len(webhook_url) > WEBHOOK_URL_LENGTH
            or parts.scheme not in ("http", "https")
            or not parts.hostname
        ):
            raise InvalidRequest(
                f"webhook_url must be an http(s) URL of at most {WEBHOOK_URL_LENGTH} characters."
            )
    for source in ("image_url", "image_file_b64", "image_base64", "bg_image_file"):
        if source in texts:
            raise InvalidRequest(f"{source} is not accepted by /v1/jobs; see its body kinds.")
    validate_accepted_only(texts)
    return JobSubmission(job_id=job_id, items=items, fields=texts, webhook_url=webhook_url)
