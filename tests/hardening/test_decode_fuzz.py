"""The decode path under a short fuzz: typed errors or success, within the memory cap.

The long, time-bounded run is in bench/reliability.py; this one takes a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from bgone.inference.imageio import decode
from tests.support.decode_fuzz import FUZZ_LIMITS, decode_once
from tests.support.environment import REPO
from tests.support.fuzz_inputs import repair_png_crcs, valid_seeds

FUZZ_SECONDS = 4
# Beyond what the process has mapped at start: a 2 MP image and its copies fit many times.
MEMORY_CAP_MB = 160


def run_module(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.decode_fuzz", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_seed_decodes_unmutated() -> None:
    formats = Counter(decode(data, FUZZ_LIMITS).source_format for data in valid_seeds())
    assert set(formats) == {"JPEG", "PNG", "WEBP"}


def test_repaired_crcs_make_a_mutated_png_readable_again() -> None:
    png = next(data for data in valid_seeds() if data.startswith(b"\x89PNG"))
    # Flip one bit of the IHDR chunk's CRC.
    broken = png[:29] + bytes([png[29] ^ 1]) + png[30:]
    outcomes: Counter[str] = Counter()
    decode_once(broken, FUZZ_LIMITS, outcomes)
    decode_once(repair_png_crcs(broken), FUZZ_LIMITS, outcomes)
    assert outcomes == Counter({"failed_to_read_image": 1, "decoded": 1})


def test_short_fuzz_finds_only_typed_errors_within_the_memory_cap() -> None:
    completed = run_module("--seconds", str(FUZZ_SECONDS), "--memory-cap-mb", str(MEMORY_CAP_MB))
    assert completed.stdout, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], report["failures"]
    assert completed.returncode == 0
    assert report["examples"] >= 200
    # Both sides of the property were exercised: files that decode and files refused.
    assert report["outcomes"]["decoded"] > 0
    assert report["outcomes"]["failed_to_read_image"] > 0


def test_the_memory_cap_would_catch_an_allocation_past_the_limits() -> None:
    # The same cap, and limits raised far past it: decoding a 36 MP PNG must then fail,
    # which shows that the fuzz's cap is tight enough to catch a decoder that over-allocates.
    snippet = f"""
from collections import Counter
from PIL import Image
import io
from bgone.inference.imageio import DecodeLimits
from tests.support import decode_fuzz
buffer = io.BytesIO()
Image.new("L", (6000, 6000)).save(buffer, "PNG")
decode_fuzz.all_seeds()
decode_fuzz.cap_address_space({MEMORY_CAP_MB})
try:
    decode_fuzz.decode_once(buffer.getvalue(), DecodeLimits(max_megapixels=1000), Counter())
except decode_fuzz.UntypedFailure as failure:
    print("caught", failure)
"""
    completed = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "caught MemoryError" in completed.stdout, completed.stdout + completed.stderr[-2000:]
