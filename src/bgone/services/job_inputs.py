"""A job's sources on disk: where uploads go, and ZIP entries extracted within bounds.

Everything lives under `<BGONE_RESULT_DIR>/jobs/<job id>/` (sources in `in/`, results in
`out/`), a directory every replica and worker shares. A ZIP is read entry by entry and
never trusted: an entry with an odd or nested path, an encrypted or corrupt one, one that
inflates past the image limit (a bomb, whatever its header claims) or that is no image
fails its own item, with the synchronous API's code where there is one. OS clutter
(`__MACOSX/`, dot files, directories) is skipped.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from bgone.domain.jobs import ItemFailure, NewItem
from bgone.errors import (
    BgoneError,
    FileTooLarge,
    InvalidFileType,
    InvalidZip,
    InvalidZipEntry,
    TooManyJobItems,
)
from bgone.inference.imageio import describe_unaccepted, sniff_format

CHUNK = 1 << 20
# No photo compresses this well: an entry claiming (or reaching) more is a bomb.
MAX_RATIO = 100


def failure_of(error: BgoneError) -> ItemFailure:
    return ItemFailure(error.status, error.code, error.detail)


def stem_of(filename: str) -> str:
    """The name a result is given in the ZIP: the file's stem, safe for any unzip tool."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem or "image"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100] or "image"


@dataclass(frozen=True)
class JobInputs:
    root: Path  # <result dir>/jobs
    max_image_bytes: int

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def inputs(self, job_id: str) -> Path:
        folder = self.folder(job_id) / "in"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def outputs(self, job_id: str) -> Path:
        folder = self.folder(job_id) / "out"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def discard(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def expand_zip(self, job_id: str, archive: Path, first: int, max_items: int) -> list[NewItem]:
        """One item per image entry of the archive, numbered from `first`."""
        try:
            with zipfile.ZipFile(archive) as opened:
                entries = [info for info in opened.infolist() if not _skipped(info)]
                if first + len(entries) > max_items:
                    raise TooManyJobItems(
                        f"The ZIP holds {len(entries)} images; a job may hold {max_items}."
                    )
                return [
                    self._extract(opened, info, job_id, first + offset)
                    for offset, info in enumerate(entries)
                ]
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise InvalidZip(f"image_zip is not a readable ZIP archive ({error}).") from None

    def _extract(
        self, opened: zipfile.ZipFile, info: zipfile.ZipInfo, job_id: str, index: int
    ) -> NewItem:
        name = stem_of(info.filename)
        refusal = _path_refusal(info)
        if refusal is not None:
            return NewItem(name, "", failure=failure_of(refusal))
        if info.file_size > self.max_image_bytes or (
            info.file_size > CHUNK and info.file_size > MAX_RATIO * max(1, info.compress_size)
        ):
            return NewItem(name, "", failure=failure_of(self.too_large()))
        target = self.inputs(job_id) / f"{index:04d}.src"
        try:
            failure = self._copy_bounded(opened, info, target)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as error:
            failure = failure_of(InvalidZipEntry(f"{info.filename!r} cannot be read ({error})."))
        if failure is not None:
            target.unlink(missing_ok=True)
            return NewItem(name, "", failure=failure)
        return NewItem(name, str(target))

    def _copy_bounded(
        self, opened: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path
    ) -> ItemFailure | None:
        written = 0
        with opened.open(info) as entry, target.open("wb") as out:
            for chunk in _chunks(entry):
                if written == 0 and sniff_format(chunk[:64]) is None:
                    return failure_of(
                        InvalidFileType(
                            f"{info.filename!r}: expected a JPEG, PNG or WebP image, received "
                            f"{describe_unaccepted(chunk)}."
                        )
                    )
                written += len(chunk)
                if written > self.max_image_bytes:  # the header lied: stop inflating
                    return failure_of(self.too_large())
                out.write(chunk)
        if written == 0:
            return failure_of(InvalidZipEntry(f"{info.filename!r} is empty."))
        return None

    def too_large(self) -> FileTooLarge:
        megabytes = self.max_image_bytes // (1024 * 1024)
        return FileTooLarge(f"The image exceeds the limit of {megabytes} MB.")


def _chunks(entry: IO[bytes]) -> Iterator[bytes]:
    while chunk := entry.read(CHUNK):
        yield chunk


def _skipped(info: zipfile.ZipInfo) -> bool:
    parts = PurePosixPath(info.filename).parts
    return info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith(".")


def _path_refusal(info: zipfile.ZipInfo) -> BgoneError | None:
    name = info.filename
    if info.flag_bits & 0x1:
        return InvalidZipEntry(f"{name!r} is encrypted.")
    odd = (
        name.startswith(("/", "\\"))
        or "\\" in name
        or ":" in name
        or ".." in PurePosixPath(name).parts
        or any(ord(c) < 32 for c in name)
    )
    if odd:
        return InvalidZipEntry(f"{name!r} is not a plain file name.")
    if "/" in name:
        return InvalidZipEntry(f"{name!r} is in a folder; put the images at the archive's top.")
    return None
