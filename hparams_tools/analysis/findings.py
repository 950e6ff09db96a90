"""Plain-language statements generated from the analysis' numbers, ranked by what a person should do.

Order: where runs fail or collapse; edges of the searched space; the few hyperparameters that matter
and how sure we are (a method whose fit is too weak for the data is named and left out); the best
regions and interactions; what has no effect; data-quality warnings; the best row (observed values,
and what was imputed); one closing "Try next" sentence that matches the suggested space file.
Every number says where it came from: observed, imputed (how), a group mean (of how many), or a
model's estimate (which).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .prepare import Prepared
from .suggest import Suggestion, fmt, try_next

__all__ = ["findings", "notable_interactions", "METHOD_NAMES", "LOW_R2", "P_CLEAR"]

METHOD_NAMES = {"forest": "forest", "permutation": "permutation", "fanova": "fANOVA", "ped_anova": "PED-ANOVA"}
LOW_R2 = 0.3
P_CLEAR = 0.01
P_LINEAR = 0.05
HIGH_SHARE = 0.15
ROWS_PER_HPARAM = 10
FAILED_SHARE = 0.2
REPEAT_SPREAD = 0.5
INTERACTION_H2 = 0.25
INTERACTION_STRENGTH = 0.005
OLS_MIN_R2 = 0.5          # OLS is quoted with ROWS_PER_HPARAM rows per term and this R² (or a clear term)
COLLAPSE_BAND = 0.1       # "collapsed": within 10% of the (median - worst) gap from the worst value
COLLAPSE_PRECISION = 0.6  # a region where at least 60% of the runs collapsed
MAX_CUTS = 64             # candidate thresholds per numeric hyperparameter


def _worse_is_lower(goal: str) -> bool:
    return goal == "maximize"


def _collapse(prep: Prepared) -> list[str]:
    """Regions where runs collapse to about the worst value seen (e.g. chance accuracy at a high learning rate)."""
    y = prep.y.to_numpy(dtype=float)
    sign = 1.0 if _worse_is_lower(prep.goal) else -1.0
    s = sign * y                                   # higher is better
    worst, median, best = float(s.min()), float(np.median(s)), float(s.max())
    if best - worst <= 0 or median - worst < 0.25 * (best - worst):
        return []
    collapsed = s <= worst + COLLAPSE_BAND * (median - worst)
    if collapsed.sum() < 2 or collapsed.mean() > 0.5:
        return []
    level = fmt(float(sign * (worst + COLLAPSE_BAND * (median - worst))))
    bound = "<=" if _worse_is_lower(prep.goal) else ">="
    out = []
    for name, h in prep.hparams.items():
        real = ~prep.imputed.get(name, np.zeros(len(y), dtype=bool))
        region = _collapse_region(prep, name, h.kind, real, collapsed)
        if region is not None:
            where, k, m = region
            out.append(f"{where} collapsed in {k} of {m} runs ({prep.target} {bound} {level}, near the worst "
                       f"observed {fmt(float(sign * worst))}); avoid it.")
    return out


def _collapse_region(prep: Prepared, name: str, kind: str, real: np.ndarray, collapsed: np.ndarray
                     ) -> tuple[str, int, int] | None:
    """The tail (numbers) or level (categories) with the most collapsed runs, if it clearly concentrates them."""
    col = prep.data[name]
    candidates: list[tuple[str, np.ndarray]] = []
    if kind == "numeric":
        x = col.to_numpy(dtype=float)
        cuts = np.unique(x[real])
        if len(cuts) > MAX_CUTS:   # observed values at evenly spaced quantiles keep large sweeps fast
            cuts = np.unique(np.quantile(x[real], np.linspace(0, 1, MAX_CUTS), method="nearest"))
        for v in cuts:
            candidates.append((f"{name} >= ~{fmt(v)}", real & (x >= v)))
            candidates.append((f"{name} <= ~{fmt(v)}", real & (x <= v)))
    else:
        labels = col.astype(str).str.lower().to_numpy()
        candidates = [(f"{name}={lv}", real & (labels == lv)) for lv in np.unique(labels[real])]
    best = None
    for where, inside in candidates:
        k, m = int((collapsed & inside).sum()), int(inside.sum())
        rest = collapsed[real & ~inside]
        if k < 2 or k / m < COLLAPSE_PRECISION or (rest.size and rest.mean() > 0.5 * k / m):
            continue
        if k < collapsed[real].sum() * 0.66:
            continue                                # it must hold most of the collapsed runs
        key = (k / m, m)
        if best is None or key > best[0]:
            best = (key, where, k, m)
    return None if best is None else (best[1], best[2], best[3])


def _edges(prep: Prepared, suggestion: Suggestion) -> list[str]:
    out = []
    for name, edge in suggestion.edges.items():
        h = prep.hparams[name]
        grid = suggestion.space.parameters[name].kind == "values"
        bound = h.high if edge == "upper" else h.low
        if grid:
            side = "top" if edge == "upper" else "bottom"
            out.append(f"The best runs sit at the {side} of the {name} values you searched ({fmt(bound)}, the "
                       f"{edge} edge; observed): try more (the suggested space adds the next value).")
        else:
            out.append(f"The best runs sit at the {edge} edge of {name}'s range ({fmt(bound)}; observed): "
                       "the suggested space goes beyond it.")
    return out


def _ols_usable(prep: Prepared, ols: pd.DataFrame, ols_r2: float | None) -> tuple[bool, str | None]:
    """Whether OLS has enough rows (and either a fit or a clear term) to be quoted; else why it is left out."""
    if ols.empty:
        return False, None
    terms = ols.drop(index="intercept", errors="ignore")
    enough = prep.n_used >= ROWS_PER_HPARAM * max(len(terms), 1)
    fits = (ols_r2 is not None and ols_r2 >= OLS_MIN_R2) or bool((terms["p_value"] < P_CLEAR).any())
    if enough and fits:
        return True, None
    r2 = "-" if ols_r2 is None else f"{ols_r2:.2f}"
    return False, (f"The linear fit (OLS) is left out of these findings: R² {r2} with {prep.n_used} rows for "
                   f"{len(terms)} terms (it needs {ROWS_PER_HPARAM} rows per term, and R² >= {OLS_MIN_R2} or a term "
                   f"with p < {P_CLEAR}); its table is still shown.")


def _what_matters(prep: Prepared, importance: pd.DataFrame, forest_r2: float | None) -> list[str]:
    """The few hyperparameters that matter (at least half an equal consensus share), and how sure we are."""
    k = len(importance)
    share = importance["consensus"]
    few = [n for n in importance.index if float(share[n]) >= 0.5 / k] or [importance.index[0]]
    methods = [label for col, label in METHOD_NAMES.items() if col in importance.columns and importance[col].notna().all()]
    listed = ", ".join(f"{n} {float(share[n]):.2f}" for n in few)
    if forest_r2 is None:
        sure = "unverified: too few rows to test the forest on held-out sessions"
    elif forest_r2 < LOW_R2:
        sure = f"unreliable: the forest predicts held-out sessions with R² {forest_r2:.2f} only"
    else:
        sure = f"the forest predicts held-out sessions with R² {forest_r2:.2f}"
    source = (f"median over {len(methods)} model-based methods: {', '.join(methods)}" if len(methods) > 1
              else f"from the one model-based method that ran: {methods[0]}" if methods else "no model-based method ran")
    out = [f"What matters: {listed} (share of importance, {source}); {sure}."]
    firsts = {label: str(importance[col].idxmax()) for col, label in METHOD_NAMES.items()
              if col in importance.columns and importance[col].notna().any()}
    if len(firsts) > 1:
        if len(set(firsts.values())) == 1:
            out.append(f"All {len(firsts)} importance methods agree that {importance.index[0]} matters most.")
        else:
            parts = "; ".join(f"{label}: {name}" for label, name in firsts.items())
            out.append(f"The importance methods disagree on the most important hyperparameter ({parts}).")
    return out


def _direction(delta: float, goal: str) -> str:
    better = (delta > 0) == (goal == "maximize")
    verb = "raises" if delta > 0 else "lowers"
    return f"{verb} ({'better' if better else 'worse'})"


def _linear_effects(prep: Prepared, ols: pd.DataFrame, ols_r2: float | None) -> list[str]:
    out = []
    r2 = "-" if ols_r2 is None else f"{ols_r2:.2f}"
    terms = ols.drop(index="intercept", errors="ignore")
    terms = terms[terms["p_value"] < P_CLEAR]
    terms = terms.reindex(terms["std_coef"].abs().sort_values(ascending=False).index)[:5]
    owner = {c: h for h in prep.hparams.values() for c in h.ols_columns}
    target = prep.target
    for term, row in terms.iterrows():
        h = owner.get(term)
        coef, p = float(row["coef"]), float(row["p_value"])
        if h is None:
            continue
        fit = f"OLS estimate, p={p:.2g}, fit R² {r2}"
        if h.kind == "categorical":
            level = term.split("=", 1)[1]
            out.append(f"{h.name}={level} {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} on average "
                       f"compared with {h.reference} ({fit}).")
        elif h.kind == "bool":
            out.append(f"{h.name}=true {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} on average ({fit}).")
        elif h.log:
            out.append(f"Each tenfold increase of {h.name} {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} "
                       f"on average over the searched range ({fit}).")
        else:
            sd = float(prep.data[h.name].std())
            out.append(f"Increasing {h.name} by one standard deviation ({fmt(sd)}) {_direction(coef, prep.goal)} "
                       f"{target} by {fmt(abs(coef) * sd)} on average ({fit}).")
    return out


def _nonlinear(prep: Prepared, importance: pd.DataFrame, ols: pd.DataFrame) -> list[str]:
    """One sentence for every hyperparameter the forest finds important but no straight line explains."""
    if ols.empty or "forest" not in importance.columns:
        return []
    names = []
    for name, h in prep.hparams.items():
        terms = [c for c in h.ols_columns if c in ols.index]
        if float(importance.at[name, "forest"]) >= HIGH_SHARE and terms and float(ols.loc[terms, "p_value"].min()) > P_LINEAR:
            names.append(name)
    if not names:
        return []
    return [f"{', '.join(names)}: important to the forest but without a linear trend (OLS p > {P_LINEAR}): "
            "the best value lies inside the range, or depends on other hyperparameters."]


def _regions(prep: Prepared, importance: pd.DataFrame, suggestion: Suggestion, top: float) -> list[str]:
    """One sentence: where the best runs are, for the (up to) three most important free hyperparameters."""
    parts = [f"{name} {suggestion.regions[name]}" for name in importance.index[:3]
             if name not in suggestion.fixed and suggestion.regions.get(name)]
    return [f"The best {top:.0%} of runs (observed): {'; '.join(parts)}."] if parts else []


def notable_interactions(interactions: pd.DataFrame, forest_r2: float | None) -> pd.DataFrame:
    """The pairs whose H² and strength are both large enough to report (only from a forest worth trusting)."""
    keep = (interactions["h2"] >= INTERACTION_H2) & (interactions["strength"] >= INTERACTION_STRENGTH)
    if forest_r2 is None or forest_r2 < LOW_R2:
        keep &= False
    return interactions[keep]


def _interactions(interactions: pd.DataFrame, forest_r2: float | None, suggestion: Suggestion) -> list[str]:
    out = []
    for _, row in notable_interactions(interactions, forest_r2).iterrows():
        a, b = str(row["a"]), str(row["b"])
        done = ""
        for num, cat in suggestion.conditional.items():
            if {num, cat} == {a, b}:
                done = f" The suggested space gives {num} one range per {cat}."
        out.append(f"{a} and {b} interact: the best value of one depends on the other (forest partial dependence: "
                   f"H²={row['h2']:.2f}, {row['strength']:.0%} of the predicted variation).{done}")
    return out


def _no_effect(importance: pd.DataFrame, suggestion: Suggestion) -> list[str]:
    if not suggestion.fixed:
        return []
    names = ", ".join(f"{n} (share {importance.at[n, 'consensus']:.2f})" for n in suggestion.fixed)
    verb = "shows" if len(suggestion.fixed) == 1 else "show"
    return [f"{names} {verb} no detectable effect: the suggested space fixes "
            f"{'it' if len(suggestion.fixed) == 1 else 'them'} at an observed value of the best runs."]


def _dropped(suggestion: Suggestion) -> list[str]:
    return [f"{name}: {', '.join(levels)} never among the best runs; the suggested space drops "
            f"{'it' if len(levels) == 1 else 'them'}." for name, levels in suggestion.dropped.items()]


def _data_quality(prep: Prepared, forest_r2: float | None) -> list[str]:
    out = []
    k = len(prep.hparams)
    if prep.n_used < ROWS_PER_HPARAM * k:
        out.append(f"Warning: only {prep.n_used} rows for {k} varying hyperparameters "
                   f"(fewer than {ROWS_PER_HPARAM} per hyperparameter): treat the rankings as rough.")
    bad = prep.n_failed + prep.n_missing_target
    if prep.n_sessions and bad / prep.n_sessions >= FAILED_SHARE:
        out.append(f"Warning: {bad} of {prep.n_sessions} sessions failed or have no {prep.target} value "
                   f"({bad / prep.n_sessions:.0%}); look at what made them fail.")
    if prep.groups is not None and len(prep.groups):
        within = float(prep.groups["std"].mean())
        between = float(prep.y.std())
        if between > 0 and within > REPEAT_SPREAD * between:
            out.append(f"Warning: repeats disagree a lot (mean std within groups {fmt(within)} vs std of group "
                       f"means {fmt(between)}): differences between configurations are partly noise; run more repeats.")
    if forest_r2 is None:
        out.append("Warning: too few rows to measure how well the forest predicts; importances are unverified.")
    elif forest_r2 < LOW_R2:
        out.append(f"Warning: the forest explains little of {prep.target} on held-out sessions (R²={forest_r2:.2f}): "
                   "importances are unreliable; the target may be mostly noise.")
    return out


def _best_row(prep: Prepared) -> str:
    """The best row with observed values; imputed ones are named as such, a group mean says of how many."""
    best = prep.best_index()
    row = prep.data.iloc[best]
    parts, missing = [], []
    for n, h in prep.hparams.items():
        if prep.imputed.get(n, np.zeros(len(prep.y), dtype=bool))[best]:
            missing.append(f"{n} (imputed {_short(row[n])} for the analysis: {h.imputation})")
        else:
            parts.append(f"{n}={_short(row[n])}")
    value = f"{prep.target}={fmt(float(prep.y.iloc[best]))}"
    if prep.groups is not None and prep.data.index[best] in prep.groups.index:
        value += f" (mean of {int(prep.groups.at[prep.data.index[best], 'count'])} sessions of its group)"
    text = f"Best row (observed): {value} with {', '.join(parts) or 'no logged hyperparameter'}"
    return text + (f"; not logged: {', '.join(missing)}." if missing else ".")


def findings(
    prep: Prepared, *, importance: pd.DataFrame, ols: pd.DataFrame, interactions: pd.DataFrame,
    forest_r2: float | None, suggestion: Suggestion, top: float, ols_r2: float | None = None,
) -> list[str]:
    """Turn the numbers into short statements, ranked by what a person should do.

    Returns:
        Sentences: collapse and failure regions, edges, what matters and how sure, linear effects
        (only when OLS fits well enough for the data; else one sentence says it was left out),
        nonlinear effects, best regions, interactions, no-effect hyperparameters, dropped
        categories, data-quality warnings, the best row, and the closing "Try next" sentence.
    """
    out: list[str] = _collapse(prep) + [f"Warning: {p}" for p in prep.failure_patterns]
    out += _edges(prep, suggestion)
    if not importance.empty:
        out += _what_matters(prep, importance, forest_r2)
    usable, left_out = _ols_usable(prep, ols, ols_r2)
    if usable:
        out += _linear_effects(prep, ols, ols_r2)
    if not importance.empty:
        out += _nonlinear(prep, importance, ols if usable else ols.iloc[0:0])
        out += _regions(prep, importance, suggestion, top)
    out += _interactions(interactions, forest_r2, suggestion)
    if not importance.empty:
        out += _no_effect(importance, suggestion)
    out += _dropped(suggestion)
    if left_out:
        out.append(left_out)
    out += _data_quality(prep, forest_r2)
    out.append(_best_row(prep))
    out.append(try_next(suggestion))
    return out


def _short(v) -> str:
    if isinstance(v, (float, np.floating)):
        return fmt(float(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    return str(v)
