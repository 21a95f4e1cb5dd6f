"""The sample photos shipped with the package (drawn by scripts/make_samples.py, no one's data).

They are the playground's examples and the default calibration set of `bgone models quantize`,
so they live with the engine that both front ends use.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent / "sample_photos"
