"""Pearson and Spearman correlation of every design column with the target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import require

__all__ = ["correlation"]


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    denom = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc[:, None]).sum(axis=0) / denom
    return np.where(denom > 0, r, np.nan)


def _ranks(a: np.ndarray) -> np.ndarray:
    rankdata = require("scipy.stats").rankdata
    return rankdata(a, axis=0)  # average ranks for ties, as Spearman's rho needs


def correlation(design: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Correlate each (one-hot) column with the target.

    Args:
        design: The full design matrix (one column per number/bool, one per category level).
        y: Target values aligned with ``design``.

    Returns:
        Index ``column``; columns ``pearson`` and ``spearman`` (NaN where undefined).
    """
    x = design.to_numpy(dtype=float)
    yy = y.to_numpy(dtype=float)
    out = pd.DataFrame(
        {"pearson": _pearson(x, yy), "spearman": _pearson(_ranks(x), _ranks(yy))},
        index=pd.Index(design.columns, name="column"),
    )
    return out
