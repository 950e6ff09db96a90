"""Synthetic HParams sweeps with a known truth, written as real event files (no TensorFlow): the one generator.

Tests, benchmarks and the screenshot script all build their sweeps here, in
the package (like ``numpy.testing`` or ``optuna.testing``) rather than under
``tests/``, because ``benchmarks/`` and ``tools/`` need it too and must not
reach into the test tree; it also lets a user try ``hparams-tools report``
without training anything. Two recipes:

:func:`write_sweep` (the report's): validation accuracy peaks at learning_rate
1e-3 and dropout 0.2, rises with epochs, and "adam" is a little better than
the other optimizers; full learning curves, repeats, failures and renamed
(markup) hyperparameters for the escaping tests.

:func:`write_ground_truth_sweep` (the analysis'): its target (``validation/epoch_accuracy``) is

    0.85 - 0.12 * (log10(learning_rate) + 3)**2        strong, peaked at 1e-3 (variance 0.020)
         + 0.01 * log2(batch_size / 16)                weak, monotone (0 .. 0.03; variance 0.0001)
         - {adam: 0, sgd: 0.08, rmsprop: 0.16}          categorical (variance 0.0043)
         + 1.2 * (dropout - 0.25) * (units - 80) / 64   pure interaction, no main effect (variance 0.010)
         + 0 * decoy                                   no effect
         + N(0, 0.01) noise

with ~5% of sessions missing batch_size, ~4% diverged (NaN target) and ~3% FAILURE.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .io.experiment import Discrete, HParamInfo, Interval, MetricInfo
from .io.writer import write_experiment, write_session

__all__ = ["XSS_SCRIPT", "XSS_IMG", "TARGET", "accuracy", "write_sweep", "ground_truth", "write_ground_truth_sweep"]

TARGET = "validation/epoch_accuracy"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
"""Markup that must stay text wherever a report shows names or values from event files."""

METRICS = [MetricInfo("validation", "epoch_accuracy", "", ""), MetricInfo("validation", "epoch_loss", "", ""),
           MetricInfo("train", "epoch_accuracy", "", ""), MetricInfo("train", "epoch_loss", "", "")]


def accuracy(lr: float, dropout: float, epochs: int, optimizer: str) -> float:
    """The ground-truth final validation accuracy (before noise)."""
    base = 0.92 - 0.06 * (math.log10(lr) + 3) ** 2 - 0.8 * (dropout - 0.2) ** 2 + 0.04 * math.log2(epochs / 2)
    return float(np.clip(base + (0.03 if optimizer == "adam" else 0.0), 0.05, 0.99))


def write_sweep(
    logdir: str | os.PathLike[str],
    n_sessions: int,
    *,
    seed: int = 0,
    repeats: int = 1,
    failed_every: int = 0,
    names: dict[str, str] | None = None,
    optimizers: Sequence[str] = ("adam", "sgd", "rmsprop"),
    declare: bool = True,
    start: float = 1_700_000_000.0,
) -> Path:
    """Write ``n_sessions`` sessions (``repeats`` per configuration, grouped) under ``logdir``.

    Args:
        logdir: Directory to create.
        n_sessions: Number of sessions.
        seed: Seed of the sampled configurations and noise.
        repeats: Sessions per configuration (same group name: repeats / CV folds).
        failed_every: Every k-th session fails after one epoch (0: none fail).
        names: Renames of the hyperparameters (e.g. to markup, for the XSS tests).
        optimizers: Optimizer values (may contain markup).
        declare: Write an experiment config with an objective line in its description.
        start: Start time of the first session.

    Returns:
        The logdir.
    """
    logdir = Path(logdir)
    names = {k: k for k in ("learning_rate", "dropout", "epochs", "optimizer")} | dict(names or {})
    rng = np.random.default_rng(seed)
    if declare:
        hps = [
            HParamInfo(names["learning_rate"], "float", "", "log-uniform learning rate", Interval(1e-5, 1e-1)),
            HParamInfo(names["dropout"], "float", "", "", Interval(0.0, 0.5)),
            HParamInfo(names["epochs"], "float", "", "", Discrete((2.0, 4.0, 8.0))),
            HParamInfo(names["optimizer"], "string", "", "", Discrete(tuple(optimizers))),
        ]
        write_experiment(logdir, hps, METRICS, description="synthetic sweep\nobjective: {TARGET} maximize")
    t = start
    for i in range(n_sessions):
        cfg = i // repeats
        crng = np.random.default_rng([seed, cfg])
        lr = float(10 ** crng.uniform(-5, -1))
        dropout = float(crng.uniform(0.0, 0.5))
        epochs = int(crng.choice([2, 4, 8]))
        opt = str(crng.choice(list(optimizers)))
        final = accuracy(lr, dropout, epochs, opt)
        failed = bool(failed_every) and (i + 1) % failed_every == 0
        n_ep = 1 if failed else epochs
        curve = [final - (final - 0.3) * math.exp(-2.5 * (e + 1) / epochs) + rng.normal(0, 0.004) for e in range(n_ep)]
        losses = [max(0.01, 2.2 * (1 - a)) for a in curve]
        hp = {names["learning_rate"]: lr, names["dropout"]: dropout, names["epochs"]: epochs, names["optimizer"]: opt}
        write_session(
            logdir / f"trial_{i:05d}", hp, group=f"config_{cfg:05d}" if repeats > 1 else "",
            status="FAILURE" if failed else "SUCCESS", start_time=t, end_time=t + 5 * n_ep,
            scalars={"validation": {"epoch_accuracy": curve, "epoch_loss": losses},
                     "train": {"epoch_accuracy": [a + 0.02 for a in curve], "epoch_loss": [x * 0.9 for x in losses]}},
        )
        t += 5 * n_ep + 1
    return logdir

OPTIMIZERS = ("adam", "sgd", "rmsprop")
OPT_EFFECT = {"adam": 0.0, "sgd": -0.08, "rmsprop": -0.16}


def ground_truth(lr: float, batch_size: float, optimizer: str, dropout: float, units: float) -> float:
    """The noise-free target of :func:`write_ground_truth_sweep`."""
    return (0.85 - 0.12 * (math.log10(lr) + 3.0) ** 2 + 0.01 * math.log2(batch_size / 16)
            + OPT_EFFECT[optimizer] + 1.2 * (dropout - 0.25) * (units - 80) / 64)


def write_ground_truth_sweep(
    logdir: Path, *, n: int = 240, seed: int = 0, lr_range: tuple[float, float] = (1e-5, 1e-1),
    declare: bool = True, repeats: int = 1, noise: float = 0.01,
) -> Path:
    """Write ``n`` sessions (``repeats`` sessions per configuration, grouped) and return ``logdir``."""
    rng = np.random.default_rng(seed)
    infos = [
        HParamInfo("learning_rate", "float", "", "sampled on a log scale", Interval(*lr_range)),
        HParamInfo("batch_size", "float", "", "", Discrete((16.0, 32.0, 64.0, 128.0))),
        HParamInfo("optimizer", "string", "", "", Discrete(OPTIMIZERS)),
        HParamInfo("dropout", "float", "", "", Interval(0.0, 0.5)),
        HParamInfo("units", "float", "", "", Interval(16.0, 144.0)),
        HParamInfo("decoy", "float", "", "", Interval(0.0, 1.0)),
    ]
    metrics = [MetricInfo("validation", "epoch_accuracy", "", ""), MetricInfo("train", "epoch_loss", "", "")]
    if declare:
        write_experiment(logdir, infos, metrics, description=f"synthetic\nobjective: {TARGET} maximize")
    lo, hi = (math.log10(v) for v in lr_range)
    n_configs = n // repeats
    for c in range(n_configs):
        hp = {
            "learning_rate": float(10 ** rng.uniform(lo, hi)),
            "batch_size": int(rng.choice([16, 32, 64, 128])),
            "optimizer": str(rng.choice(OPTIMIZERS)),
            "dropout": float(rng.uniform(0.0, 0.5)),
            "units": int(rng.integers(16, 145)),
            "decoy": float(rng.uniform()),
        }
        truth = ground_truth(hp["learning_rate"], hp["batch_size"], hp["optimizer"], hp["dropout"], hp["units"])
        missing_bs = rng.uniform() < 0.05
        diverged = rng.uniform() < 0.04
        failed = rng.uniform() < 0.03
        for r in range(repeats):
            logged = {k: v for k, v in hp.items() if not (k == "batch_size" and missing_bs)}
            acc = truth + rng.normal(0.0, noise)
            value = float("nan") if diverged else acc
            write_session(
                logdir / f"run-{c:04d}-{r}", logged, group=f"config-{c:04d}" if repeats > 1 else "",
                status="FAILURE" if failed else "SUCCESS",
                scalars={"validation": {"epoch_accuracy": [acc - 0.1, value]},
                         "train": {"epoch_loss": [1.0, 1.0 - acc]}},
            )
    return logdir
