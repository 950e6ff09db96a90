"""The next search space: narrow to where the best sessions are, widen where they hit an edge.

Rules, per hyperparameter (``top`` = the best fraction of rows, default 20%):

* range (numbers): the top rows' min..max on the analysis scale (log10 for log-scaled ones;
  their 5th..95th percentile when there are at least 20 top rows, so stragglers do not set it),
  widened on each side by ``max(10% of that width, 5% of the searched width)``, kept inside the
  searched range -- except at an edge: when the top rows reach within 5% of a bound, the best
  row lies in the outer 15% beside it and the rows in that outer 15% do better on average than
  the others (one-sided Welch t-test, p < 0.05), the range is pushed 25% of the searched width beyond
  that bound (never below 0 for non-negative linear parameters). Integers stay integers
  (``int_uniform``), log-scaled ones stay ``log_uniform_values``.
* lists (a numeric grid, categories, booleans): the values that occur among the top rows; a
  numeric grid whose best value is its largest/smallest gets the next grid step beyond it.
* unimportant hyperparameters (no importance method gives them half an equal share, no
  significant OLS term, no notable interaction) are fixed at the best row's value -- unless the forest's R² is too low
  to trust importances, then nothing is fixed.
* constant hyperparameters stay fixed at their value, so the file describes a complete run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._format import format_number
from ..errors import require
from ..space import Parameter, SearchSpace
from .prepare import HParam, Prepared

__all__ = ["Suggestion", "suggest_space", "EDGE_FRACTION", "PUSH_FRACTION", "TRUST_R2"]

EDGE_FRACTION = 0.05
BEST_EDGE_FRACTION = 0.15
EDGE_P = 0.05
TRIM = 0.05
TRIM_MIN_ROWS = 20
PUSH_FRACTION = 0.25
MARGIN_FRACTION = 0.1
TRUST_R2 = 0.2
GRID_POINTS = 3          # values per range in the sweep's grid (training.sweep --grid-points default)
MAX_GRID = 64
_UNIT_INTERVAL = re.compile(r"dropout|prob|momentum|fraction|ratio|rate|beta", re.I)


@dataclass
class Suggestion:
    """The suggested space and why.

    Attributes:
        space: The :class:`~hparams_tools.space.SearchSpace`.
        comments: One comment per parameter (written above it in the file).
        header: The file's header comment.
        edges: Hyperparameter -> ``"lower"``/``"upper"`` where the best sit at a searched bound.
        regions: Hyperparameter -> plain description of the top rows' region.
        fixed: Hyperparameters fixed because they do not matter.
    """

    space: SearchSpace
    comments: dict[str, str]
    header: str
    edges: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)


def fmt(x: float) -> str:
    """A short human form of a number (3 significant digits; the package's one number format)."""
    return format_number(x, 3)


def _round(x: float, direction: str) -> float:
    """Round to 3 significant digits, outward (down for a lower bound, up for an upper one)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    scale = 10.0 ** (math.floor(math.log10(abs(x))) - 2)
    q = x / scale
    q = math.floor(q + 1e-9) if direction == "down" else math.ceil(q - 1e-9)
    return float(f"{q * scale:.3g}")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _is_unimportant(name: str, importance: pd.DataFrame, ols: pd.DataFrame, prep: Prepared,
                    interacting: set[str]) -> bool:
    """No method gives it half an equal share, no OLS term is significant, no interaction."""
    k = len(prep.hparams)
    if name in interacting or name not in importance.index:
        return False
    for method in ("forest", "permutation", "fanova", "ped_anova"):
        if method in importance.columns and importance[method].notna().all():
            s = importance[method].clip(lower=0.0)
            if float(s.sum()) > 0 and float(s[name] / s.sum()) >= 0.5 / k:
                return False
    terms = [c for c in prep.hparams[name].ols_columns if c in ols.index]
    if terms and float(ols.loc[terms, "p_value"].min()) <= 0.05:
        return False
    return True


def _edge_is_better(prep: Prepared, near: np.ndarray) -> bool:
    """Sessions near the bound do better on average than the rest (one-sided Welch t-test, p < 0.05).

    Guards against calling an edge where the best row sits there by chance (e.g. on a 2-value grid).
    """
    stats = require("scipy.stats")
    y = prep.y.to_numpy(dtype=float)
    inside, outside = y[near], y[~near]
    if len(inside) < 2 or len(outside) < 2:
        return False
    t, p = stats.ttest_ind(inside, outside, equal_var=False)
    better = t > 0 if prep.goal == "maximize" else t < 0
    return bool(np.isfinite(p) and better and p / 2 < EDGE_P)


def _grid_step(values: list[float], direction: str) -> float | None:
    vals = sorted(values)
    if len(vals) < 2:
        return None
    if vals[0] > 0:
        ratios = [b / a for a, b in zip(vals, vals[1:])]
        if max(ratios) / min(ratios) < 1.01 and ratios[0] > 1:
            return vals[-1] * ratios[-1] if direction == "upper" else vals[0] / ratios[0]
    return vals[-1] + (vals[-1] - vals[-2]) if direction == "upper" else vals[0] - (vals[1] - vals[0])


def _numeric(h: HParam, prep: Prepared, top: np.ndarray, best: int, important: bool) -> tuple[Parameter, str, str | None, str]:
    raw = prep.data[h.name].to_numpy(dtype=float)
    t = np.asarray(h.transform(raw))
    real = ~prep.imputed.get(h.name, np.zeros(len(raw), dtype=bool))
    top = top & real if (top & real).any() else top   # imputed means are not evidence of a region
    observed = raw[real] if real.any() else raw
    tt = t[top]
    trimmed = len(tt) >= TRIM_MIN_ROWS
    if trimmed:   # a few stragglers (good for other reasons) should not set the region
        a, b = (float(v) for v in np.quantile(tt, [TRIM, 1.0 - TRIM]))
    else:
        a, b = float(tt.min()), float(tt.max())
    s, e = (float(v) for v in h.transform(np.array([h.low, h.high])))
    width, w = e - s, b - a
    best_t = float(t[best])
    span = fmt(h.untransform(a)) if a == b else f"{fmt(h.untransform(a))} to {fmt(h.untransform(b))}"
    middle = f"middle {1 - 2 * TRIM:.0%} of them; " if trimmed else ""
    region = f"{span} ({middle}searched {fmt(h.low)} to {fmt(h.high)})"
    edge = None
    if important and width > 0:
        if b >= e - EDGE_FRACTION * width and best_t >= e - BEST_EDGE_FRACTION * width:
            edge = "upper" if _edge_is_better(prep, t >= e - BEST_EDGE_FRACTION * width) else None
        elif a <= s + EDGE_FRACTION * width and best_t <= s + BEST_EDGE_FRACTION * width:
            edge = "lower" if _edge_is_better(prep, t <= s + BEST_EDGE_FRACTION * width) else None
    # A searched grid of numbers stays a list of values.
    grid = h.grid
    distinct = np.unique(observed)
    if grid is None and len(distinct) <= 6 and len(observed) >= 4 * len(distinct):
        grid = tuple(sorted(distinct.tolist()))
    if grid is not None:
        kept = sorted({float(v) for v in raw[top]})
        why = f"the top rows use {', '.join(fmt(v) for v in kept)} of the grid {', '.join(fmt(v) for v in grid)}"
        if edge is not None:
            step = _grid_step(list(grid), edge)
            if step is not None and (step > 0 or min(grid) <= 0):
                kept = sorted(set(kept) | {step})
                why += f"; the best sit at the {edge} end, so {fmt(step)} is added beyond it"
            else:
                edge = None
        vals = [int(round(v)) if h.integer else float(v) for v in kept]
        param = Parameter(h.name, "values", tuple(vals)) if len(vals) > 1 else Parameter(h.name, "value", (vals[0],))
        return param, why, edge, region
    margin = max(MARGIN_FRACTION * w, EDGE_FRACTION * width)
    lo, hi = max(a - margin, s), min(b + margin, e)
    unit = " decades" if h.log else ""
    why = f"the top rows span {region}; widened by {fmt(margin)}{unit} on each side"
    if edge == "upper":
        hi = e + PUSH_FRACTION * width
    elif edge == "lower":
        lo = s - PUSH_FRACTION * width
    low, high = float(h.untransform(lo)), float(h.untransform(hi))
    if not h.log and h.low >= 0:
        low = max(low, 0.0)
        if h.high <= 1 and _UNIT_INTERVAL.search(h.name):
            high = min(high, 1.0)
    if edge is not None:
        bound = h.high if edge == "upper" else h.low
        moved = high > h.high if edge == "upper" else low < h.low
        if moved:
            why += f"; the best sit at the {edge} edge ({fmt(bound)}), so the range is pushed beyond it"
        else:
            why += f"; the best sit at the {edge} edge ({fmt(bound)}) but it cannot go further"
            edge = None
    if h.integer:
        ilo, ihi = int(math.floor(low + 1e-9)), int(math.ceil(high - 1e-9))
        if h.low >= 1:
            ilo = max(ilo, 1)
        if ilo == ihi:
            return Parameter(h.name, "value", (ilo,)), why, edge, region
        return Parameter(h.name, "int_uniform", min=ilo, max=ihi), why, edge, region
    low, high = _round(low, "down"), _round(high, "up")
    if h.log and low <= 0:
        low = float(h.untransform(lo))
    kind = "log_uniform_values" if h.log else "uniform"
    return Parameter(h.name, kind, min=low, max=high), why, edge, region


def _categorical(h: HParam, prep: Prepared, top: np.ndarray) -> tuple[Parameter, str, str]:
    col = prep.data[h.name]
    counts = col[top].value_counts()
    kept = [v for v in col.drop_duplicates().sort_values().tolist() if v in counts.index]
    kept.sort(key=lambda v: -int(counts[v]))
    n_top = int(top.sum())
    region = ", ".join(f"{_label(v)} ({int(counts[v])}/{n_top})" for v in kept)
    why = f"the top {n_top} rows use {region}"
    vals = [_plain(v) for v in kept]
    param = Parameter(h.name, "values", tuple(vals)) if len(vals) > 1 else Parameter(h.name, "value", (vals[0],))
    return param, why, region


def _label(v: Any) -> str:
    return str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v)


def _best_value(h: HParam, prep: Prepared, best: int) -> Any:
    v = prep.best_raw.get(h.name)
    if v is None:
        v = _plain(prep.data[h.name].iloc[best])
    if h.kind == "numeric" and h.integer:
        return int(round(float(v)))
    if h.kind == "numeric":
        return float(v)
    return v


def _method(params: dict[str, Parameter]) -> tuple[str, int | None, str]:
    free = [p for p in params.values() if not p.is_fixed]
    n_grid = 1
    for p in free:
        n_grid *= len(p.values) if p.kind == "values" else GRID_POINTS
    if not free:
        return "grid", 1, "every hyperparameter is fixed: one run confirms the best configuration"
    if n_grid <= MAX_GRID:
        return "grid", n_grid, (f"grid around the best: {n_grid} combinations ({GRID_POINTS} points per range) "
                                "cover the narrowed region after the previous sweep")
    trials = int(min(60, max(20, 5 * len(free))))
    return "bayesian", trials, (f"Bayesian optimisation inside the narrowed region: a grid would need "
                                f"{n_grid} runs for {len(free)} free hyperparameters")


def suggest_space(
    prep: Prepared, importance: pd.DataFrame, ols: pd.DataFrame, forest_r2: float | None, *,
    top: float = 0.2, seed: int = 0, source: str = "", interacting: set[str] | None = None,
) -> Suggestion:
    """Build the next search space from the analysis.

    Args:
        prep: Prepared data.
        importance: Importance table with a ``consensus`` column (and ``permutation`` if computed).
        ols: OLS table (may be empty).
        forest_r2: The forest's out-of-sample R², or ``None``.
        interacting: Hyperparameters in a notable interaction (never fixed).
        top: Fraction of best rows that defines the promising region.
        seed: Seed written into the space (the next sweep's sampler seed).
        source: Where the data came from (for the header).

    Returns:
        A :class:`Suggestion`; its space passes :func:`hparams_tools.space.parse_space`.
    """
    mask = prep.top_mask(top)
    best = prep.best_index()
    trust = forest_r2 is not None and forest_r2 >= TRUST_R2
    params: dict[str, Parameter] = {}
    comments: dict[str, str] = {}
    edges: dict[str, str] = {}
    regions: dict[str, str] = {}
    fixed: list[str] = []
    rank = {n: i + 1 for i, n in enumerate(importance.index)}
    for name, h in prep.hparams.items():
        share = float(importance.at[name, "consensus"]) if name in importance.index else 0.0
        imp = f"importance rank {rank.get(name, '?')} of {len(prep.hparams)}, consensus share {share:.2f}"
        unimportant = trust and _is_unimportant(name, importance, ols, prep, interacting or set())
        if h.kind == "numeric":
            param, why, edge, region = _numeric(h, prep, mask, best, important=not unimportant)
        else:
            param, why, region = _categorical(h, prep, mask)
            edge = None
        regions[name] = region
        if unimportant:
            value = _best_value(h, prep, best)
            value = float(f"{value:.4g}") if isinstance(value, float) else value
            params[name] = Parameter(name, "value", (value,))
            comments[name] = f"fixed at the best session's value: no detectable effect ({imp})"
            fixed.append(name)
            continue
        if edge:
            edges[name] = edge
        params[name] = param
        comments[name] = f"{why}; {imp}"
    for name, value in prep.constants.items():
        params[name] = Parameter(name, "value", (value,))
        comments[name] = "constant in the analysed sweep; kept as it was"
    method, max_trials, reason = _method(params)
    n_top = int(mask.sum())
    header = "\n".join([
        "Next search space suggested by `hparams-tools suggest`" + (f" from {source}" if source else "") + ".",
        f"Target {prep.target} ({prep.goal}), {prep.n_used} rows analysed; the top {top:.0%} = {n_top} rows "
        "define the promising region.",
        f"method {method}: {reason}.",
        "" if trust else ("Too few sessions to check the importances on held-out data: no hyperparameter was fixed."
                          if forest_r2 is None else
                          "The forest's out-of-sample R² is too low to trust importances: no hyperparameter was fixed."),
    ]).rstrip()
    space = SearchSpace(
        parameters=params, method=method, metric=prep.target, goal=prep.goal,
        max_trials=max_trials, seed=seed,
    )
    return Suggestion(space, comments, header, edges, regions, fixed)
