"""`quality` through the three contracts, in process, with the fake engine: it reaches the
engine, comes back in `X-Quality`/`X-Quality-Models`, conflicts with an explicit model or
refinement, follows the operator's default, and `best` costs the operator's multiple."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bgone.api.contracts import RESULT_HEADERS
from bgone.inference.options import Quality
from tests.support.error_bodies import error_of
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.fakes import FAKE_BEST_MODELS
from tests.unit.inprocess import InProcess, in_process_app

PHOTO = encode(gradient_rgb(64, 48), "PNG")
# (path, file field, credits of the contract's default size at `fast`)
CONTRACTS = [("/v2", "image_file", 1.0), ("/v1/remove-bg", "file", 1.0)]
CONTRACTS += [("/v1.0/removebg", "image_file", 0.25)]
IDS = [contract[0] for contract in CONTRACTS]


def post(app: InProcess, key: str, path: str, field: str, **options: str) -> httpx.Response:
    return app.client.post(
        path, headers={"x-api-key": key}, files={field: ("a.png", PHOTO)}, data=options
    )


@pytest.mark.parametrize(("path", "field", "_credits"), CONTRACTS, ids=IDS)
def test_best_reaches_the_engine_and_comes_back_in_the_headers(
    app: InProcess, key: str, path: str, field: str, _credits: float
) -> None:
    response = post(app, key, path, field, Quality="BEST")  # any case, as every field
    assert response.status_code == 200, response.text
    assert app.remover.calls[-1].quality is Quality.BEST
    assert response.headers["x-quality"] == "best"
    assert response.headers["x-quality-models"] == ",".join(FAKE_BEST_MODELS)


@pytest.mark.parametrize(
    ("path", "field"), [("/v2", "image_base64"), ("/v1.0/removebg", "image_file_b64")]
)
def test_json_bodies_carry_quality_too(app: InProcess, key: str, path: str, field: str) -> None:
    body = {field: base64.b64encode(PHOTO).decode(), "quality": "best"}
    response = app.client.post(path, headers={"x-api-key": key}, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-quality"] == "best"
    assert app.remover.calls[-1].quality is Quality.BEST


def test_without_quality_fast_runs_and_every_result_header_is_there(
    app: InProcess, key: str
) -> None:
    response = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})
    assert response.status_code == 200, response.text
    assert app.remover.calls[-1].quality is Quality.FAST
    assert (response.headers["x-quality"], response.headers["x-quality-models"]) == (
        "fast",
        "u2netp",
    )
    assert {name.lower() for name in RESULT_HEADERS} <= set(response.headers)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"model": "u2netp"}, "model=u2netp"),
        ({"refinement": "guided"}, "refinement=guided"),
        ({"model": "isnet", "refinement": "raw"}, "model=isnet and refinement=raw"),
    ],
)
def test_best_with_an_explicit_model_or_refinement_is_refused(
    app: InProcess, key: str, options: dict[str, str], named: str
) -> None:
    calls = len(app.remover.calls)
    response = app.client.post(
        "/v2",
        headers={"x-api-key": key},
        files={"image_file": PHOTO},
        data={"quality": "best", **options},
    )
    assert named in invalid_quality(response)
    assert len(app.remover.calls) == calls  # refused before the engine runs


def invalid_quality(response: httpx.Response) -> str:
    """The detail of a 400 invalid_quality in the one error body."""
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error.code == "invalid_quality"
    return error.detail


def test_an_unknown_quality_is_invalid_quality(app: InProcess, key: str) -> None:
    response = app.client.post(
        "/v2", headers={"x-api-key": key}, files={"image_file": PHOTO}, data={"quality": "max"}
    )
    assert "fast, best" in invalid_quality(response)


@pytest.fixture(scope="module")
def operator_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """BGONE_DEFAULT_QUALITY=best, BGONE_BEST_QUALITY_CREDITS=2."""
    data_dir: Path = tmp_path_factory.mktemp("operator-quality")
    with in_process_app(data_dir, default_quality="best", best_quality_credits=2.0) as running:
        yield running


def test_the_operators_default_applies_unless_a_model_or_refinement_is_named(
    operator_app: InProcess,
) -> None:
    key = operator_app.stack.key(operator_app.stack.account("business"))
    expected = [({}, "best"), ({"refinement": "raw"}, "fast"), ({"model": "u2netp"}, "fast")]
    expected += [({"quality": "fast"}, "fast")]
    for options, quality in expected:
        response = post(operator_app, key, "/v2", "image_file", **options)
        assert response.status_code == 200, response.text
        assert response.headers["x-quality"] == quality, options
        assert operator_app.remover.calls[-1].quality is Quality(quality)


@pytest.mark.parametrize(("path", "field", "fast_credits"), CONTRACTS, ids=IDS)
def test_best_costs_the_operators_multiple(
    operator_app: InProcess, path: str, field: str, fast_credits: float
) -> None:
    key = operator_app.stack.key(operator_app.stack.account("business"))
    for quality, factor in (("best", 2.0), ("fast", 1.0)):
        response = post(operator_app, key, path, field, quality=quality)
        assert response.status_code == 200, response.text
        charged = response.headers["x-credits-charged"]
        assert float(charged) == fast_credits * factor
