"""A job's multipart body, streamed part by part into the job's folder.

Each `image_file` part is written to `<result dir>/jobs/<id>/in/` as its bytes arrive (and
one `image_zip` beside it), so neither memory nor a temporary directory ever holds the
upload. python-multipart finds the parts; the text fields (removal options, `webhook_url`)
are small and kept in memory, within bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bgone.domain.jobs import NewItem
from bgone.errors import FileTooLarge, InvalidRequest, MultipleSources, TooManyJobItems
from bgone.services.job_inputs import JobInputs, failure_of, stem_of

FILE_FIELD = "image_file"
ZIP_FIELD = "image_zip"
MAX_TEXT_BYTES = 64 * 1024
MAX_TEXT_FIELDS = 64


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)
    target: Path | None = None
    out: BinaryIO | None = None
    written: int = 0
    too_large: bool = False


@dataclass
class StreamedForm:
    """What the body held: text fields, the uploaded images (in order), the archive."""

    texts: dict[str, str] = field(default_factory=dict)
    items: list[NewItem] = field(default_factory=list)
    archive: Path | None = None


class _Reader:
    def __init__(self, job_id: str, inputs: JobInputs, max_items: int) -> None:
        self.job_id, self.inputs, self.max_items = job_id, inputs, max_items
        self.form = StreamedForm()
        self.part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}

    def on_part_begin(self) -> None:
        self.part, self._headers = _Part(), {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace").lower()
        filename = options.get(b"filename")
        if filename is None:
            return
        self.part.filename = filename.decode("utf-8", "replace")
        if self.part.name == FILE_FIELD:
            if self.form.archive is not None:
                raise MultipleSources("Send image_file fields or one image_zip, not both.")
            index = len(self.form.items)
            if index >= self.max_items:
                raise TooManyJobItems(f"A job may hold {self.max_items} images.")
            self.part.target = self.inputs.inputs(self.job_id) / f"{index:04d}.src"
            self.form.items.append(NewItem(stem_of(self.part.filename), str(self.part.target)))
        elif self.part.name == ZIP_FIELD:
            if self.form.archive is not None or self.form.items:
                raise MultipleSources("Send image_file fields or one image_zip, not both.")
            self.part.target = self.inputs.folder(self.job_id) / "upload.zip"
            self.inputs.inputs(self.job_id)
            self.form.archive = self.part.target
        else:
            raise InvalidRequest(
                f"Unexpected file field {self.part.name!r}: send image_file or image_zip."
            )
        self.part.out = self.part.target.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk, part = data[start:end], self.part
        if part.out is None:
            if len(part.text) + len(chunk) > MAX_TEXT_BYTES:
                raise FileTooLarge(f"The field {part.name!r} exceeds {MAX_TEXT_BYTES} bytes.")
            part.text.extend(chunk)
            return
        part.written += len(chunk)
        limit = self.inputs.max_image_bytes if part.name == FILE_FIELD else None
        if limit is not None and part.written > limit:
            part.too_large = True  # the item fails; the rest of its bytes are dropped
            return
        part.out.write(chunk)

    def on_part_end(self) -> None:
        part = self.part
        if part.out is None:
            if len(self.form.texts) >= MAX_TEXT_FIELDS:
                raise InvalidRequest(f"More than {MAX_TEXT_FIELDS} fields.")
            self.form.texts[part.name] = part.text.decode("utf-8", "replace")
            return
        part.out.close()
        if part.too_large and part.target is not None:
            part.target.unlink(missing_ok=True)
            index = len(self.form.items) - 1
            failure = failure_of(self.inputs.too_large())
            self.form.items[index] = NewItem(self.form.items[index].name, "", failure=failure)

    def close(self) -> None:
        if self.part.out is not None and not self.part.out.closed:
            self.part.out.close()


async def read_multipart(
    request: Request, job_id: str, inputs: JobInputs, max_items: int
) -> StreamedForm:
    """The body's fields and files, the files written to the job's folder as they arrive."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidRequest("The multipart body has no boundary.")
    reader = _Reader(job_id, inputs, max_items)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            if chunk:
                # The parser's callbacks write to disk: off the event loop.
                await run_in_threadpool(parser.write, chunk)
        parser.finalize()
    except (InvalidRequest, FileTooLarge, TooManyJobItems, MultipleSources):
        raise
    except Exception as error:  # the parser's own errors: a malformed body
        raise InvalidRequest(f"The multipart body could not be read: {error}") from None
    finally:
        reader.close()
    return reader.form
