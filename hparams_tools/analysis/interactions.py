"""Pairwise interaction strength among the top hyperparameters: Friedman's H-statistic.

optuna's public fANOVA API gives main effects only, so interactions come from the partial
dependence of the ExtraTrees forest (Friedman & Popescu 2008, "Predictive learning via rule
ensembles", section 8.1). For hyperparameters j and k, with centred partial dependences
``PD_j``, ``PD_k`` and ``PD_jk`` evaluated at sample points:

* ``h2``: ``sum (PD_jk - PD_j - PD_k)^2 / sum PD_jk^2`` -- the share of the pair's joint effect
  that is interaction (0: additive, 1: pure interaction);
* ``strength``: ``mean (PD_jk - PD_j - PD_k)^2 / var(prediction)`` -- the share of all the
  variation the forest predicts that the interaction carries. Pairs are ranked by it because
  ``h2`` is large for pairs whose joint effect is tiny.

Partial dependence is averaged over the same sample points (at most :data:`POINTS`, seeded),
so each pair costs ``POINTS**2`` forest predictions.
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .importance import subsample

__all__ = ["h_statistics", "POINTS", "TOP_K"]

POINTS = 50
TOP_K = 4


def _partial_dependence(model: Any, points: np.ndarray, cols: list[int]) -> np.ndarray:
    m = len(points)
    grid = np.tile(points, (m, 1))                      # background rows, repeated per point
    grid[:, cols] = np.repeat(points[:, cols], m, axis=0)  # point i's values in block i
    pd_ = model.predict(grid).reshape(m, m).mean(axis=1)
    return pd_ - pd_.mean()


def h_statistics(
    model: Any, x: np.ndarray, blocks: dict[str, list[int]], names: Sequence[str], *, seed: int
) -> pd.DataFrame:
    """Friedman's H² and the interaction strength for every pair among ``names``.

    Args:
        model: A fitted regressor with ``predict``.
        x: The design matrix (rows the model describes).
        blocks: Hyperparameter -> its design columns (one-hot levels move together).
        names: The hyperparameters to pair (the most important ones).
        seed: Seed of the sample points.

    Returns:
        Columns ``a``, ``b``, ``h2``, ``strength``; strongest first (empty for fewer than 2 names).
    """
    rows = []
    if len(names) >= 2:
        points = x[subsample(len(x), POINTS, seed, salt=3)]
        variance = float(np.var(model.predict(points)))
        single = {n: _partial_dependence(model, points, blocks[n]) for n in names}
        for a, b in itertools.combinations(names, 2):
            joint = _partial_dependence(model, points, blocks[a] + blocks[b])
            inter = joint - single[a] - single[b]
            denom = float((joint**2).sum())
            rows.append({
                "a": a, "b": b,
                "h2": float((inter**2).sum()) / denom if denom > 0 else 0.0,
                "strength": float((inter**2).mean()) / variance if variance > 0 else 0.0,
            })
    out = pd.DataFrame(rows, columns=["a", "b", "h2", "strength"])
    return out.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)
