"""/docs/webhooks: every event type with its data fields, the verification example, the
schedule from the code; no inline scripts or styles."""

from __future__ import annotations

from bgone.domain.webhook_events import EventType
from bgone.web.docs_webhooks import retry_schedule
from tests.unit.inprocess import InProcess


def test_the_page_lists_every_event_and_how_to_verify(app: InProcess) -> None:
    response = app.client.get("/docs/webhooks")
    assert response.status_code == 200, response.text
    html = response.text
    for event in EventType:
        assert f"<code>{event.value}</code>" in html
    assert "<code>days_before</code>: int" in html
    assert "from standardwebhooks.webhooks import Webhook" in html
    assert retry_schedule() in html and retry_schedule().startswith("1 min, 5 min")
    assert "style=" not in html and "<script>" not in html
    assert 'href="/docs/webhooks"' in app.client.get("/docs").text
