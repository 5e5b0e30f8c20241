"""Draw bench/compare.py's figures as one PNG: `python bench/chart.py results.json out.png`.

Runs in the baseline's environment (bench/.venv-flask), which has matplotlib; the project's
own environment does not need it.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

VERDICT = "#2f6f4f"
BASELINE = "#a0a0a0"


def median(data: dict[str, list[float]], name: str, scale: float = 1.0) -> float:
    """Return the median of figure ``name`` times ``scale`` (0 when missing)."""
    values = data.get(name) or [0.0]
    return statistics.median(values) * scale


def main() -> None:
    """Read the results and draw four panels side by side."""
    data = json.loads(Path(sys.argv[1]).read_text())
    figure, axes = plt.subplots(1, 4, figsize=(14, 3.6))
    panels = [
        ("Sign-in burst, wall (s)", "signin_wall_verdict", "signin_wall_baseline", 1.0),
        ("/problems p99 while judging (ms)", "judging_p99_verdict", "judging_p99_baseline", 1.0),
        ("/problems requests/s per core", "rps_core_verdict1", "rps_core_baseline", 1.0),
        ("Memory at sign-in peak (MiB)", "rss_peak_verdict", "rss_peak_baseline", 1 / 2**20),
    ]
    for axis, (title, ours, theirs, scale) in zip(axes, panels, strict=True):
        values = [median(data, ours, scale), median(data, theirs, scale)]
        bars = axis.bar(["Verdict", "Flask"], values, color=[VERDICT, BASELINE])
        axis.bar_label(bars, fmt="%.3g")
        axis.set_title(title, fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
    figure.suptitle("Verdict (Quart, Hypercorn) against the Flask baseline (gunicorn sync)")
    figure.tight_layout()
    figure.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
