"""/docs/leaked-keys: the endpoint, the real key pattern and what registering it takes."""

from __future__ import annotations

import re

from bgone.security.keys import parse_key
from tests.unit.inprocess import InProcess


def test_the_page_documents_the_endpoint_and_the_pattern(app: InProcess) -> None:
    response = app.client.get("/docs/leaked-keys")
    assert response.status_code == 200, response.text
    html = response.text
    assert "POST /v1/keys/leaked" in html
    assert "bgone_(live|test)_[0-9A-Za-z]{38}" in html
    assert "/v1/keys/leaked</code></pre>" in html  # the URL to give GitHub
    assert "This server does not check the signature" in html  # no keys configured here
    assert "BGONE_LEAK_REPORT_PUBLIC_KEYS" in html
    assert "gitleaks" in html and "trufflehog" in html
    assert "style=" not in html and "<script>" not in html
    # The example key is well-formed: a reader's copy is answered like any report.
    example = re.search(
        r'-d \'\[&#34;(bgone_live_\w+)&#34;\]\'|-d \'\["(bgone_live_\w+)"\]\'', html
    )
    assert example is not None
    parse_key(example[1] or example[2])
    assert 'href="/docs/leaked-keys"' in app.client.get("/docs").text
