"""A bounded fuzz of the decode path: mutated JPEG, PNG and WebP files into `imageio.decode`.

The property: whatever the bytes, decoding either succeeds with an image within the limits or
raises a typed `BgoneError` (which the API turns into a 4xx); never another exception, and
never an allocation beyond what the limits allow. The inputs come from
`tests.support.fuzz_inputs` (valid seeds and the battery's images, mutated by hypothesis).

    python -m tests.support.decode_fuzz --seconds 60 --memory-cap-mb 512

runs it for a bounded time in this process with the address space capped (so that an
allocation past the limits fails loudly as MemoryError) and prints a JSON report.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from bgone.errors import BgoneError
from bgone.inference.imageio import DecodeLimits, decode, peek_dimensions
from tests.support.fuzz_inputs import MAX_SEED_BYTES, all_seeds, mutated_files

# Small limits, so that anything a decoder allocates past them stands out against the cap.
FUZZ_LIMITS = DecodeLimits(max_bytes=MAX_SEED_BYTES, max_megapixels=2.0)


# -- the property ------------------------------------------------------------------------


class UntypedFailure(AssertionError):
    """Decoding raised something other than a BgoneError, or returned too large an image."""


def decode_once(data: bytes, limits: DecodeLimits, outcomes: Counter[str]) -> None:
    try:
        width, height = peek_dimensions(data, limits)
        decoded = decode(data, limits)
    except BgoneError as error:
        outcomes[error.code] += 1
        return
    except Exception as error:
        raise UntypedFailure(f"{type(error).__name__}: {error}") from error
    pixels = decoded.rgb.width * decoded.rgb.height
    if pixels > limits.max_megapixels * 1_000_000 or len(data) > limits.max_bytes:
        raise UntypedFailure(f"decoded {decoded.rgb.size} past the limits {limits}")
    if {width, height} != set(decoded.rgb.size):  # EXIF may swap the sides
        raise UntypedFailure(f"header said {width}x{height}, decoded {decoded.rgb.size}")
    outcomes["decoded"] += 1


@dataclass
class FuzzReport:
    examples: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    peak_rss_growth_mb: float = 0.0

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "outcomes": dict(self.outcomes)})


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fuzz_decode(
    seconds: float, examples_per_round: int = 200, limits: DecodeLimits = FUZZ_LIMITS
) -> FuzzReport:
    """Rounds of `examples_per_round` hypothesis examples, each round with a new seed,
    until `seconds` have passed (a round started is finished)."""
    report = FuzzReport()
    start = time.monotonic()
    peak_before = _peak_rss_mb()
    round_number = 0
    while not report.failures and (round_number == 0 or time.monotonic() - start < seconds):

        @seed(round_number)
        @settings(
            max_examples=examples_per_round,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        @given(data=mutated_files())
        def property_holds(data: bytes) -> None:
            report.examples += 1
            decode_once(data, limits, report.outcomes)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF, as it should
                property_holds()
        except Exception as failure:
            report.failures.append(f"{type(failure).__name__}: {failure}"[:2000])
        round_number += 1
    report.seconds = time.monotonic() - start
    report.peak_rss_growth_mb = max(0.0, _peak_rss_mb() - peak_before)
    return report


def cap_address_space(extra_mb: int) -> None:
    """Allow this process `extra_mb` MB of address space beyond what it has mapped now."""
    mapped_kb = next(
        int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmSize:")
    )
    cap = (mapped_kb + extra_mb * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--examples-per-round", type=int, default=200)
    parser.add_argument(
        "--memory-cap-mb",
        type=int,
        default=0,
        help="address space allowed beyond what is mapped at start (0: no cap)",
    )
    options = parser.parse_args(argv)
    all_seeds()  # build the seeds before the cap
    if options.memory_cap_mb:
        cap_address_space(options.memory_cap_mb)
    report = fuzz_decode(options.seconds, options.examples_per_round)
    print(report.to_json())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
