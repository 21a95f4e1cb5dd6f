"""`/v1/jobs` in process: a real Huey consumer on SQLite (the embedded default) runs the items
through the removal use case with the fake engine; decoding is real, so a corrupt image fails."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import CreditPeriodRow, JobRow, UsageRecordRow
from bgone.domain import accounts
from bgone.domain.plan_limits import LimitChanges
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess, assert_error, in_process_app

PNG = encode(gradient_rgb(16, 12), "PNG")
CORRUPT = PNG[:40]


def wait_for_end(app: InProcess, key: str, job_id: str) -> dict[str, Any]:
    for _ in range(200):
        job: dict[str, Any] = app.client.get(
            f"/v1/jobs/{job_id}", headers={"x-api-key": key}
        ).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never ended: {job}")


def submit(
    app: InProcess, key: str, files: list[tuple[str, tuple[str, bytes, str]]], **data: str
) -> Any:
    return app.client.post("/v1/jobs", headers={"x-api-key": key}, files=files, data=data)


def usage_rows(app: InProcess, account_id: int) -> list[UsageRecordRow]:
    with transaction(app.stack.sessions) as session:
        rows = session.scalars(
            select(UsageRecordRow).where(
                UsageRecordRow.account_id == account_id, UsageRecordRow.endpoint == "jobs"
            )
        ).all()
        session.expunge_all()
        return list(rows)


def test_items_run_fail_alone_and_are_charged_once_each(app: InProcess) -> None:
    account_id = app.stack.account("business")
    key = app.stack.key(account_id)
    files = [
        ("image_file", ("first.png", PNG, "image/png")),
        ("image_file", ("broken.png", CORRUPT, "image/png")),
        ("image_file", ("third.png", PNG, "image/png")),
    ]
    answer = submit(app, key, files, size="full")
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert answer.headers["location"] == accepted["status_url"] == f"/v1/jobs/{accepted['id']}"
    assert (accepted["admitted"], accepted["refused"], accepted["credits_reserved"]) == (3, 0, 3)

    job = wait_for_end(app, key, accepted["id"])

    assert job["state"] == "completed"
    assert job["counts"] | {} == {
        "total": 3,
        "queued": 0,
        "running": 0,
        "succeeded": 2,
        "failed": 1,
        "cancelled": 0,
    }
    assert job["progress"] == 1.0
    states = [
        (item["index"], item["state"], item["error_code"], item["credits_charged"])
        for item in job["items"]
    ]
    assert states == [
        (0, "succeeded", None, 1.0),
        (1, "failed", "failed_to_read_image", 0.0),
        (2, "succeeded", None, 1.0),
    ]
    rows = usage_rows(app, account_id)
    assert sorted(
        (row.request_id.rsplit("-", 1)[1], row.status, row.credits_milli) for row in rows
    ) == [
        ("0", 200, 1000),
        ("1", 400, 0),
        ("2", 200, 1000),
    ]
    with transaction(app.stack.sessions) as session:
        period = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == account_id)
        ).one()
        assert (period.used_milli, period.reserved_milli) == (2000, 0)

    one = app.client.get(job["items"][0]["result_url"], headers={"x-api-key": key})
    assert one.status_code == 200 and one.content.startswith(b"\x89PNG")
    assert_error(
        app.client.get(f"/v1/jobs/{job['id']}/items/1", headers={"x-api-key": key}),
        409,
        "job_item_not_ready",
    )

    archive = app.client.get(f"/v1/jobs/{job['id']}/results.zip", headers={"x-api-key": key})
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert opened.namelist() == ["0000-first.png", "0002-third.png", "errors.json"]
        errors = json.loads(opened.read("errors.json"))
        assert opened.read("0000-first.png") == one.content
    assert [(e["index"], e["code"]) for e in errors] == [(1, "failed_to_read_image")]


def test_another_accounts_job_is_not_found(app: InProcess) -> None:
    owner = app.stack.key(app.stack.account("business"))
    stranger = app.stack.key(app.stack.account("business"))
    job_id = submit(app, owner, [("image_file", ("a.png", PNG, "image/png"))]).json()["id"]
    wait_for_end(app, owner, job_id)
    headers = {"x-api-key": stranger}
    for path in ("", "/results.zip", "/items/0"):
        assert_error(
            app.client.get(f"/v1/jobs/{job_id}{path}", headers=headers), 404, "job_not_found"
        )
    assert_error(app.client.delete(f"/v1/jobs/{job_id}", headers=headers), 404, "job_not_found")
    listed = app.client.get("/v1/jobs", headers=headers).json()
    assert listed["jobs"] == []
    mine = app.client.get("/v1/jobs", headers={"x-api-key": owner}).json()
    assert [job["id"] for job in mine["jobs"]] == [job_id]


def test_a_job_beyond_the_credits_is_refused_whole(app: InProcess) -> None:
    account_id = app.stack.account("business", monthly_credits_milli=2000)
    key = app.stack.key(account_id)
    files = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(3)]
    assert_error(submit(app, key, files, size="full"), 402, "insufficient_credits")
    with transaction(app.stack.sessions) as session:
        assert session.scalars(select(JobRow).where(JobRow.account_id == account_id)).all() == []
        periods = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == account_id)
        ).all()
        assert all(period.reserved_milli == 0 for period in periods)
    assert usage_rows(app, account_id) == []


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_entries_that_are_odd_fail_alone(app: InProcess) -> None:
    key = app.stack.key(app.stack.account("business"))
    bomb = b"\x89PNG\r\n\x1a\n" + bytes(60 * 1024 * 1024)
    archive = zipped(
        {
            "good.png": PNG,
            "folder/nested.png": PNG,
            "../escape.png": PNG,
            "notes.txt": b"hello, not an image",
            "bomb.png": bomb,
            "__MACOSX/._good.png": b"clutter",
        },
        zipfile.ZIP_DEFLATED,
    )
    answer = submit(app, key, [("image_zip", ("photos.zip", archive, "application/zip"))])
    assert answer.status_code == 202, answer.text
    assert (answer.json()["admitted"], answer.json()["refused"]) == (1, 4)
    job = wait_for_end(app, key, answer.json()["id"])
    codes = [(item["name"], item["state"], item["error_code"]) for item in job["items"]]
    assert codes == [
        ("good", "succeeded", None),
        ("nested", "failed", "invalid_zip_entry"),
        ("escape", "failed", "invalid_zip_entry"),
        ("notes", "failed", "invalid_file_type"),
        ("bomb", "failed", "file_too_large"),
    ]


def test_bad_submissions_get_clear_codes(app: InProcess) -> None:
    key = app.stack.key(app.stack.account("business"))
    headers = {"x-api-key": key}
    assert_error(
        app.client.post("/v1/jobs", headers=headers, json={"image_urls": []}), 400, "missing_source"
    )
    assert_error(
        submit(app, key, [("image_zip", ("x.zip", b"not a zip", "application/zip"))]),
        400,
        "invalid_zip",
    )
    bad_size = submit(app, key, [("image_file", ("a.png", PNG, "image/png"))], size="huge")
    assert bad_size.status_code == 400
    assert bad_size.json()["errors"][0]["code"] == "invalid_size"
    many = {"image_urls": [f"https://example.com/{n}.png" for n in range(1001)]}
    assert_error(app.client.post("/v1/jobs", headers=headers, json=many), 413, "too_many_job_items")


def test_an_item_past_the_plans_megapixels_fails_resolution_too_high(app: InProcess) -> None:
    account_id = app.stack.account("business")
    with transaction(app.stack.sessions) as session:
        accounts.set_limits(session, account_id, LimitChanges(max_megapixels=0.0001))
    key = app.stack.key(account_id)
    job_id = submit(app, key, [("image_file", ("big.png", PNG, "image/png"))]).json()["id"]
    job = wait_for_end(app, key, job_id)
    assert [(i["state"], i["error_code"]) for i in job["items"]] == [
        ("failed", "resolution_too_high")
    ]
    assert [(row.status, row.credits_milli) for row in usage_rows(app, account_id)] == [(400, 0)]


def test_a_finished_job_is_told_once_to_the_callbacks(app: InProcess) -> None:
    services = app.client.app.state.services  # type: ignore[attr-defined]
    told: list[Any] = []
    services.job_finished_callbacks.append(told.append)
    try:
        key = app.stack.key(app.stack.account("business"))
        files = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(3)]
        job_id = submit(app, key, files).json()["id"]
        wait_for_end(app, key, job_id)
        for _ in range(100):  # told after the job's row says completed
            if any(summary.job_id == job_id for summary in told):
                break
            time.sleep(0.02)
    finally:
        services.job_finished_callbacks.remove(told.append)
    mine = [summary for summary in told if summary.job_id == job_id]
    assert len(mine) == 1
    assert (mine[0].state, mine[0].succeeded, mine[0].failed) == ("completed", 3, 0)


def test_the_webhook_url_is_kept_on_the_job(app: InProcess) -> None:
    key = app.stack.key(app.stack.account("business"))
    url = "https://shop.example/hooks/bgone"
    image = [("image_file", ("a.png", PNG, "image/png"))]
    # Only one of the account's registered endpoints: never an arbitrary address.
    assert_error(submit(app, key, image, webhook_url=url), 400, "invalid_webhook_url")
    registered = app.client.post(
        "/v1/webhooks",
        headers={"x-api-key": key},
        json={"url": url, "event_types": ["job.completed"]},
    )
    assert registered.status_code == 201, registered.text
    job_id = submit(app, key, image, webhook_url=url)
    job = wait_for_end(app, key, job_id.json()["id"])
    assert job["webhook_url"] == url
    for bad in ("ftp://shop.example/x", "https://" + "a" * 2050 + ".example"):
        refused = submit(app, key, image, webhook_url=bad)
        assert_error(refused, 400, "invalid_request")


def test_an_account_over_its_rate_is_paced_not_failed(app: InProcess) -> None:
    account_id = app.stack.account("business", rate_per_minute=1)
    key = app.stack.key(account_id)
    files = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(2)]
    answer = submit(app, key, files)
    assert answer.status_code == 202  # the per-minute rate is not counted at admission
    job_id = answer.json()["id"]
    for _ in range(200):
        job = app.client.get(f"/v1/jobs/{job_id}", headers={"x-api-key": key}).json()
        if job["counts"]["succeeded"] == 1 and job["counts"]["queued"] == 1:
            break
        time.sleep(0.05)
    assert job["counts"] | {} == {
        "total": 2, "queued": 1, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 0
    }  # fmt: skip
    waiting = [row for row in usage_rows(app, account_id) if row.status == 0]
    assert len(waiting) == 1  # still reserved, to run once the minute has passed
    cancelled = app.client.delete(f"/v1/jobs/{job_id}", headers={"x-api-key": key}).json()
    assert cancelled["counts"]["cancelled"] == 1


def test_uploads_stream_to_the_job_folder_and_an_oversized_one_fails_alone(
    tmp_path: Path,
) -> None:
    with in_process_app(tmp_path, max_upload_bytes=64 * 1024, job_max_items=3) as small:
        key = small.stack.key(small.stack.account("business"))
        oversized = PNG + bytes(70 * 1024)
        files = [
            ("image_file", ("fine.png", PNG, "image/png")),
            ("image_file", ("huge.png", oversized, "image/png")),
        ]
        answer = submit(small, key, files)
        assert answer.status_code == 202, answer.text
        assert (answer.json()["admitted"], answer.json()["refused"]) == (1, 1)
        job = wait_for_end(small, key, answer.json()["id"])
        assert [(i["state"], i["error_code"]) for i in job["items"]] == [
            ("succeeded", None),
            ("failed", "file_too_large"),
        ]
        staged = tmp_path / "results" / "jobs" / job["id"] / "in"
        assert sorted(p.name for p in staged.iterdir()) == ["0000.src"]
        four = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(4)]
        assert_error(submit(small, key, four), 413, "too_many_job_items")
        both = [*files[:1], ("image_zip", ("x.zip", zipped({"a.png": PNG}), "application/zip"))]
        assert_error(submit(small, key, both), 400, "multiple_sources")
        unbounded = small.client.post(
            "/v1/jobs",
            headers={"x-api-key": key, "content-type": "multipart/form-data; boundary=xyz"},
            content=b"--xyz\r\nnonsense",
        )
        assert unbounded.status_code == 400
        assert not [p for p in (tmp_path / "results" / "jobs").iterdir() if p.name != job["id"]]


def test_a_queue_away_at_admission_keeps_the_admitted_job_and_its_files(app: InProcess) -> None:
    services = app.client.app.state.services  # type: ignore[attr-defined]
    working = services.jobs.enqueue

    def away(job_id: str, index: int) -> None:
        raise ConnectionError("the task queue is away")

    services.jobs.enqueue = away
    try:
        key = app.stack.key(app.stack.account("business"))
        answer = submit(app, key, [("image_file", ("a.png", PNG, "image/png"))])
    finally:
        services.jobs.enqueue = working
    assert answer.status_code == 202, answer.text
    job = app.client.get(f"/v1/jobs/{answer.json()['id']}", headers={"x-api-key": key}).json()
    assert job["items"][0]["state"] == "queued"  # the reaper sends it again later
    assert services.job_inputs.inputs(job["id"]).joinpath("0000.src").exists()


def test_an_idempotency_key_gets_the_first_job_back_and_no_second_job(app: InProcess) -> None:
    account_id = app.stack.account("business")
    key = app.stack.key(account_id)
    image = [("image_file", ("a.png", PNG, "image/png"))]

    def post(files: list[tuple[str, tuple[str, bytes, str]]], retry_key: str) -> Any:
        return app.client.post(
            "/v1/jobs",
            headers={"x-api-key": key, "Idempotency-Key": retry_key},
            files=files,
            data={"size": "preview"},
        )

    first = post(image, "job-retry-1")
    assert first.status_code == 202, first.text
    again = post([("image_file", ("renamed.png", PNG, "image/png"))], "job-retry-1")
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]  # the same job, not a second one
    other = encode(gradient_rgb(12, 9), "PNG")
    changed = post([("image_file", ("a.png", other, "image/png"))], "job-retry-1")
    assert_error(changed, 422, "idempotency_key_reused")
    with transaction(app.stack.sessions) as session:
        jobs_made = session.scalars(select(JobRow).where(JobRow.account_id == account_id)).all()
    assert len(jobs_made) == 1


def test_a_jobs_items_come_a_page_at_a_time(app: InProcess) -> None:
    key = app.stack.key(app.stack.account("business"))
    files = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(3)]
    job_id = submit(app, key, files).json()["id"]
    wait_for_end(app, key, job_id)
    url, headers = f"/v1/jobs/{job_id}", {"x-api-key": key}
    whole = app.client.get(url, headers=headers).json()
    assert [item["index"] for item in whole["items"]] == [0, 1, 2]  # default: the first 100
    first = app.client.get(url, headers=headers, params={"items_limit": 2}).json()
    assert [item["index"] for item in first["items"]] == [0, 1]
    assert first["counts"]["succeeded"] == 3  # the counts are the whole job's
    rest = app.client.get(url, headers=headers, params={"items_offset": 2}).json()
    assert [item["index"] for item in rest["items"]] == [2]
    too_many = app.client.get(url, headers=headers, params={"items_limit": 1001})
    assert_error(too_many, 400, "invalid_request")
