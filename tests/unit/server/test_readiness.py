"""`/readyz` and `/v2/health` of the app in process: database reachable, model loaded."""

from __future__ import annotations

from tests.unit.inprocess import InProcess


def test_ready_once_started_with_the_default_model_loaded(app: InProcess) -> None:
    response = app.client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["database"], body["models"]) == ("ready", "ok", ["u2netp"])
    assert set(body["pipeline"]) == {"pending", "workers", "queue_size"}
    assert body["best_quality_models"] == ["u2netp"]  # no isnet in the model directory


def test_liveness_needs_nothing(app: InProcess) -> None:
    assert app.client.get("/v2/health").json() == {"status": "ok"}
