"""What both clients send: the configuration, the request of each call, its form fields.

Everything here is plain data and pure functions, so `Client` and `AsyncClient` differ only
in how they perform the I/O.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias

from bgone_client._errors import MissingAPIKeyError
from bgone_client._retry import RetryPolicy
from bgone_client._version import __version__

Source: TypeAlias = str | os.PathLike[str] | bytes | bytearray | IO[bytes]
SizeName = Literal["preview", "medium", "hd", "full", "auto"]
FormatName = Literal["png", "webp", "jpg", "zip", "auto"]
ChannelsName = Literal["rgba", "alpha"]
RefinementName = Literal["guided", "curve", "raw"]
QualityName = Literal["fast", "best"]
FilePart: TypeAlias = tuple[str, bytes, str]  # multipart (file name, bytes, content type)

# remove.bg's contract: the route that also takes a background image.
REMOVE_PATH = "/v1.0/removebg"
ACCOUNT_PATH = "/v1/account"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Sent with every removal, a new random one per call and the same on each of its retries, so
# that the server answers a resend (after a lost connection) with the first answer, charged
# once (README, Retrying safely).
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = f"bgone-python/{__version__}"


@dataclass(frozen=True)
class Call:
    """One HTTP request, built once and sent as often as the retry policy allows."""

    method: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # A JSON body instead of a form; repeated file fields (a batch job's images).
    json: dict[str, Any] | None = None
    file_list: list[tuple[str, FilePart]] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def idempotent(self) -> bool:
        """Safe to resend: a GET, or a request with its own `Idempotency-Key`."""
        return self.method == "GET" or IDEMPOTENCY_HEADER in self.headers

    def arguments(self) -> dict[str, Any]:
        """httpx's keyword arguments: the headers, the query and the body (JSON, or a form,
        multipart when there are files)."""
        arguments: dict[str, Any] = {"params": self.params or None, "headers": self.headers}
        if self.json is not None:
            return arguments | {"json": self.json}
        files = list(self.files.items()) + self.file_list
        return arguments | {"data": self.data or None, "files": files or None}


@dataclass(frozen=True)
class RemoveOptions:
    """The options of a removal, as typed keywords; None leaves the server's choice."""

    size: SizeName | None = None
    format: FormatName | None = None
    channels: ChannelsName | None = None
    crop: bool | None = None
    crop_margin: str | int | None = None
    bg_color: str | None = None
    roi: str | None = None
    scale: str | None = None
    position: str | None = None
    model: str | None = None
    refinement: RefinementName | None = None
    quality: QualityName | None = None

    def form_fields(self) -> dict[str, str]:
        """The form fields to send; `size` and `format` always, as the library's defaults."""
        chosen: dict[str, str | int | bool | None] = {
            # The server's defaults are remove.bg's (`preview`/`auto`): the SDK matches the
            # library and the CLI instead.
            "size": self.size or "full",
            "format": self.format or "png",
            "channels": self.channels,
            "crop": self.crop,
            "crop_margin": self.crop_margin,
            "bg_color": self.bg_color,
            "roi": self.roi,
            "scale": self.scale,
            "position": self.position,
            "model": self.model,
            "refinement": self.refinement,
            "quality": self.quality,
        }
        return {name: _form_value(value) for name, value in chosen.items() if value is not None}


def _form_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def source_part(source: Source) -> str | FilePart:
    """A URL string, or a multipart file part."""
    if isinstance(source, str) and source.lower().startswith(("http://", "https://")):
        return source
    if isinstance(source, bytes | bytearray):
        return ("image", bytes(source), "application/octet-stream")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return (path.name, path.read_bytes(), "application/octet-stream")
    if hasattr(source, "read"):
        name = Path(str(getattr(source, "name", "image"))).name
        return (name, source.read(), "application/octet-stream")
    raise TypeError(f"unsupported source type {type(source).__name__}")


def removal_call(source: Source, bg_image: Source | None, options: RemoveOptions) -> Call:
    """The request of one removal; reads a path or file object, so it may block."""
    call = Call("POST", REMOVE_PATH, headers={IDEMPOTENCY_HEADER: str(uuid.uuid4())})
    for value, file_field, url_field in (
        (source, "image_file", "image_url"),
        (bg_image, "bg_image_file", "bg_image_url"),
    ):
        if value is None:
            continue
        part = source_part(value)
        if isinstance(part, str):
            call.data[url_field] = part
        else:
            call.files[file_field] = part
    call.data.update(options.form_fields())
    return call


def account_call() -> Call:
    return Call("GET", ACCOUNT_PATH)


class ClientBase:
    """The configuration both clients share: the key, the server, the retry policy."""

    def __init__(
        self, api_key: str | None, base_url: str, max_retries: int, max_backoff: float
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("BGONE_API_KEY")
        if not key:
            raise MissingAPIKeyError("no API key: pass api_key=... or set BGONE_API_KEY")
        self.base_url = base_url.rstrip("/")
        self.retry_policy = RetryPolicy(max_retries=max_retries, max_backoff=max_backoff)
        self._headers = {"x-api-key": key, "user-agent": USER_AGENT}

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    @property
    def max_backoff(self) -> float:
        return self.retry_policy.max_backoff
