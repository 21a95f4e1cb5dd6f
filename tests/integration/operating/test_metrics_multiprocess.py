"""prometheus_client's multiprocess mode (BGONE_METRICS_MULTIPROCESS_DIR): a real `bgone
serve` and two other processes write their values to one directory, and one scrape of the
server sums all three; Prometheus' own text parser reads the answer."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.environment import REPO
from tests.support.imagegen import encode, gradient_rgb
from tests.support.process import free_port
from tests.support.servers import stack_fixture
from tests.support.stack import Server, Stack

multiprocess_stack = stack_fixture("multiprocess_stack")

# Another process of the same server: counts `requests` answers of GET /writer.
WRITER = """
import sys
from pathlib import Path
from bgone.infra import metrics
metrics.use_multiprocess(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    metrics.observe_request("GET /writer", 200, "", 0.01)
"""


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("metrics-multiprocess")


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(
    model_dir: Path, multiprocess_stack: Stack, metrics_port: int, shared_dir: Path
) -> Iterator[Server]:
    running = multiprocess_stack.start_server(
        metrics_port=str(metrics_port),
        metrics_multiprocess_dir=str(shared_dir),
        serve_jobs="off",  # batch-job items run on the `bgone worker` of the test below only
    )
    try:
        yield running
    finally:
        running.stop()


def write_from_another_process(directory: Path, requests: int) -> None:
    environment = {"PYTHONPATH": f"{REPO / 'src'}:{REPO / 'client' / 'src'}", "PATH": "/usr/bin"}
    subprocess.run(
        [sys.executable, "-c", WRITER, str(directory), str(requests)],
        check=True,
        env=environment,
        timeout=120,
    )


def requests_counted(port: int, endpoint: str) -> float:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
    assert answer.status_code == 200
    total = 0.0
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "bgone_requests_total" and sample.labels["endpoint"] == endpoint:
                total += sample.value
    return total


def test_one_scrape_sums_every_process(
    server: Server, multiprocess_stack: Stack, metrics_port: int, shared_dir: Path
) -> None:
    key = multiprocess_stack.key(multiprocess_stack.account("business"))
    for _ in range(3):
        answer = httpx.get(server.base_url + "/v1.0/account", headers={"X-Api-Key": key})
        assert answer.status_code == 200
    write_from_another_process(shared_dir, 5)
    write_from_another_process(shared_dir, 2)

    assert requests_counted(metrics_port, "GET /writer") == 7
    assert requests_counted(metrics_port, "GET /v1.0/account") == 3
    # Each process keeps its own file in the shared directory.
    assert len(list(shared_dir.glob("counter_*.db"))) == 3


def credits_charged(port: int) -> float:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "bgone_credits_charged_total":
                return sample.value
    return 0.0


def test_a_workers_charges_are_in_the_replicas_scrape(
    server: Server, multiprocess_stack: Stack, metrics_port: int, shared_dir: Path
) -> None:
    """A real `bgone worker` on the same database, queue and directory runs a batch job's
    items: the API replica's scrape counts the credits the worker charged."""
    before = credits_charged(metrics_port)
    worker = multiprocess_stack.start_worker(metrics_multiprocess_dir=str(shared_dir))
    try:
        key = multiprocess_stack.key(multiprocess_stack.account("business"))
        headers = {"x-api-key": key}
        image = encode(gradient_rgb(40, 30), "PNG")
        submitted = httpx.post(
            server.base_url + "/v1/jobs",
            headers=headers,
            files=[("image_file", ("a.png", image, "image/png"))] * 2,
            data={"size": "full"},
            timeout=30,
        )
        assert submitted.status_code == 202, submitted.text
        status_url = server.base_url + f"/v1/jobs/{submitted.json()['id']}"
        for _ in range(600):
            job = httpx.get(status_url, headers=headers, timeout=30).json()
            if job["state"] == "completed":
                break
            time.sleep(0.1)
        assert job["state"] == "completed" and job["counts"]["succeeded"] == 2
    finally:
        worker.stop()
    assert credits_charged(metrics_port) - before == 2
