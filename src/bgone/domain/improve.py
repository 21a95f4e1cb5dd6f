"""remove.bg's `/v1.0/improve`: images a customer submits because a result disappointed them.

remove.bg trains on them; bgone keeps them for the operator, who lists and exports them with
`bgone improve`. The rules are remove.bg's: free of credits, at most 12 MB each, 100 a day
per account (1,000 on Enterprise). A day is the UTC day. The service writes the file under the
data directory; the row here says whose it is, when it came and with which tag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bgone.db.tables import IMPROVE_TEXT_LENGTH, AccountRow, ImproveSubmissionRow
from bgone.errors import ImproveLimitExceeded, InvalidFileType, InvalidRequest, NotFound
from bgone.inference.imageio import describe_unaccepted, sniff_format
from bgone.security.keys import random_base62

# remove.bg's "12 MB", read as binary megabytes: the larger reading refuses no file it takes.
MAX_BYTES = 12 * 1024 * 1024
DEFAULT_DAILY_LIMIT = 100
# Plans whose accounts may submit more a day than the default (remove.bg's Enterprise).
DAILY_LIMITS_BY_PLAN: dict[str, int] = {"enterprise": 1000}
MAX_TEXT_LENGTH = IMPROVE_TEXT_LENGTH
ID_PREFIX = "imp_"
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class Submission:
    id: str
    account_id: int
    key_id: str
    at: datetime
    tag: str | None
    filename: str | None  # as the client named it; never used as a path
    stored_name: str  # the file's name in the submissions folder: `<id>.<extension>`
    size_bytes: int
    sha256: str


def daily_limit(plan: str) -> int:
    return DAILY_LIMITS_BY_PLAN.get(plan, DEFAULT_DAILY_LIMIT)


def check_image(image: bytes) -> str:
    """The file extension of an accepted image (JPEG, PNG or WebP, by content)."""
    kind = sniff_format(image)
    if kind is None:
        raise InvalidFileType(
            f"Expected a JPEG, PNG or WebP image, received {describe_unaccepted(image)}."
        )
    return EXTENSIONS[kind]


def clean_text(name: str, value: str | None) -> str | None:
    """A tag or file name without surrounding space or control characters; None if empty."""
    if value is None:
        return None
    cleaned = "".join(character for character in value if character.isprintable()).strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise InvalidRequest(f"{name} is at most {MAX_TEXT_LENGTH} characters.")
    return cleaned or None


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def new_submission(
    account_id: int,
    key_id: str,
    image: bytes,
    tag: str | None,
    filename: str | None,
    now: datetime,
) -> Submission:
    """A submission not yet recorded: checked image and texts, its id and file name."""
    extension = check_image(image)
    submission_id = ID_PREFIX + random_base62(16)
    return Submission(
        id=submission_id,
        account_id=account_id,
        key_id=key_id,
        at=now,
        tag=clean_text("tag", tag),
        filename=clean_text("image_filename", filename),
        stored_name=f"{submission_id}.{extension}",
        size_bytes=len(image),
        sha256=hashlib.sha256(image).hexdigest(),
    )


def admit(session: Session, submission: Submission) -> None:
    """Record `submission` unless its account has used up today's submissions."""
    # Locking the account row makes concurrent submissions of one account count in turn
    # (on PostgreSQL; SQLite runs one writer at a time anyway).
    account = session.get(AccountRow, submission.account_id, with_for_update=True)
    if account is None:
        raise NotFound(f"no account {submission.account_id}")
    limit = daily_limit(account.plan)
    today = day_start(submission.at)
    used = session.scalar(
        select(func.count())
        .select_from(ImproveSubmissionRow)
        .where(
            ImproveSubmissionRow.account_id == submission.account_id,
            ImproveSubmissionRow.at >= today,
        )
    )
    if (used or 0) >= limit:
        next_day = today + timedelta(days=1)
        raise ImproveLimitExceeded(
            f"This account may submit {limit} images a day to /v1.0/improve; the count "
            "starts again at midnight UTC.",
            int((next_day - submission.at).total_seconds()),
        )
    session.add(ImproveSubmissionRow(**submission.__dict__))
    session.flush()


def admit_and_record(
    session: Session,
    *,
    account_id: int,
    key_id: str,
    image: bytes,
    tag: str | None,
    filename: str | None,
    now: datetime,
) -> Submission:
    """`new_submission` then `admit`, for callers that keep no file (tests, tools)."""
    submission = new_submission(account_id, key_id, image, tag, filename, now)
    admit(session, submission)
    return submission


def _from_row(row: ImproveSubmissionRow) -> Submission:
    return Submission(
        id=row.id,
        account_id=row.account_id,
        key_id=row.key_id,
        at=row.at,
        tag=row.tag,
        filename=row.filename,
        stored_name=row.stored_name,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
    )


def list_submissions(
    session: Session,
    *,
    account_id: int | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Submission]:
    """Submissions, oldest first; optionally one account's, since a time, at most `limit`."""
    query = select(ImproveSubmissionRow).order_by(ImproveSubmissionRow.at, ImproveSubmissionRow.id)
    if account_id is not None:
        query = query.where(ImproveSubmissionRow.account_id == account_id)
    if since is not None:
        query = query.where(ImproveSubmissionRow.at >= since)
    if limit is not None:
        query = query.limit(limit)
    return [_from_row(row) for row in session.scalars(query)]
