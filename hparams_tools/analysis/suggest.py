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
  The sampling distribution is kept: the scale comes from the one scale rule
  (:mod:`.scale`: the declared distribution first).
* lists (a numeric grid, categories, booleans): the values that occur among the top rows (the
  categories left out are named); a numeric grid whose best row uses its largest/smallest value,
  where more of the top rows use that value than any other, gets the next grid step beyond it (epochs 4, 8, 16 -> 32).
* interactions: a numeric range in a notable interaction with a categorical hyperparameter gets
  one range per kept category (``conditional_on``/``by_value``), each from that category's own
  best rows.
* unimportant hyperparameters (no importance method gives them half an equal share, no
  significant OLS term, no notable interaction) are fixed at an observed value: the best
  session's, or the best session's that logged it (never an imputed value) -- unless the
  forest's R² is too low to trust importances, then nothing is fixed.
* constant hyperparameters stay fixed at their value, so the file describes a complete run.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._format import format_number
from ..errors import require
from ..space import Parameter, SearchSpace, next_experiment_name
from .prepare import Factor, Prepared

__all__ = ["Suggestion", "suggest_space", "try_next", "EDGE_FRACTION", "PUSH_FRACTION", "TRUST_R2"]

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
MIN_CATEGORY_ROWS = 3    # observed rows a category needs before it gets its own range
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
        fixed: Hyperparameters fixed because they do not matter (at an observed value).
        conditional: Numeric hyperparameter -> the categorical one its ranges depend on.
        dropped: Categorical hyperparameter -> the levels left out (with their best observed value).
    """

    space: SearchSpace
    comments: dict[str, str]
    header: str
    edges: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    conditional: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)


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


def _grid_edge(prep: Prepared, raw: np.ndarray, real: np.ndarray, grid: tuple[float, ...], best: int,
               top: np.ndarray) -> str | None:
    """``"upper"``/``"lower"`` when the best row uses the grid's largest/smallest value and more of the
    top rows use that value than any other (observed values only; a mean would let runs that failed
    for another reason, e.g. a too-high learning rate, hide the edge)."""
    if len(grid) < 2 or not real[best]:
        return None
    counts = {v: int((top & real & (raw == v)).sum()) for v in grid}
    for edge, value in (("upper", max(grid)), ("lower", min(grid))):
        others = max(c for v, c in counts.items() if v != value)
        if raw[best] == value and counts[value] >= 2 and counts[value] > others:
            return edge
    return None


def _numeric(h: Factor, prep: Prepared, top: np.ndarray, best: int, important: bool) -> tuple[Parameter, str, str | None, str]:
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
        edge = _grid_edge(prep, raw, real, grid, best, top) if important else None
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


def _categorical(h: Factor, prep: Prepared, top: np.ndarray) -> tuple[Parameter, str, str]:
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


def _fixed_value(h: Factor, prep: Prepared) -> tuple[Any, str]:
    """The value to fix an unimportant hyperparameter at: observed in the best session that logged it."""
    value, where = prep.observed_best(h.name)
    if h.kind == "numeric":
        value = int(round(float(value))) if h.integer else float(f"{float(value):.4g}")
    return value, where


def _interaction_partner(name: str, prep: Prepared, pairs: list[tuple[str, str]]) -> str | None:
    """The categorical hyperparameter that ``name`` interacts with most strongly (pairs come strongest first)."""
    for a, b in pairs:
        other = b if a == name else a if b == name else None
        if other is not None and prep.hparams[other].kind in ("categorical", "bool"):
            return other
    return None


def _per_category(h: Factor, parent: Parameter, prep: Prepared, top: float, flat: Parameter
                  ) -> tuple[Parameter, str] | None:
    """One range per kept category of ``parent``: each category's own best rows, widened as usual.

    ``None`` when a category has too few observed rows to place its range, or a range would not
    be a distribution (a grid, a single value).
    """
    col = prep.data[parent.name].map(_label)
    real = ~prep.imputed.get(h.name, np.zeros(len(col), dtype=bool))
    ranges, parts = [], []
    for level in parent.values:
        rows = (col == _label(level)).to_numpy() & real
        if rows.sum() < MIN_CATEGORY_ROWS:
            return None
        sub = prep.subset(rows)
        best_rows = sub.top_mask(top)
        param, _, _, _ = _numeric(h, sub, best_rows, sub.best_index(), important=True)
        if not param.is_distribution:
            return None
        seen = sub.data[h.name].to_numpy(dtype=float)[best_rows]
        ranges.append((level, param.min, param.max))
        parts.append(f"{_label(level)}: {fmt(param.min)} to {fmt(param.max)} "
                     f"(its best rows: {fmt(float(seen.min()))} to {fmt(float(seen.max()))})")
    lows, highs = [lo for _, lo, _ in ranges], [hi for _, _, hi in ranges]
    param = Parameter(h.name, flat.kind, min=min(lows), max=max(highs), conditional_on=parent.name,
                      by_value=tuple(ranges))
    return param, f"{h.name} and {parent.name} interact, so each {parent.name} gets its own range: " + "; ".join(parts)


def _dropped_levels(h: Factor, param: Parameter, prep: Prepared) -> list[str]:
    """Levels of a categorical hyperparameter that the next space leaves out, with their best observed value."""
    kept = {_label(v) for v in param.values}
    col = prep.data[h.name].map(_label)
    y = prep.y
    out = []
    for level in h.levels:
        if level not in kept:
            vals = y[(col == level).to_numpy()]
            best = vals.max() if prep.goal == "maximize" else vals.min()
            out.append(f"{level} (best {fmt(float(best))} over {len(vals)} rows)")
    return out


def suggest_space(
    prep: Prepared, importance: pd.DataFrame, ols: pd.DataFrame, forest_r2: float | None, *,
    top: float = 0.2, seed: int = 0, source: str = "", interacting: set[str] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> Suggestion:
    """Build the next search space from the analysis.

    Args:
        prep: Prepared data.
        importance: Importance table with a ``consensus`` column (and ``permutation`` if computed).
        ols: OLS table (may be empty).
        forest_r2: The forest's out-of-sample R², or ``None``.
        interacting: Hyperparameters in a notable interaction (never fixed).
        pairs: The notable interacting pairs, strongest first: a numeric hyperparameter paired
            with a categorical one gets one range per category (a conditional range).
        top: Fraction of best rows that defines the promising region.
        seed: Seed written into the space (the next sweep's sampler seed).
        source: Where the data came from (for the header and the next experiment's name).

    Returns:
        A :class:`Suggestion`; its space passes :func:`hparams_tools.space.parse_space`.
    """
    mask = prep.top_mask(top)
    best = prep.best_index()
    trust = forest_r2 is not None and forest_r2 >= TRUST_R2
    out = Suggestion(SearchSpace(parameters={}), {}, "")
    params: dict[str, Parameter] = {}
    rank = {n: i + 1 for i, n in enumerate(importance.index)}
    for name, h in prep.hparams.items():
        share = float(importance.at[name, "consensus"]) if name in importance.index else 0.0
        imp = f"importance rank {rank.get(name, '?')} of {len(prep.hparams)}, consensus share {share:.2f}"
        unimportant = trust and _is_unimportant(name, importance, ols, prep, interacting or set())
        if unimportant:
            value, where = _fixed_value(h, prep)
            params[name] = Parameter(name, "value", (value,))
            out.comments[name] = f"fixed at {_label(value) if not isinstance(value, float) else fmt(value)}, " \
                                 f"{where}: no detectable effect ({imp})"
            out.fixed.append(name)
            out.regions[name] = ""
            continue
        if h.kind == "numeric":
            param, why, edge, region = _numeric(h, prep, mask, best, important=True)
        else:
            param, why, region = _categorical(h, prep, mask)
            edge = None
            dropped = _dropped_levels(h, param, prep)
            if dropped:
                out.dropped[name] = dropped
                why += f"; dropped {', '.join(dropped)}: never among the top rows"
        out.regions[name] = region
        if edge:
            out.edges[name] = edge
        params[name] = param
        out.comments[name] = f"{why}; {imp}"
    _make_conditional(prep, params, out, top, pairs or [])
    for name, value in prep.constants.items():
        params[name] = Parameter(name, "value", (value,))
        out.comments[name] = "constant in the analysed sweep; kept as it was"
    method, max_trials, reason = _method(params)
    n_top = int(mask.sum())
    out.header = "\n".join([
        "Next search space suggested by `hparams-tools suggest`" + (f" from {source}" if source else "") + ".",
        f"Target {prep.target} ({prep.goal}), {prep.n_used} rows analysed; the top {top:.0%} = {n_top} rows "
        "define the promising region.",
        f"method {method}: {reason}.",
        "" if trust else ("Too few sessions to check the importances on held-out data: no hyperparameter was fixed."
                          if forest_r2 is None else
                          "The forest's out-of-sample R² is too low to trust importances: no hyperparameter was fixed."),
    ]).rstrip()
    out.space = SearchSpace(
        parameters=params, method=method, metric=prep.target, goal=prep.goal,
        max_trials=max_trials, seed=seed, name=next_experiment_name(Path(source).name) if source else None,
    )
    return out


def _make_conditional(prep: Prepared, params: dict[str, Parameter], out: Suggestion, top: float,
                      pairs: list[tuple[str, str]]) -> None:
    """Replace a flat range by per-category ranges where a numeric and a categorical hyperparameter interact."""
    for name, param in list(params.items()):
        partner = _interaction_partner(name, prep, pairs) if param.is_distribution else None
        parent = params.get(partner) if partner else None
        if parent is None or parent.kind != "values":
            continue
        made = _per_category(prep.hparams[name], parent, prep, top, param)
        if made is not None:
            params[name], why = made
            out.conditional[name] = partner
            out.comments[name] = why + "; " + out.comments[name].rsplit("; ", 1)[-1]


def try_next(suggestion: Suggestion, space_file: str = "the suggested space") -> str:
    """One sentence saying what the suggested file does, parameter by parameter."""
    parts = []
    for name, p in suggestion.space.parameters.items():
        if name in suggestion.fixed:
            parts.append(f"fix {name} at {_label(p.values[0])}")
        elif p.conditional_on is not None:
            per = ", ".join(f"{fmt(lo)}-{fmt(hi)} for {_label(v)}" for v, lo, hi in p.by_value)
            parts.append(f"{name} {per}")
        elif p.is_distribution:
            extra = f" (beyond the {suggestion.edges[name]} edge)" if name in suggestion.edges else ""
            parts.append(f"{name} {fmt(p.min)}-{fmt(p.max)}{' on a log scale' if p.is_log else ''}{extra}")
        elif p.kind == "values" and name in suggestion.regions:
            extra = " (extended beyond the edge)" if name in suggestion.edges else ""
            parts.append(f"{name} in {{{', '.join(_label(v) for v in p.values)}}}{extra}")
    space = suggestion.space
    trials = f", {space.max_trials} trials" if space.max_trials else ""
    return (f"Try next: {space_file} ({space.method}{trials}"
            + (f", experiment {space.name}" if space.name else "") + "): " + "; ".join(parts) + ".")
