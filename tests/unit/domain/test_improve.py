"""remove.bg's /v1.0/improve rules: a daily limit per account by plan, the image, the texts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import improve
from bgone.errors import ImproveLimitExceeded, InvalidFileType, InvalidRequest
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.domain.support import NOW, MakeAccount

PNG = encode(gradient_rgb(8, 6), "PNG")


def submit(sessions: SessionFactory, account_id: int, at: object = NOW) -> improve.Submission:
    with transaction(sessions) as session:
        return improve.admit_and_record(
            session,
            account_id=account_id,
            key_id="key_0000000000000000",
            image=PNG,
            tag="hair",
            filename="cat.png",
            now=at,  # type: ignore[arg-type]
        )


def test_the_daily_limit_is_100_and_1000_on_enterprise() -> None:
    assert improve.daily_limit("business") == 100
    assert improve.daily_limit("starter") == 100
    assert improve.daily_limit("enterprise") == 1000


def test_a_submission_is_recorded_with_its_file_name_and_digest(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    submission = submit(sessions, account.id)
    assert submission.id.startswith("imp_") and len(submission.id) == 20
    assert submission.stored_name == f"{submission.id}.png"
    assert (submission.tag, submission.filename, submission.size_bytes) == (
        "hair",
        "cat.png",
        len(PNG),
    )
    with transaction(sessions) as session:
        (listed,) = improve.list_submissions(session, account_id=account.id)
    assert listed == submission


def test_past_the_daily_limit_is_refused_until_the_next_utc_day(
    sessions: SessionFactory, make_account: MakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(improve.DAILY_LIMITS_BY_PLAN, "business", 2)
    account, other = make_account(), make_account()
    submit(sessions, account.id)
    submit(sessions, account.id, NOW + timedelta(hours=1))
    with pytest.raises(ImproveLimitExceeded) as refused:
        submit(sessions, account.id, NOW + timedelta(hours=2))
    midnight = NOW.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    assert refused.value.retry_after == int((midnight - (NOW + timedelta(hours=2))).total_seconds())
    assert refused.value.status == 429
    submit(sessions, other.id)  # another account's day is its own
    submit(sessions, account.id, midnight)  # a new day


def test_only_images_are_taken() -> None:
    with pytest.raises(InvalidFileType):
        improve.check_image(b"GIF89a....")
    assert improve.check_image(PNG) == "png"


def test_texts_are_bounded_and_cleaned() -> None:
    assert improve.clean_text("tag", "  hair \n") == "hair"
    assert improve.clean_text("tag", None) is None
    assert improve.clean_text("tag", "   ") is None
    with pytest.raises(InvalidRequest):
        improve.clean_text("tag", "x" * (improve.MAX_TEXT_LENGTH + 1))
