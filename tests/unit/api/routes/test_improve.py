"""remove.bg's /v1.0/improve, in process: stored for the operator, free, within remove.bg's
limits, in remove.bg's dialect."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import CreditPeriodRow, ImproveSubmissionRow
from bgone.domain import improve
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess, assert_error

PHOTO = encode(gradient_rgb(32, 24), "JPEG")


def stored(app: InProcess, submission_id: str) -> tuple[ImproveSubmissionRow, Path]:
    with transaction(app.stack.sessions) as session:
        row = session.get(ImproveSubmissionRow, submission_id)
        assert row is not None
        session.expunge(row)
    data_dir: Path = app.client.app.state.services.settings.data_dir  # type: ignore[attr-defined]
    return row, data_dir / "improve" / row.stored_name


def test_a_submission_is_stored_privately_with_its_tag_and_answers_its_id(
    app: InProcess, key: str
) -> None:
    response = app.client.post(
        "/v1.0/improve",
        headers={"X-Api-Key": key},
        files={"image_file": ("cat.jpg", PHOTO)},
        data={"tag": "fur edges", "image_filename": "cat.jpg"},
    )
    assert response.status_code == 200, response.text
    (submission_id,) = response.json().values()
    assert set(response.json()) == {"id"}
    row, path = stored(app, submission_id)
    assert (row.tag, row.filename, row.size_bytes) == ("fur edges", "cat.jpg", len(PHOTO))
    assert path.read_bytes() == PHOTO
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert response.headers.get("x-credits-charged") is None
    with transaction(app.stack.sessions) as session:  # free: nothing reserved or used
        periods = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == row.account_id)
        ).all()
        assert all(period.used_milli == period.reserved_milli == 0 for period in periods)


@pytest.mark.parametrize("field", ["image_file_b64", "image_base64"])
def test_base64_sources_are_taken_as_json_too(app: InProcess, key: str, field: str) -> None:
    response = app.client.post(
        "/v1.0/improve",
        headers={"X-Api-Key": key},
        json={field: base64.b64encode(PHOTO).decode(), "tag": "t"},
    )
    assert response.status_code == 200, response.text
    row, path = stored(app, response.json()["id"])
    assert path.name.endswith(".jpg") and row.tag == "t"


def test_refusals_speak_remove_bgs_dialect(app: InProcess, key: str) -> None:
    assert_error(
        app.client.post("/v1.0/improve", files={"image_file": PHOTO}), 403, "missing_api_key"
    )
    assert_error(
        app.client.post("/v1.0/improve", headers={"X-Api-Key": key}, data={"tag": "x"}),
        400,
        "missing_source",
    )
    assert_error(
        app.client.post(
            "/v1.0/improve", headers={"X-Api-Key": key}, files={"image_file": b"GIF89a...."}
        ),
        415,
        "invalid_file_type",
    )


def test_twelve_megabytes_at_most(app: InProcess, key: str) -> None:
    too_big = PHOTO + b"\0" * improve.MAX_BYTES
    response = app.client.post(
        "/v1.0/improve", headers={"X-Api-Key": key}, files={"image_file": too_big}
    )
    assert_error(response, 413, "file_too_large")


def test_past_the_daily_limit_429_improve_limit_exceeded(
    app: InProcess, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(improve.DAILY_LIMITS_BY_PLAN, "business", 1)
    first = app.client.post(
        "/v1.0/improve", headers={"X-Api-Key": key}, files={"image_file": PHOTO}
    )
    assert first.status_code == 200, first.text
    refused = app.client.post(
        "/v1.0/improve", headers={"X-Api-Key": key}, files={"image_file": PHOTO}
    )
    assert_error(refused, 429, "improve_limit_exceeded")
    assert 0 < int(refused.headers["retry-after"]) <= 86_400
    data_dir: Path = app.client.app.state.services.settings.data_dir  # type: ignore[attr-defined]
    with transaction(app.stack.sessions) as session:
        rows = session.scalars(select(ImproveSubmissionRow.stored_name)).all()
    # The refused one left no file behind.
    assert sorted(p.name for p in (data_dir / "improve").iterdir()) == sorted(rows)
