"""/docs/teams: roles, invitations, two-factor and deletion explained, and the permission table
read from the one the server enforces (bgone.domain.roles.GRANTS)."""

from __future__ import annotations

import re

from bgone.domain.roles import GRANTS, KeyScope, Permission, Role
from bgone.web.docs_teams import COLUMNS, PERMISSION_TEXT
from tests.unit.inprocess import InProcess


def test_the_page_shows_the_enforced_permission_table(app: InProcess) -> None:
    response = app.client.get("/docs/teams")
    assert response.status_code == 200, response.text
    html = response.text
    table = html[html.index('data-testid="permission-table"') : html.index("</table>")]
    rows = re.findall(r"<tr><td class=\"card-head\">(.*?)</td>(.*?)</tr>", table, re.DOTALL)
    assert len(rows) == len(Permission)
    for (text, cells), permission in zip(rows, Permission, strict=True):
        assert text == PERMISSION_TEXT[permission].replace("'", "&#39;")
        shown = ["yes" in cell for cell in re.findall(r"<td data-label=[^>]*>(.*?)</td>", cells)]
        assert shown == [permission in GRANTS[caller] for caller, _ in COLUMNS]
    # Spot checks against the roles, in case the table and the code drift together.
    viewer_column = [caller for caller, _ in COLUMNS].index(Role.VIEWER)
    keys_row = rows[list(Permission).index(Permission.VIEW_KEYS)]
    assert "yes" not in re.findall(r"<td data-label=[^>]*>(.*?)</td>", keys_row[1])[viewer_column]
    assert Permission.DELETE_ACCOUNT not in GRANTS[Role.ADMIN]
    assert Permission.MANAGE_ANY_KEY not in GRANTS[KeyScope.REMOVE]
    for words in ("single-use link", "7 days", "BGONE_PUBLIC_URL", "Transfer ownership",
                  "insufficient_role", "require it of every"):  # fmt: skip
        assert words in html, words
    assert "style=" not in html and "<script>" not in html
    assert 'href="/docs/teams"' in app.client.get("/docs").text
