"""Plain-language statements generated from the analysis' numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .prepare import Prepared
from .suggest import Suggestion, fmt

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


def _ranking(importance: pd.DataFrame) -> list[str]:
    out = []
    ranked = importance.index.tolist()
    top3 = ", ".join(f"{n} ({importance.at[n, 'consensus']:.2f})" for n in ranked[:3])
    out.append(f"Most important hyperparameters (median share of importance over the methods): {top3}.")
    firsts = {}
    for col, label in METHOD_NAMES.items():
        if col in importance.columns and importance[col].notna().any():
            firsts[label] = str(importance[col].idxmax())
    if len(firsts) > 1:
        if len(set(firsts.values())) == 1:
            out.append(f"All {len(firsts)} importance methods agree that {ranked[0]} matters most.")
        else:
            parts = "; ".join(f"{label}: {name}" for label, name in firsts.items())
            out.append(f"The importance methods disagree on the most important hyperparameter ({parts}).")
    return out


def _direction(delta: float, goal: str) -> str:
    better = (delta > 0) == (goal == "maximize")
    verb = "raises" if delta > 0 else "lowers"
    return f"{verb} ({'better' if better else 'worse'})"


def _linear_effects(prep: Prepared, ols: pd.DataFrame) -> list[str]:
    if ols.empty:
        return []
    out = []
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
        if h.kind == "categorical":
            level = term.split("=", 1)[1]
            out.append(f"{h.name}={level} {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} on average "
                       f"compared with {h.reference} (p={p:.2g}).")
        elif h.kind == "bool":
            out.append(f"{h.name}=true {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} on average "
                       f"(p={p:.2g}).")
        elif h.log:
            out.append(f"Each tenfold increase of {h.name} {_direction(coef, prep.goal)} {target} by {fmt(abs(coef))} "
                       f"on average over the searched range (linear fit, p={p:.2g}).")
        else:
            sd = float(prep.data[h.name].std())
            out.append(f"Increasing {h.name} by one standard deviation ({fmt(sd)}) {_direction(coef, prep.goal)} "
                       f"{target} by {fmt(abs(coef) * sd)} on average (linear fit, p={p:.2g}).")
    return out


def _nonlinear(prep: Prepared, importance: pd.DataFrame, ols: pd.DataFrame) -> list[str]:
    if ols.empty or "forest" not in importance.columns:
        return []
    out = []
    for name, h in prep.hparams.items():
        share = float(importance.at[name, "forest"])
        terms = [c for c in h.ols_columns if c in ols.index]
        if share >= HIGH_SHARE and terms:
            p = float(ols.loc[terms, "p_value"].min())
            if p > P_LINEAR:
                out.append(f"{name} has high forest importance ({share:.2f}) but a large OLS p-value (p={p:.2g}): "
                           "its effect is nonlinear or depends on other hyperparameters.")
    return out


def _no_effect(prep: Prepared, importance: pd.DataFrame, ols: pd.DataFrame, suggestion: Suggestion) -> list[str]:
    out = []
    for name in suggestion.fixed:
        terms = [c for c in prep.hparams[name].ols_columns if c in ols.index]
        p = f"; OLS p={float(ols.loc[terms, 'p_value'].min()):.2g}" if terms else ""
        out.append(f"{name} shows no detectable effect (consensus share {importance.at[name, 'consensus']:.2f}{p}): "
                   "the suggestion fixes it at the best session's value.")
    return out


def _regions(prep: Prepared, importance: pd.DataFrame, suggestion: Suggestion, top: float) -> list[str]:
    out = []
    for name in importance.index[:3]:
        if name in suggestion.fixed or name not in suggestion.regions:
            continue
        verb = "have" if prep.hparams[name].kind == "numeric" else "use"
        out.append(f"The best {top:.0%} of sessions {verb} {name} {suggestion.regions[name]}.")
    for name, edge in suggestion.edges.items():
        h = prep.hparams[name]
        bound = h.high if edge == "upper" else h.low
        out.append(f"The best sessions sit at the {edge} edge of {name}'s range ({fmt(bound)}): widen it "
                   "(the suggested space does).")
    return out


def notable_interactions(interactions: pd.DataFrame, forest_r2: float | None) -> pd.DataFrame:
    """The pairs whose H² and strength are both large enough to report (only from a forest worth trusting)."""
    keep = (interactions["h2"] >= INTERACTION_H2) & (interactions["strength"] >= INTERACTION_STRENGTH)
    if forest_r2 is None or forest_r2 < LOW_R2:
        keep &= False
    return interactions[keep]


def _interactions(interactions: pd.DataFrame, forest_r2: float | None) -> list[str]:
    out = []
    for _, row in notable_interactions(interactions, forest_r2).iterrows():
        out.append(f"{row['a']} and {row['b']} interact: the best value of one depends on the other "
                   f"(H²={row['h2']:.2f}, {row['strength']:.0%} of the predicted variation).")
    return out


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
    out += [f"Warning: {p}" for p in prep.failure_patterns]
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


def findings(
    prep: Prepared, *, importance: pd.DataFrame, ols: pd.DataFrame, interactions: pd.DataFrame,
    forest_r2: float | None, suggestion: Suggestion, top: float,
) -> list[str]:
    """Turn the numbers into short statements, most useful first.

    Returns:
        Sentences: ranking and agreement, linear effects, nonlinear/interaction hints,
        best regions and edges, interactions, no-effect hyperparameters, data-quality warnings.
    """
    out: list[str] = []
    if not importance.empty:
        out += _ranking(importance)
    out += _linear_effects(prep, ols)
    if not importance.empty:
        out += _nonlinear(prep, importance, ols)
        out += _regions(prep, importance, suggestion, top)
    out += _interactions(interactions, forest_r2)
    if not importance.empty:
        out += _no_effect(prep, importance, ols, suggestion)
    out += _data_quality(prep, forest_r2)
    best = prep.best_index()
    row = prep.data.iloc[best]
    cfg = ", ".join(f"{n}={_short(row[n])}" for n in prep.hparams)
    out.append(f"Best row: {prep.target}={fmt(float(prep.y.iloc[best]))} with {cfg}.")
    return out


def _short(v) -> str:
    if isinstance(v, (float, np.floating)):
        return fmt(float(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    return str(v)
