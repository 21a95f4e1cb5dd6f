"""Shared fixtures: the real u2netp model (pulled once, kept between runs), real photos."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bgone.inference import provision
from bgone.inference.catalog import find_model
from bgone.inference.engine_config import EngineConfig
from bgone.inference.pipeline import Remover
from bgone.settings import Settings
from tests.support.environment import DATASETS, REPO, require, skipped_in_ci
from tests.support.markers import mark_real_parts

pytest_plugins = ["tests.support.db_fixtures", "tests.support.fixtures"]
__all__ = ["REPO", "require"]  # older tests import them from here


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_real_parts(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    if skipped_in_ci(report):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which counts as a failure: {report.longrepr}"
    return report


@pytest.fixture(scope="session")
def model_dir() -> Path:
    directory = Path(
        os.environ.get("BGONE_TEST_MODEL_DIR", Path.home() / ".cache" / "bgone" / "test-models")
    )
    provision.pull(find_model("u2netp", directory), directory)
    return directory


@pytest.fixture(scope="session")
def engine_settings(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"), model_dir=model_dir, intra_op_threads=2
    )


@pytest.fixture(scope="session")
def remover(engine_settings: Settings) -> Remover:
    return Remover(EngineConfig.from_settings(engine_settings))


@pytest.fixture(scope="session")
def datasets() -> Path:
    require(
        (DATASETS / "ecssd50" / "manifest.csv").exists(), f"shared datasets not found at {DATASETS}"
    )
    return DATASETS


@pytest.fixture(scope="session")
def person_jpeg(datasets: Path) -> bytes:
    """ECSSD 0001: a person, 267x400, with a binary ground-truth mask."""
    return (datasets / "ecssd50" / "images" / "0001.jpg").read_bytes()


@pytest.fixture(scope="session")
def person_mask(datasets: Path) -> Path:
    return datasets / "ecssd50" / "masks" / "0001.png"
