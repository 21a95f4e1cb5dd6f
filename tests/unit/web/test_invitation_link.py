"""The invitation link shown once (no mail): from BGONE_PUBLIC_URL when it is set, whatever
Host header the request carried; shown on the page after the redirect, and never again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bgone.domain.roles import Role
from tests.support.teams import Team
from tests.unit.inprocess import InProcess, in_process_app

PUBLIC_URL = "https://bgone.example.test"
LINK = re.compile(r'data-testid="invite-link">([^<]+)<')


@pytest.fixture(scope="module")
def public_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    data_dir: Path = tmp_path_factory.mktemp("invite-public-url")
    with in_process_app(data_dir, public_url=PUBLIC_URL) as running:
        yield running


def test_the_shown_link_uses_the_public_url_not_the_host_header(public_app: InProcess) -> None:
    team = Team(public_app.stack)
    owner = team.session_of(team.owner)
    client = TestClient(public_app.client.app, base_url="http://evil.example")
    client.cookies.update(owner.cookies)
    answer = client.post(
        "/account/invitations",
        data={"email": "new@example.com", "role": Role.VIEWER.value, "csrf_token": owner.csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "invite" not in answer.headers["location"]
    shown = LINK.search(client.get(answer.headers["location"]).text)
    assert shown is not None and shown[1].startswith(PUBLIC_URL + "/invite/")
    assert LINK.search(client.get("/account").text) is None  # once
