"""Synthetic HParams sweeps with a known ground truth, written with the project's writer.

The target (``validation/epoch_accuracy``) of :func:`write_ground_truth_sweep` is

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
from pathlib import Path

import numpy as np

from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session

TARGET = "validation/epoch_accuracy"
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
