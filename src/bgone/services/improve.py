"""Submitting an image to remove.bg's `/v1.0/improve`: fetch, check, store the file, record it.

The file is written first (private, 0600, under `<data dir>/improve/`), then the row is
admitted against the daily limit in one transaction; a refused or failed row removes the file
again, so no file lies there without its row. No credits are spent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import anyio.to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import improve
from bgone.domain.authentication import KeyContext
from bgone.domain.clock import utc_now
from bgone.errors import FileTooLarge, MissingSource
from bgone.infra.url_fetch import UrlFetcher

FOLDER = "improve"  # under the data directory
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def submissions_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


@dataclass(frozen=True)
class ImproveRequest:
    caller: KeyContext
    image: bytes | None = None
    image_url: str | None = None
    tag: str | None = None
    filename: str | None = None


class ImproveService:
    def __init__(self, sessions: SessionFactory, fetcher: UrlFetcher, folder: Path) -> None:
        self.sessions = sessions
        # remove.bg's limit, whatever the server's upload limit is.
        self.max_bytes = min(fetcher.max_bytes, improve.MAX_BYTES)
        self.fetcher = replace(fetcher, max_bytes=self.max_bytes)
        self.folder = folder

    async def submit(self, request: ImproveRequest) -> improve.Submission:
        image = request.image
        if image is None and request.image_url:
            image = await anyio.to_thread.run_sync(partial(self.fetcher.fetch, request.image_url))
        if image is None:
            raise MissingSource(
                "No image was sent. Send one of: image_file, image_file_b64, image_url."
            )
        if len(image) > self.max_bytes:
            raise FileTooLarge(f"The image exceeds the limit of {self.max_bytes} bytes (12 MB).")
        submission = improve.new_submission(
            request.caller.account_id,
            request.caller.key_id,
            image,
            request.tag,
            request.filename,
            utc_now(),
        )
        return await anyio.to_thread.run_sync(self._store, submission, image)

    def _store(self, submission: improve.Submission, image: bytes) -> improve.Submission:
        path = self.folder / submission.stored_name
        write_private(path, image)
        try:
            with transaction(self.sessions) as session:
                improve.admit(session, submission)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return submission


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by this user alone (0600, whatever the umask), in a 0700
    folder: the images are customers' photos."""
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # O_EXCL: an id is never reused, so an existing file would be a bug, not a retry.
    # The mode is given at creation (a umask can only take bits away), so the file is never
    # readable by others, not even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
