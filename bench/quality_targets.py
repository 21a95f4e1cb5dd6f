"""The targets of issue 13 / the README's Quality section, checked against one run.

"rembg's best" is, per set, the lowest-MAE rembg pipeline of the same run. The raw model's
IoU and band MAE are the stricter of rembg's default and bgone's own `u2netp raw` row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.quality_data import SETS
from bench.quality_engine import Outcome

ROBUSTNESS_LIMIT = 0.01
BEST_MAE_FACTOR = 0.90
BEST_1MP_SECONDS = 3.5
BEST_OVER_ISNET_SECONDS = 1.5
BEST_NO_ISNET_SECONDS = 2.0
BEST_12MP_RSS_MB = 1536


@dataclass
class Results:
    sets: tuple[str, ...] = SETS
    table: dict[str, dict[str, Outcome]] = field(default_factory=dict)  # label -> set -> outcome
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)
    robustness: dict[tuple[str, str], float] = field(default_factory=dict)  # (variant, set) -> IoU
    times: dict[str, dict[str, float]] = field(default_factory=dict)


def check(label: str, ok: bool, figures: str) -> str:
    return f"  [{'PASS' if ok else 'FAIL'}] {label}: {figures}"


def _rembg_best(results: Results, set_name: str) -> Outcome | None:
    rivals = [
        by_set[set_name] for name, by_set in results.table.items() if name.startswith("rembg")
    ]
    return min(rivals, key=lambda outcome: outcome.score.mae) if rivals else None


def _raw(results: Results, set_name: str) -> tuple[float, float | None]:
    """The raw model's IoU (highest) and band MAE (lowest) of rembg default / u2netp raw."""
    rows = [
        results.table[name][set_name]
        for name in ("rembg default", "u2netp raw")
        if set_name in results.table.get(name, {})
    ]
    bands = [row.score.band_mae for row in rows if row.score.band_mae is not None]
    return max(row.score.iou for row in rows), min(bands) if bands else None


def _quality(results: Results, label: str, set_name: str, factor: float) -> list[str]:
    if set_name not in results.table.get(label, {}):
        return [check(f"{label} on {set_name}", False, "not run")]
    ours = results.table[label][set_name].score
    lines = []
    theirs = _rembg_best(results, set_name)
    if theirs is not None:
        limit = theirs.score.mae * factor
        relation = "<" if factor == 1.0 else f"<= {factor:.2f} x"
        lines.append(
            check(
                f"{label} MAE on {set_name} {relation} rembg's best",
                ours.mae < limit if factor == 1.0 else ours.mae <= limit,
                f"{ours.mae:.4f} vs {limit:.4f}",
            )
        )
    raw_iou, raw_band = _raw(results, set_name)
    lines.append(
        check(
            f"{label} IoU on {set_name} >= raw",
            ours.iou >= raw_iou,
            f"{ours.iou:.4f} vs {raw_iou:.4f}",
        )
    )
    if factor != 1.0 and raw_band is not None and ours.band_mae is not None:
        lines.append(
            check(
                f"{label} band MAE on {set_name} < raw",
                ours.band_mae < raw_band,
                f"{ours.band_mae:.4f} vs {raw_band:.4f}",
            )
        )
    return lines


def _times(results: Results) -> list[str]:
    times = {name: figures["seconds"] for name, figures in results.times.items()}
    if not times:
        return ["  (times skipped: --no-timing)"]
    isnet = times["isnet bare 1 MP"]
    rss = results.times["best 12 MP"]["peak_rss_mb"]
    return [
        check(
            "best 1 MP <= 3.5 s",
            times["best 1 MP"] <= BEST_1MP_SECONDS,
            f"{times['best 1 MP']:.2f} s",
        ),
        check(
            "best 1 MP <= isnet bare + 1.5 s",
            times["best 1 MP"] <= isnet + BEST_OVER_ISNET_SECONDS,
            f"{times['best 1 MP']:.2f} s vs {isnet + BEST_OVER_ISNET_SECONDS:.2f} s",
        ),
        check(
            "best 1 MP without isnet <= 2 s",
            times["best 1 MP, no isnet"] <= BEST_NO_ISNET_SECONDS,
            f"{times['best 1 MP, no isnet']:.2f} s",
        ),
        check(
            "best 12 MP peak RSS <= 1.5 GB",
            rss <= BEST_12MP_RSS_MB,
            f"{rss:.0f} MB ({times['best 12 MP']:.2f} s)",
        ),
    ]


def targets(results: Results, fast: str) -> list[str]:
    lines = ["targets (relative to this run):"]
    for set_name in results.sets:
        lines += _quality(results, fast, set_name, 1.0)
    base_iou = {name: results.table[fast][name].score.iou for name in results.sets}
    for (variant, set_name), iou in results.robustness.items():
        change = iou - base_iou[set_name]
        lines.append(
            check(
                f"robustness: {fast} IoU change on {set_name}, {variant}",
                abs(change) < ROBUSTNESS_LIMIT,
                f"{change:+.4f} ({base_iou[set_name]:.4f} -> {iou:.4f})",
            )
        )
    # With isnet on the sets it has not seen; its weight at zero on duts_te (it has seen it).
    for set_name in results.sets:
        label = "bgone best, no isnet" if set_name == "duts_te" else "bgone best"
        lines += _quality(results, label, set_name, BEST_MAE_FACTOR)
    lines += _times(results)
    return lines
