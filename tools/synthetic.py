"""Write a synthetic HParams sweep with real TensorBoard event files (hparams_tools.io.writer, no TensorFlow).

The target has a known optimum: validation accuracy peaks at learning_rate
1e-3 and dropout 0.2, rises with epochs, and "adam" is a little better than
the other optimizers. Used by the report tests, the report benchmark and the
screenshot script.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from hparams_tools.io._model import Discrete, HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session

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
        write_experiment(logdir, hps, METRICS, description="synthetic sweep\nobjective: validation/epoch_accuracy maximize")
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
