"""A sweep with a known truth for the evidence tests: an interaction, a collapse, an edge, two decoys.

True target (``validation/epoch_accuracy``), noise-free::

    adam:    0.90 - 0.15 * (log10(lr) + 3)**2             peak at lr 1e-3
    sgd:     0.86 - 0.15 * (log10(lr) - log10(3e-2))**2    peak at lr 3e-2 (the interaction)
    rmsprop: 0.60 - 0.15 * (log10(lr) + 3)**2             worse than adam everywhere
    + 0.03 * log2(epochs / 4)                            best at the top of {4, 8, 16}: an edge
    collapse to 0.2 (chance for 5 classes) where adam/rmsprop lr > 1e-2 or sgd lr > 8e-2; never below 0.2
    decoy_u ~ U(0, 1), decoy_log ~ log-uniform(1e-4, 1e-1): no effect, no declared scale

Messy like real sweeps: ~8% of sessions never log decoy_u, ~5% diverge (NaN target).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session
from hparams_tools.space import Parameter, SearchSpace

TARGET = "validation/epoch_accuracy"
OPTIMIZERS = ("adam", "sgd", "rmsprop")
CHANCE = 0.2


def truth(p: dict[str, Any]) -> float:
    """The noise-free target of a configuration."""
    lr, opt, epochs = float(p["learning_rate"]), str(p["optimizer"]), float(p["epochs"])
    if (opt == "sgd" and lr > 8e-2) or (opt != "sgd" and lr > 1e-2):
        return CHANCE
    peak, top = {"adam": (-3.0, 0.90), "sgd": (math.log10(3e-2), 0.86), "rmsprop": (-3.0, 0.60)}[opt]
    return max(CHANCE, top - 0.15 * (math.log10(lr) - peak) ** 2 + 0.03 * math.log2(epochs / 4))


SEARCHED = SearchSpace(parameters={
    "learning_rate": Parameter("learning_rate", "log_uniform_values", min=1e-4, max=1e-1),
    "optimizer": Parameter("optimizer", "values", OPTIMIZERS),
    "epochs": Parameter("epochs", "values", (4, 8, 16)),
    "decoy_u": Parameter("decoy_u", "uniform", min=0.0, max=1.0),
    "decoy_log": Parameter("decoy_log", "log_uniform_values", min=1e-4, max=1e-1),
}, name="evidence")


def sample(space: SearchSpace, rng: np.random.Generator) -> dict[str, Any]:
    """One configuration drawn from a space file's space (conditional ranges included)."""
    out: dict[str, Any] = {}
    params = sorted(space.parameters.values(), key=lambda p: p.conditional_on is not None)
    for p in params:
        lo, hi = p.range_for(out[p.conditional_on]) if p.conditional_on else (p.min, p.max)
        if p.kind in ("value", "values"):
            out[p.name] = p.values[int(rng.integers(len(p.values)))]
        elif p.kind == "log_uniform_values":
            out[p.name] = float(10 ** rng.uniform(math.log10(lo), math.log10(hi)))
        elif p.kind == "int_uniform":
            out[p.name] = int(rng.integers(lo, hi + 1))
        else:
            out[p.name] = float(rng.uniform(lo, hi))
    return out


def mean_truth(space: SearchSpace, *, n: int = 4000, seed: int = 0) -> float:
    """The expected true target of a random trial from ``space``."""
    rng = np.random.default_rng(seed)
    return float(np.mean([truth(sample(space, rng)) for _ in range(n)]))


def write_evidence_sweep(logdir: Path, *, n: int = 160, seed: int = 0) -> Path:
    """``n`` sessions drawn from :data:`SEARCHED` (learning rate declared log scale; decoys undeclared)."""
    rng = np.random.default_rng(seed)
    write_experiment(logdir, [
        HParamInfo("learning_rate", "float", "", "sampled on a log scale", Interval(1e-4, 1e-1)),
        HParamInfo("optimizer", "string", "", "", Discrete(OPTIMIZERS)),
        HParamInfo("epochs", "float", "", "", Discrete((4.0, 8.0, 16.0))),
        HParamInfo("decoy_u", "float", "", "", Interval(0.0, 1.0)),
        HParamInfo("decoy_log", "float", "", "", Interval(1e-4, 1e-1)),
    ], [MetricInfo("validation", "epoch_accuracy", "", "")], description=f"evidence\nobjective: {TARGET} maximize")
    for i in range(n):
        p = sample(SEARCHED, rng)
        acc = truth(p) + rng.normal(0.0, 0.01)
        logged = {k: v for k, v in p.items() if not (k == "decoy_u" and rng.uniform() < 0.08)}
        value = float("nan") if rng.uniform() < 0.05 else acc
        write_session(logdir / f"run-{i:04d}", logged, scalars={"validation": {"epoch_accuracy": [acc - 0.1, value]}})
    return logdir
