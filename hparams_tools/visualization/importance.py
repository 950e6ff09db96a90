"""Importance: every method of the analysis side by side with its spread, and OLS coefficients with 95% intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from . import _common as c
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure

METHODS = {
    "forest": "random forest (impurity)",
    "permutation": "permutation",
    "fanova": "fANOVA",
    "ped_anova": "PED-ANOVA",
}
MAX_TERMS = 15


class _ImportanceInfo(NamedTuple):
    hparams: list[str]  # most important first
    methods: list[str]  # display names
    values: np.ndarray  # (n_methods, n_hparams), each method normalised to sum 1
    spread: np.ndarray  # same shape; NaN where the method reports no spread
    terms: list[str]  # OLS terms, largest |t| first
    coef: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    r_squared: float | None
    standardized: bool  # coefficients scaled to one standard deviation of their term
    target: str
    notes: list[Note]


def _get_importance_info(analysis: Any, *, max_terms: int = MAX_TERMS) -> _ImportanceInfo:
    imp: pd.DataFrame = getattr(analysis, "importance", None)
    ols: pd.DataFrame = getattr(analysis, "ols", None)
    if (imp is None or imp.empty) and (ols is None or ols.empty):
        raise InsufficientDataError("the analysis computed no importance and no regression (too few sessions?)")
    notes: list[Note] = [Note(N.METHOD, "Each method's importances are scaled to sum to 1 so that methods compare.")]
    cols = [m for m in METHODS if imp is not None and m in imp.columns and imp[m].notna().any()]
    hparams: list[str] = []
    values = spread = np.empty((0, 0))
    if cols:
        raw = imp[cols].astype(float).clip(lower=0)
        sums = raw.sum().replace(0, np.nan)
        norm = raw / sums
        from ..analysis.result import importance_ranking

        order = importance_ranking(imp)  # the analysis' one ranking
        if len(order) > max_terms:
            notes.append(Note(N.TOP_K, f"Showing the {max_terms} most important of {len(order)} hyperparameters."))
        order = list(order[:max_terms])
        hparams = [str(h) for h in order]
        values = norm.loc[order].T.to_numpy()
        spread = np.full_like(values, np.nan)
        if "permutation" in cols and "permutation_std" in imp.columns:
            spread[cols.index("permutation")] = (imp.loc[order, "permutation_std"].astype(float) / sums["permutation"]).to_numpy()
            notes.append(Note(N.MARKS, "Error bars: std of the permutation importance over its repeats."))
        notes.append(Note(N.MARKS, "Dots (x): the range over methods for each hyperparameter."))
    terms: list[str] = []
    coef = lo = hi = np.empty(0)
    standardized = False
    if ols is not None and not ols.empty and {"coef", "ci_low", "ci_high"} <= set(ols.columns):
        o = ols[~ols.index.astype(str).str.lower().isin(["const", "intercept", "(intercept)"])]
        if "t" in o.columns:
            o = o.reindex(o["t"].abs().sort_values(ascending=False).index)
        o = o.iloc[:max_terms]
        terms = [str(t) for t in o.index]
        coef, lo, hi = (o[k].to_numpy(dtype=float) for k in ("coef", "ci_low", "ci_high"))
        if "std_coef" in o.columns:
            # effect of one standard deviation of each term, so that terms compare; the 95% interval
            # scales with it (std_coef = coef * sd(term))
            k = o["std_coef"].to_numpy(dtype=float) / np.where(coef != 0, coef, np.nan)
            k = np.where(np.isfinite(k), k, 1.0)
            coef, lo, hi = coef * k, lo * k, hi * k
            standardized = True
    return _ImportanceInfo(hparams, [METHODS[m] for m in cols], values, spread, terms, coef, lo, hi,
                           getattr(analysis, "ols_r_squared", None), standardized, str(getattr(analysis, "target", "target")), notes)


def plot_importance(analysis: Any, *, max_terms: int = MAX_TERMS) -> Figure:
    """Importance by every method side by side (left) and OLS coefficients with 95% intervals (right).

    Args:
        analysis: An :class:`~hparams_tools.analysis.AnalysisResult`.
        max_terms: Hyperparameters / terms shown at most (most important first).

    Returns:
        A matplotlib Figure.

    Raises:
        InsufficientDataError: when the analysis has neither importances nor a regression.
    """
    return _render_matplotlib(_get_importance_info(analysis, max_terms=max_terms))


def _render_matplotlib(info: _ImportanceInfo) -> Figure:
    n = max(len(info.hparams), len(info.terms), 1)
    fig = c.new_figure(12, 1.2 + 0.38 * n)
    left, right = fig.subplots(1, 2)
    if info.hparams:
        y = np.arange(len(info.hparams))
        k = len(info.methods)
        h = 0.8 / k
        colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
        for i, m in enumerate(info.methods):
            err = info.spread[i]
            left.barh(y - 0.4 + h * (i + 0.5), info.values[i], height=h, label=m, color=colors[i % 4],
                      xerr=np.where(np.isfinite(err), err, 0) if np.isfinite(err).any() else None, capsize=2)
        if k > 1:
            left.hlines(y, np.nanmin(info.values, axis=0), np.nanmax(info.values, axis=0), color="black", lw=0.6)
            left.scatter(np.nanmin(info.values, axis=0), y, marker="x", color="black", s=12)
            left.scatter(np.nanmax(info.values, axis=0), y, marker="x", color="black", s=12)
        left.set_yticks(y, info.hparams, fontsize=8)
        left.invert_yaxis()
        left.set_xlabel("relative importance (share of the total, linear scale)")
        # the legend above the bars, never on them (the longest bar reaches the right edge)
        left.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=min(k, 4), frameon=False)
    else:
        left.text(0.5, 0.5, "no importance computed", ha="center", transform=left.transAxes)
    left.set_title(f"Importance for {info.target} by method", pad=22 if info.hparams else 6)
    if info.terms:
        y = np.arange(len(info.terms))
        right.errorbar(info.coef, y, xerr=[info.coef - info.ci_low, info.ci_high - info.coef], fmt="o", color="#333333",
                       ecolor="#4c72b0", capsize=3)
        right.axvline(0, color="#c44e52", lw=0.8)
        right.set_yticks(y, info.terms, fontsize=8)
        right.invert_yaxis()
        unit = "per +1 std of the term" if info.standardized else "per unit of the term; log10 for log-scaled"
        right.set_xlabel(f"change of {info.target} ({unit})")
    else:
        right.text(0.5, 0.5, "no regression computed", ha="center", transform=right.transAxes)
    r2 = f", R² = {info.r_squared:.2f}" if info.r_squared is not None and np.isfinite(info.r_squared) else ""
    right.set_title(f"OLS coefficients with 95% intervals{r2}")
    c.caption(fig, info.notes)
    return fig


METHOD_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]


def _render_plotly(info: _ImportanceInfo) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    r2 = f", R² = {info.r_squared:.2f}" if info.r_squared is not None and np.isfinite(info.r_squared) else ""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.18,
                        subplot_titles=("Importance by method", f"OLS coefficients with 95% intervals{r2}"))
    names = [c.esc(h) for h in info.hparams]
    for i, m in enumerate(info.methods):
        err = info.spread[i]
        fig.add_trace(go.Bar(y=names, x=info.values[i], orientation="h", name=c.esc(m),
                             marker_color=METHOD_COLORS[i % 4],
                             error_x=dict(type="data", array=np.where(np.isfinite(err), err, 0)) if np.isfinite(err).any() else None),
                      1, 1)
    if info.terms:
        fig.add_trace(go.Scatter(x=info.coef, y=[c.esc(t) for t in info.terms], mode="markers", showlegend=False,
                                 marker=dict(color="#333333"),
                                 error_x=dict(type="data", symmetric=False, array=info.ci_high - info.coef,
                                              arrayminus=info.coef - info.ci_low)), 1, 2)
        fig.add_vline(x=0, line=dict(color="#c44e52", width=1), row=1, col=2)
    unit = "per +1 std of the term" if info.standardized else "per unit of the term; log10 for log-scaled"
    fig.update_xaxes(title_text="share of the total", row=1, col=1)
    fig.update_xaxes(title_text=c.esc(f"change of {info.target} ({unit})"), row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    n = max(len(info.hparams), len(info.terms), 1)
    fig.update_layout(barmode="group", height=200 + 34 * n, legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    c.set_plotly_title(fig, f"Importance for {info.target}", " ".join(n.text for n in info.notes))
    return fig
