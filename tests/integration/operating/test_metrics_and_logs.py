"""Metrics and logs of a real `bgone serve`: /metrics on its own port behind a token, the
counters moved by exactly the requests made, the dashboard's metrics all present, and one
JSON log line per request carrying the request id, as the engine's lines do."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bgone.security.keys import Environment, generate_key
from tests.support.imagegen import encode, gradient_rgb
from tests.support.process import free_port
from tests.support.servers import stack_fixture
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
TOKEN = "scrape-secret-for-tests"
DASHBOARD = Path(__file__).parents[3] / "deploy" / "grafana-dashboard.json"

metrics_stack = stack_fixture("metrics_stack")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def metrics_server(model_dir: Path, metrics_stack: Stack, metrics_port: int) -> Iterator[Server]:
    running = metrics_stack.start_server(
        metrics_port=str(metrics_port),
        metrics_token=TOKEN,
        log_format="json",
        log_level="debug",
        # The image_url removal fetches from the test's own server on loopback.
        url_fetch_allowed_networks="127.0.0.1/32",
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def key(metrics_stack: Stack) -> str:
    return metrics_stack.key(metrics_stack.account("business"))


class _Photo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(SMALL_PNG)))
        self.end_headers()
        self.wfile.write(SMALL_PNG)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def photo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Photo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/photo.png"
    finally:
        server.shutdown()
        server.server_close()


def scrape_text(port: int, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=10)


def scrape(port: int) -> Samples:
    """Every sample, parsed by prometheus_client's own text-format parser."""
    response = scrape_text(port)
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def remove(server: Server, key: str, **data: str) -> httpx.Response:
    files = None if "image_url" in data else {"image_file": SMALL_PNG}
    return httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files=files,
        data=data,
        timeout=120,
    )


def test_metrics_need_the_token_and_are_not_on_the_api_port(
    metrics_server: Server, metrics_port: int
) -> None:
    assert scrape_text(metrics_port, token=None).status_code == 401
    assert scrape_text(metrics_port, token="wrong").status_code == 401
    assert scrape_text(metrics_port).status_code == 200
    assert httpx.get(metrics_server.base_url + "/metrics", timeout=10).status_code == 404


def test_counters_move_by_exactly_the_requests_made(
    metrics_server: Server, metrics_port: int, key: str, photo_url: str
) -> None:
    before = scrape(metrics_port)
    removed = [remove(metrics_server, key), remove(metrics_server, key, image_url=photo_url)]
    assert [r.status_code for r in removed] == [200, 200], [r.text for r in removed]
    unknown = remove(metrics_server, generate_key(Environment.PRODUCTION))
    assert unknown.status_code == 401
    bad = remove(metrics_server, key, size="enormous")
    assert bad.status_code == 400
    bad_code = bad.json()["error"]["code"]
    after = scrape(metrics_port)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "bgone_requests_total"
    assert delta(requests, endpoint="POST /v2", status="200", code="") == 2
    assert delta(requests, endpoint="POST /v2", status="401", code="invalid_api_key") == 1
    assert delta(requests, endpoint="POST /v2", status="400", code=bad_code) == 1
    moved = {labels for (name, labels) in after if name == requests and delta(name, **dict(labels))}
    assert len(moved) == 3, moved  # nothing else moved: scrapes are not requests of the API
    assert delta("bgone_request_seconds_count", endpoint="POST /v2") == 4
    assert delta("bgone_stage_seconds_count", stage="inference", model="u2netp") == 2
    for stage in ("queue_wait", "decode", "encode"):
        assert delta("bgone_stage_seconds_count", stage=stage, model="") == 2, stage
    assert delta("bgone_stage_seconds_count", stage="download", model="") == 1
    charged = sum(float(r.headers["x-credits-charged"]) for r in removed)
    assert charged > 0
    assert delta("bgone_credits_charged_total") == pytest.approx(charged)
    assert value(after, "bgone_pool_size", pool="inference") > 0
    assert value(after, "bgone_pool_in_use", pool="inference") == 0
    assert value(after, "bgone_usage_spool_rows") == 0


def dashboard_metric_names() -> set[str]:
    document = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"] for panel in document["panels"] for target in panel.get("targets", [])
    ]
    assert expressions
    return {name for expr in expressions for name in re.findall(r"\bbgone_[a-z_]+\b", expr)}


def test_every_metric_the_dashboard_queries_is_in_a_real_scrape(
    metrics_server: Server, metrics_port: int, key: str
) -> None:
    assert remove(metrics_server, key).status_code == 200
    scraped = {name for name, _ in scrape(metrics_port)}
    wanted = dashboard_metric_names()
    assert len(wanted) >= 10
    assert wanted <= scraped, wanted - scraped


def test_one_json_line_per_request_and_the_engines_lines_carry_its_id(
    metrics_server: Server, key: str
) -> None:
    response = remove(metrics_server, key)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    lines = []
    for text in metrics_server.log().splitlines():
        if text.startswith("{"):
            document = json.loads(text)
            if document["request_id"] == request_id:
                lines.append(document)
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 1, lines
    line = requests[0]
    assert line["endpoint"] == "POST /v2"
    assert line["status"] == 200
    assert line["code"] is None
    assert line["key_id"]
    assert key not in json.dumps(line)
    assert isinstance(line["account_id"], int)
    assert line["duration_ms"] > 0
    assert {"queue_wait", "decode", "inference", "encode"} <= set(line["timings_ms"])
    engine = [entry for entry in lines if entry["logger"] == "bgone.inference.pipeline"]
    assert len(engine) == 1, lines
    # uvicorn's access log is off: its lines would name the path without the request id.
    assert '"logger": "uvicorn.access"' not in metrics_server.log()
