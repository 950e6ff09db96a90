"""Benchmark: the HTML report for 1,000 and 10,000 sessions (synthetic sweeps written as real event files),
and the time a browser takes to show its first screen.

Prints, per size, the median wall time of ``write_report`` (reading, analysis,
plots, HTML), the read and analysis times alone, and the file size, against the
issue's targets (<= 15 s for 1,000 sessions, <= 60 s for 10,000 on 2 cores;
< 10 MB for 10,000) and against a baseline measured in the same run: plotly's
own offline page (``write_html`` with plotly.js inline) of one parallel
coordinates figure of the same sessions, i.e. the cheapest offline plot page.

    python benchmarks/bench_report.py                 # 1,000 and 10,000 sessions, 3 / 1 repeats
    python benchmarks/bench_report.py --sizes 1000 --repeats 5
    python benchmarks/bench_report.py --first-screen  # time to first screen in headless Chromium

``--first-screen`` opens a report (of ``--logdir``, default ``logs/flowers/default``
when it exists, else a synthetic 15-session sweep) in headless Chromium at
1280 and 1920 px and measures, from navigation start, when it is ready: the
document complete (``loadEventEnd``) and every figure of the first screen
drawn (``body[data-first-screen]``, set by the report's script). The baseline,
measured in the same browser and alternating with the report: plotly's own
minimal page (``plotly.io.write_html``, plotly.js inline) of ONE small
scatter figure, ready at its ``loadEventEnd`` (its figure is drawn by an
inline script before the load event). Prints medians and the ratio against
the target of 1.5x.
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


FIRST_SCREEN_TARGET = 1.5  # the report's first screen within 1.5x of plotly's minimal page
WIDTHS = (1280, 1920)
_READY_MS = {
    # ms from navigation start to "ready", or null while not ready
    "report": "(() => { const n = performance.getEntriesByType('navigation')[0]; const f = document.body && "
              "document.body.dataset.firstScreen; return n && n.loadEventEnd > 0 && f ? Math.max(n.loadEventEnd, +f) : null; })()",
    "plotly": "(() => { const n = performance.getEntriesByType('navigation')[0]; return n && n.loadEventEnd > 0 && "
              "document.querySelector('.js-plotly-plot .main-svg') ? n.loadEventEnd : null; })()",
}


def plotly_minimal_page(out: Path) -> Path:
    """plotly's own offline page of one small figure: the cheapest page that shows a plotly figure."""
    import plotly.graph_objects as go

    go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])).write_html(out, include_plotlyjs=True)
    return out


def time_to_ready(browser, page: Path, kind: str, timeout: float = 120.0) -> float:
    """Milliseconds from navigation start until the page is ready (see the module's docstring)."""
    browser.call("Page.navigate", url="about:blank")
    browser.call("Page.navigate", url=page.resolve().as_uri())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ms = browser.evaluate(_READY_MS[kind]) if browser.evaluate("location.protocol") == "file:" else None
        if ms is not None:
            return float(ms)
        time.sleep(0.05)
    raise TimeoutError(f"{page} was not ready within {timeout:.0f} s")


def first_screen(logdir: Path | None, repeats: int) -> int:
    """Time to first screen of the report against plotly's minimal page, at each width (medians)."""
    from hparams_tools.report import write_report
    from tools.cdp import Browser

    with tempfile.TemporaryDirectory() as tmp:
        if logdir is None:
            logdir = write_sweep(Path(tmp) / "sweep", 15, seed=0)
        report = write_report(logdir, Path(tmp) / "report.html", write_space=False)
        base = plotly_minimal_page(Path(tmp) / "plotly.html")
        print(f"report of {logdir}: {report.stat().st_size / 1e6:.1f} MB; plotly's minimal page: "
              f"{base.stat().st_size / 1e6:.1f} MB; median of {repeats} alternating loads per page and width")
        print(f"{'width':>6} {'report ms':>10} {'plotly ms':>10} {'ratio':>6} {'target':>7} {'ok':>3}")
        worst = 0.0
        for width in WIDTHS:
            with Browser(width=width, height=1000) as browser:
                times: dict[str, list[float]] = {"report": [], "plotly": []}
                for _ in range(repeats):
                    times["plotly"].append(time_to_ready(browser, base, "plotly"))
                    times["report"].append(time_to_ready(browser, report, "report"))
            r, b = statistics.median(times["report"]), statistics.median(times["plotly"])
            worst = max(worst, r / b)
            print(f"{width:>6} {r:>10.0f} {b:>10.0f} {r / b:>6.2f} {FIRST_SCREEN_TARGET:>7} "
                  f"{'yes' if r / b <= FIRST_SCREEN_TARGET else 'NO':>3}")
    return 0 if worst <= FIRST_SCREEN_TARGET else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, nargs="+", default=None, help="repeats per size (default 3 for <= 1000, else 1)")
    parser.add_argument("--first-screen", action="store_true",
                        help="time to first screen in headless Chromium against plotly's minimal page (only this)")
    parser.add_argument("--logdir", type=Path, help="the sweep of --first-screen (default: logs/flowers/default if present)")
    args = parser.parse_args()
    if args.first_screen:
        default = ROOT / "logs" / "flowers" / "default"
        return first_screen(args.logdir or (default if default.is_dir() else None), (args.repeats or [5])[0])

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
