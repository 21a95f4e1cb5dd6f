"""The dashboard's batch jobs page lists the signed-in account's jobs with their progress,
and no other account's."""

from __future__ import annotations

from pathlib import Path

from bgone.db.engine import transaction
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.api.routes.test_jobs import wait_for_end
from tests.unit.inprocess import in_process_app

PNG = encode(gradient_rgb(16, 12), "PNG")


def test_the_page_shows_the_accounts_jobs_with_their_progress(tmp_path: Path) -> None:
    with in_process_app(tmp_path) as app:
        account_id = app.stack.account("business")
        key = app.stack.key(account_id)
        files = [("image_file", (f"{n}.png", PNG, "image/png")) for n in range(2)]
        job_id = app.client.post("/v1/jobs", headers={"x-api-key": key}, files=files).json()["id"]
        wait_for_end(app, key, job_id)
        stranger = app.stack.account("business")
        with transaction(app.stack.sessions) as session:
            mine, _ = start_session(session, account_id, None)
            theirs, _ = start_session(session, stranger, None)
        app.client.cookies.set(COOKIE_NAME, mine)
        page = app.client.get("/account/jobs")
        app.client.cookies.set(COOKIE_NAME, theirs)
        other = app.client.get("/account/jobs")
    assert page.status_code == 200
    assert f'data-job-id="{job_id}"' in page.text
    assert '<td data-testid="job-state">completed</td>' in page.text
    assert '<span data-testid="job-progress">100%</span>' in page.text
    assert 'http-equiv="refresh"' not in page.text  # nothing left open
    assert job_id not in other.text and 'data-testid="no-jobs"' in other.text
