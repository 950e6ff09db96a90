"""Benchmark: the HTML report for 1,000 and 10,000 sessions (synthetic sweeps written as real event files).

Prints, per size, the median wall time of ``write_report`` (reading, analysis,
plots, HTML), the read and analysis times alone, and the file size, against the
issue's targets (<= 15 s for 1,000 sessions, <= 60 s for 10,000 on 2 cores;
< 10 MB for 10,000) and against a baseline measured in the same run: plotly's
own offline page (``write_html`` with plotly.js inline) of one parallel
coordinates figure of the same sessions, i.e. the cheapest offline plot page.

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

from hparams_tools.testing import write_sweep  # noqa: E402

TARGETS = {1000: 15.0, 10000: 60.0}
SIZE_LIMIT_MB = {10000: 10.0}


def _time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def _baseline(logdir: Path, out: Path) -> None:
    """Read the logdir and write plotly's own offline HTML of one parallel-coordinates figure."""
    import hparams_tools
    import plotly.graph_objects as go

    exp = hparams_tools.read_experiment(logdir)
    table = exp.hparams.join(exp.metrics())
    dims = [dict(label=c, values=table[c].astype("category").cat.codes if table[c].dtype == object else table[c])
            for c in list(exp.hparam_infos) + ["validation/epoch_accuracy"]]
    fig = go.Figure(go.Parcoords(dimensions=dims, line=dict(color=table["validation/epoch_accuracy"])))
    fig.write_html(out, include_plotlyjs=True)


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
    print("baseline: plotly's own offline page (plotly.io.write_html, plotly.js inline) of ONE parallel-coordinates "
          "figure of the same sessions")
    print(f"{'sessions':>9} {'report s':>9} {'read s':>7} {'analyze s':>9} {'size MB':>8} {'baseline s':>10} "
          f"{'baseline MB':>11} {'x time':>7} {'x size':>7} {'target s':>9} {'ok':>3}")
    for k, n in enumerate(args.sizes):
        repeats = args.repeats[k] if args.repeats else (3 if n <= 1000 else 1)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            logdir = write_sweep(Path(tmp) / f"sweep{n}", n, seed=0, repeats=2, failed_every=25)
            gen = time.perf_counter() - t0
            read_s, exp = _time(lambda: hparams_tools.read_experiment(logdir), repeats)
            from hparams_tools.analysis import analyze

            an_s, _ = _time(lambda: analyze(exp, seed=0), repeats)
            base = Path(tmp) / "baseline.html"
            base_s, _ = _time(lambda: _baseline(logdir, base), repeats)
            out = Path(tmp) / "report.html"
            total, _ = _time(lambda: write_report(logdir, out, seed=0), repeats)
            mb, base_mb = out.stat().st_size / 1e6, base.stat().st_size / 1e6
            limit = TARGETS.get(n)
            ok = (limit is None or total <= limit) and mb < SIZE_LIMIT_MB.get(n, float("inf"))
            print(f"{n:>9,} {total:>9.2f} {read_s:>7.2f} {an_s:>9.2f} {mb:>8.2f} {base_s:>10.2f} {base_mb:>11.2f} "
                  f"{total / base_s:>7.1f} {mb / base_mb:>7.2f} {limit if limit else '-':>9} {'yes' if ok else 'NO':>3}"
                  f"   (median of {repeats}; sweep written in {gen:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
