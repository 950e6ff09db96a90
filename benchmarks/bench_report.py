"""Benchmark: the HTML report for 1,000 and 10,000 sessions (synthetic sweeps written as real event files).

Prints, per size, the median wall time of ``write_report`` (reading, analysis,
plots, HTML), its parts (read, analysis, everything else), and the file size,
against the issue's targets (<= 15 s for 1,000 sessions, <= 60 s for 10,000
on 2 cores; < 10 MB for 10,000) and against the size of the inline plotly.js
alone (the floor of any offline plotly page).

    python benchmarks/bench_report.py                 # 1,000 and 10,000 sessions, 3 / 1 repeats
    python benchmarks/bench_report.py --sizes 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.synthetic import write_sweep  # noqa: E402

TARGETS = {1000: 15.0, 10000: 60.0}
SIZE_LIMIT_MB = {10000: 10.0}


def _time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, nargs="+", default=None, help="repeats per size (default 3 for <= 1000, else 1)")
    args = parser.parse_args()

    import os

    from plotly.offline import get_plotlyjs

    import hparams_tools
    from hparams_tools.report import write_report

    warnings.simplefilter("ignore")
    plotly_mb = len(get_plotlyjs().encode()) / 1e6
    print(f"cores available: {len(os.sched_getaffinity(0))}; inline plotly.js alone: {plotly_mb:.2f} MB")
    print(f"{'sessions':>9} {'report s':>9} {'read s':>7} {'analyze s':>9} {'rest s':>7} {'size MB':>8} {'target s':>9} {'ok':>3}")
    for k, n in enumerate(args.sizes):
        repeats = args.repeats[k] if args.repeats else (3 if n <= 1000 else 1)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            logdir = write_sweep(Path(tmp) / f"sweep{n}", n, seed=0, repeats=2, failed_every=25)
            gen = time.perf_counter() - t0
            read_s, exp = _time(lambda: hparams_tools.read_experiment(logdir), repeats)
            try:
                from hparams_tools.analysis import analyze

                an_s, _ = _time(lambda: analyze(exp, seed=0), repeats)
            except ImportError:
                an_s = float("nan")
            out = Path(tmp) / "report.html"
            total, _ = _time(lambda: write_report(logdir, out, seed=0), repeats)
            mb = out.stat().st_size / 1e6
            limit = TARGETS.get(n)
            ok = (limit is None or total <= limit) and mb < SIZE_LIMIT_MB.get(n, float("inf"))
            print(f"{n:>9,} {total:>9.2f} {read_s:>7.2f} {an_s:>9.2f} {total - read_s - an_s:>7.2f} {mb:>8.2f} "
                  f"{limit if limit else '-':>9} {'yes' if ok else 'NO':>3}   (sweep written in {gen:.1f} s, "
                  f"median of {repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
