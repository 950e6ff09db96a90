"""Benchmark: the whole analysis on 1,000 and 10,000 sessions with 8 hyperparameters.

Sweeps are written with the project's writer (real event files), read with the reader, then
analysed. Prints medians over --repeats runs of: read, analysis, read + analysis, the analysis'
steps, and two baselines measured in the same run:

* optuna's fANOVA evaluator with its defaults (n_trees=64, max_depth=64) on the same 1,000-row
  subsample our fANOVA uses (max_depth=8): time ratio and Spearman agreement of the scores;
* the whole analysis with the forest on one thread (n_jobs=1) vs all cores.

Usage: python benchmarks/bench_analysis.py [--sizes 1000 10000] [--repeats 3] [--workdir DIR] [--no-baselines]
Target: at most 10 s for the analysis of 10,000 sessions on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hparams_tools import read_experiment  # noqa: E402
from hparams_tools.analysis import analyze  # noqa: E402
from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo  # noqa: E402
from hparams_tools.io.writer import write_experiment, write_session  # noqa: E402

TARGET = "validation/epoch_accuracy"


def write_sweep(logdir: Path, n: int, seed: int = 0) -> None:
    """n sessions, 8 hyperparameters, a known target (peaked LR, categorical, interaction, decoys)."""
    rng = np.random.default_rng(seed)
    infos = [
        HParamInfo("learning_rate", "float", "", "log scale", Interval(1e-5, 1e-1)),
        HParamInfo("weight_decay", "float", "", "log-uniform", Interval(1e-6, 1e-2)),
        HParamInfo("batch_size", "float", "", "", Discrete((16.0, 32.0, 64.0, 128.0))),
        HParamInfo("optimizer", "string", "", "", Discrete(("adam", "sgd", "rmsprop"))),
        HParamInfo("use_bn", "bool", "", "", Discrete((False, True))),
        HParamInfo("dropout", "float", "", "", Interval(0.0, 0.5)),
        HParamInfo("units", "float", "", "", Interval(16.0, 144.0)),
        HParamInfo("decoy", "float", "", "", Interval(0.0, 1.0)),
    ]
    write_experiment(logdir, infos, [MetricInfo("validation", "epoch_accuracy", "", "")],
                     description=f"objective: {TARGET} maximize")
    opt = {"adam": 0.0, "sgd": -0.08, "rmsprop": -0.16}
    for i in range(n):
        hp = {
            "learning_rate": float(10 ** rng.uniform(-5, -1)), "weight_decay": float(10 ** rng.uniform(-6, -2)),
            "batch_size": int(rng.choice([16, 32, 64, 128])), "optimizer": str(rng.choice(list(opt))),
            "use_bn": bool(rng.uniform() < 0.5), "dropout": float(rng.uniform(0, 0.5)),
            "units": int(rng.integers(16, 145)), "decoy": float(rng.uniform()),
        }
        acc = (0.85 - 0.12 * (math.log10(hp["learning_rate"]) + 3) ** 2 + 0.01 * math.log2(hp["batch_size"] / 16)
               + opt[hp["optimizer"]] + 0.03 * hp["use_bn"] - 0.01 * (math.log10(hp["weight_decay"]) + 4) ** 2
               + 1.2 * (hp["dropout"] - 0.25) * (hp["units"] - 80) / 64 + rng.normal(0, 0.01))
        write_session(logdir / f"run-{i:05d}", hp, scalars={"validation": {"epoch_accuracy": [acc - 0.1, acc]}})


def _median_time(fn, repeats: int, cpu: list | None = None):
    """Median wall time of ``fn`` (and, into ``cpu``, the median CPU time of this process)."""
    times, cpus, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times), out


def _fanova_baseline(exp) -> None:
    import optuna

    from hparams_tools.analysis.core import select_target
    from hparams_tools.analysis.importance import FANOVA_DEPTH, FANOVA_TREES, OPTUNA_CAP, build_study, subsample
    from hparams_tools.analysis.prepare import prepare
    from hparams_tools.analysis.target import collect_rows
    from scipy.stats import spearmanr

    target, goal = select_target(exp, None, None)
    prep = prepare(collect_rows(exp, target, "last"), exp.hparam_infos, target=target, goal=goal)
    study = build_study(prep, subsample(prep.n_used, OPTUNA_CAP, 0, salt=2))
    names = list(prep.hparams)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results = {}
    for label, kw in (("ours (max_depth=%d)" % FANOVA_DEPTH, {"n_trees": FANOVA_TREES, "max_depth": FANOVA_DEPTH}),
                      ("optuna defaults (max_depth=64)", {})):
        t = time.perf_counter()
        scores = optuna.importance.FanovaImportanceEvaluator(seed=0, **kw).evaluate(study, params=names)
        results[label] = (time.perf_counter() - t, [scores[n] for n in names])
    (l1, (t1, s1)), (l2, (t2, s2)) = results.items()
    rho = spearmanr(s1, s2)[0]
    print(f"  fANOVA on {len(study.trials)} trials: {l1} {t1:.2f} s, {l2} {t2:.2f} s "
          f"-> {t2 / t1:.1f}x faster; Spearman agreement of the scores {rho:.2f}")


def main() -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="where to write the sweeps (default: a temp dir, removed)")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_analysis_"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cpus: {os.cpu_count()}, load average at start {load:.1f}, repeats: {args.repeats} (medians)")
    try:
        for n in args.sizes:
            logdir = work / f"sweep-{n}"
            if not logdir.exists():
                t = time.perf_counter()
                write_sweep(logdir, n)
                print(f"wrote {n} sessions in {time.perf_counter() - t:.1f} s")
            t_read, exp = _median_time(lambda: read_experiment(logdir), args.repeats)
            cpu: list[float] = []
            t_an, result = _median_time(lambda: analyze(exp, seed=0), args.repeats, cpu)
            t_both, _ = _median_time(lambda: analyze(read_experiment(logdir), seed=0), args.repeats)
            steps = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
            print(f"n={n}: read {t_read:.2f} s, analysis {t_an:.2f} s (CPU {cpu[0]:.2f} s), read+analysis "
                  f"{t_both:.2f} s (target <= 10 s for the analysis of 10,000)")
            print(f"  steps (last run): {steps}")
            top = result.importance.index[:3].tolist()
            print(f"  top hyperparameters: {top}; forest R² {result.forest_r2:.3f}")
            if not args.no_baselines:
                t1, _ = _median_time(lambda: analyze(exp, seed=0, n_jobs=1), 1)
                print(f"  forest on 1 thread: analysis {t1:.2f} s vs {t_an:.2f} s with all cores "
                      f"-> {t1 / t_an:.2f}x")
                if n == min(args.sizes):
                    _fanova_baseline(exp)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
