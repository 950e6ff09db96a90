"""The one rule that decides whether a numeric hyperparameter lives on a log scale.

Used by the analysis (log10 features, the next space's distribution), the plots (log axes)
and ``suggest``. It decides from evidence, in this order:

1. **Declared**: the hyperparameter's description or display name says so ("log scale",
   "log-uniform", keras-tuner's ``sampling="log"``; what ``training`` writes for a
   ``log_uniform_values`` parameter), or says "linear"/"uniform" sampling.
2. **Sampled**: how the observed values were drawn. A geometric grid of at least 4 values
   (1e-4 ... 1e-1; 16, 32, 64, 128) is log, an arithmetic one linear. Otherwise a Kolmogorov-Smirnov test of both hypotheses on
   the observed values: uniform in linear space and uniform in log space over the searched range.
   Log only when the linear hypothesis is rejected (p < :data:`KS_ALPHA`) and log-uniform fits
   better (smaller KS distance).
3. **Too few values** (fewer than :data:`MIN_VALUES` distinct ones) or non-positive values: linear.

A max/min ratio alone never decides: a U(0, 1) decoy spans many decades near 0 yet is linear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ScaleDecision", "decide_scale", "is_log_scaled", "declared_scale", "KS_ALPHA", "MIN_VALUES"]

KS_ALPHA = 0.01          # strict: a uniform parameter is called log in ~1% of sweeps at most
MIN_VALUES = 8           # distinct values needed before the values themselves can decide
GRID_MIN, GRID_MAX = 4, 8   # 4 to 8 distinct values, each repeated: a grid (3 points are too few to tell)


@dataclass(frozen=True)
class ScaleDecision:
    """Whether to use a log scale, and why.

    Attributes:
        log: Use log10.
        reason: Where the decision came from, e.g. ``"declared in the description"`` or
            ``"sampled log-uniform (KS p=0.71 for log-uniform vs p=0.0003 for uniform, 40 values)"``.
    """

    log: bool
    reason: str


def declared_scale(info: Any) -> str | None:
    """``"log"``, ``"linear"`` or ``None`` as the experiment declares it (the reader's
    :attr:`HParamInfo.declared_scale`: description and display name)."""
    return None if info is None else getattr(info, "declared_scale", None)


def _declared_bounds(info: Any) -> tuple[float | None, float | None]:
    domain = getattr(info, "domain", None)
    lo, hi = getattr(domain, "min_value", None), getattr(domain, "max_value", None)
    ok = lambda v: v is not None and math.isfinite(float(v))  # noqa: E731
    return (float(lo) if ok(lo) else None, float(hi) if ok(hi) else None)


def _grid_scale(distinct: np.ndarray) -> str | None:
    """``"log"`` for a geometric grid, ``"linear"`` for an arithmetic one, ``None`` for neither."""
    if len(distinct) < GRID_MIN:
        return None
    diffs = np.diff(distinct)
    ratios = distinct[1:] / distinct[:-1]
    if np.ptp(diffs) <= 0.01 * np.mean(diffs):
        return "linear"
    if np.ptp(ratios) <= 0.01 * np.mean(ratios):
        return "log"
    return None


def _ks_uniform(u: np.ndarray) -> tuple[float, float]:
    """One-sample Kolmogorov-Smirnov test of ``u`` (already mapped to [0, 1]) against U(0, 1).

    numpy only (the plots use this rule too, and need not import scipy): the exact statistic and
    the asymptotic p-value with Stephens' small-sample correction (Stephens 1970), within 0.025
    of scipy's exact p-value from 8 values on (tests/analysis/test_analysis_evidence.py).
    """
    u = np.sort(np.clip(u, 0.0, 1.0))
    n = u.size
    i = np.arange(1, n + 1)
    d = float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    k = np.arange(1, 101)
    p = float(2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * (k * lam) ** 2)))
    return d, min(1.0, max(0.0, p))


def _ks_test(x: np.ndarray, lo: float, hi: float) -> tuple[float, float, float, float]:
    """KS distance and p-value of uniform-in-linear and uniform-in-log over ``[lo, hi]``."""
    d_lin, p_lin = _ks_uniform((x - lo) / (hi - lo))
    llo, lhi = math.log10(lo), math.log10(hi)
    d_log, p_log = _ks_uniform((np.log10(x) - llo) / (lhi - llo))
    return d_lin, p_lin, d_log, p_log


def decide_scale(values: Any, info: Any = None, *, declared: str | None = None) -> ScaleDecision:
    """Decide the scale of one numeric hyperparameter (see the module docstring for the rule).

    Args:
        values: Its observed values (missing and non-finite ones are ignored).
        info: Its ``HParamInfo`` (description, display name, declared interval), or ``None``.
        declared: ``"log"``/``"linear"`` known from elsewhere (a space file's distribution);
            overrides what ``info`` says.

    Returns:
        The :class:`ScaleDecision`.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size and x.min() <= 0:
        return ScaleDecision(False, "values at or below 0 have no logarithm")
    said = declared or declared_scale(info)
    if said is not None:
        where = "space file" if declared else "description"
        return ScaleDecision(said == "log", f"declared in the {where}")
    distinct = np.unique(x)
    if len(distinct) <= GRID_MAX and x.size >= 2 * len(distinct):
        grid = _grid_scale(distinct)
        if grid is not None:
            kind = "geometric" if grid == "log" else "arithmetic"
            return ScaleDecision(grid == "log", f"a {kind} grid of {len(distinct)} values")
    if len(distinct) < MIN_VALUES:
        return ScaleDecision(False, f"{len(distinct)} distinct values are too few to test how they were sampled")
    dlo, dhi = _declared_bounds(info)
    lo = min(float(x.min()), dlo) if dlo is not None and dlo > 0 else float(x.min())
    hi = max(float(x.max()), dhi) if dhi is not None else float(x.max())
    # distinct values: repeats and CV folds log one sampled value several times
    d_lin, p_lin, d_log, p_log = _ks_test(distinct, lo, hi)
    test = f"KS p={p_log:.2g} for log-uniform vs p={p_lin:.2g} for uniform, {len(distinct)} distinct values"
    if p_lin < KS_ALPHA and d_log < d_lin:
        return ScaleDecision(True, f"sampled log-uniform ({test})")
    return ScaleDecision(False, f"sampled uniform ({test})")


def is_log_scaled(values: Any, info: Any = None, *, declared: str | None = None) -> bool:
    """True when :func:`decide_scale` puts this hyperparameter on a log scale."""
    return decide_scale(values, info, declared=declared).log
