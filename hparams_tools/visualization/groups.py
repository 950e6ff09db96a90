"""Repeats and CV folds: each group's mean target with its standard deviation as error bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import InsufficientDataError
from . import _common as c
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure

MAX_GROUPS = 30


class _GroupsInfo(NamedTuple):
    groups: list[str]  # best first
    labels: list[str]  # the group's hyperparameters, for the axis
    mean: np.ndarray
    std: np.ndarray  # sample std (ddof=1)
    count: np.ndarray
    notes: list[Note]
    data: c.PlotData


def _get_groups_info(data: c.PlotData, *, max_groups: int = MAX_GROUPS) -> _GroupsInfo:
    scored = c.require_sessions(data, "group means")
    named = scored[scored[c.GROUP].astype(str) != ""]
    stats = named.groupby(c.GROUP, sort=True)[c.TARGET].agg(["mean", "std", "count"])
    stats = stats[stats["count"] >= 2]
    if stats.empty:
        raise InsufficientDataError("no group has two or more sessions with a value (no repeats or CV folds to average)")
    stats = stats.sort_values("mean", ascending=data.goal == "minimize", kind="stable")
    notes = [Note(N.MARKS, "Error bars: ± one standard deviation over the group's sessions (repeats or CV folds).")]
    if len(stats) > max_groups:
        notes.append(Note(N.TOP_K, f"Showing the best {max_groups} of {len(stats)} groups."))
        stats = stats.iloc[:max_groups]
    top, _ = c.top_hparams(data, 3)
    labels = []
    for g in stats.index:
        first = named[named[c.GROUP] == g].iloc[0]
        desc = ", ".join(f"{h}={c.fmt(first[h])}" for h in top)
        desc = desc or str(g)
        labels.append(desc if len(desc) <= 70 else desc[:67] + "...")
    return _GroupsInfo([str(g) for g in stats.index], labels, stats["mean"].to_numpy(float),
                       stats["std"].fillna(0).to_numpy(float), stats["count"].to_numpy(int), notes, data)


def plot_group_means(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                     analysis: Any = None, max_groups: int = MAX_GROUPS) -> Figure:
    """Mean target per group (repeats or CV folds of one configuration) with std error bars, best first.

    Args:
        source: An Experiment, a DataFrame (with a ``group`` column) or a PlotData.
        target: Target metric.
        goal: ``"maximize"`` or ``"minimize"``.
        value: Metric value mode.
        analysis: Optional AnalysisResult (picks the hyperparameters named in the labels).
        max_groups: Groups at most (the best ones, said in the figure).

    Returns:
        A matplotlib Figure.

    Raises:
        InsufficientDataError: when no group has two or more sessions.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib(_get_groups_info(data, max_groups=max_groups))


def _render_matplotlib(info: _GroupsInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = info.data
    n = len(info.groups)
    fig = c.new_figure(9, 1.4 + 0.32 * n)
    ax = fig.add_subplot()
    y = np.arange(n)
    colors = colormaps[data.cmap](Normalize(*data.color_range())(info.mean))
    ax.barh(y, info.mean, xerr=info.std, color=colors, capsize=3, ecolor="#333333")
    ax.barh([0], [info.mean[0]], fill=False, edgecolor=c.BEST_COLOR, lw=2, label="best group")
    ax.set_yticks(y, [f"{lab}  (n={k})" for lab, k in zip(info.labels, info.count)], fontsize=8)
    ax.invert_yaxis()
    lo = float(np.min(info.mean - info.std))
    hi = float(np.max(info.mean + info.std))
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(f"mean {data.target} (linear scale)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Group means of {data.target} with standard deviations ({n} groups)")
    c.caption(fig, info.notes)
    return fig


def _render_plotly(info: _GroupsInfo) -> go.Figure:
    import plotly.graph_objects as go

    data = info.data
    labels = [c.esc(f"{lab}  (n={k})") for lab, k in zip(info.labels, info.count)]
    fig = go.Figure(go.Bar(
        x=info.mean, y=labels, orientation="h", error_x=dict(type="data", array=info.std),
        marker=dict(color=info.mean, colorscale=data.plotly_scale, cmin=data.color_range()[0], cmax=data.color_range()[1],
                    line=dict(color=[c.BEST_COLOR] + ["rgba(0,0,0,0)"] * (len(labels) - 1), width=2)),
        hovertemplate="%{y}<br>mean %{x:.4g}<extra></extra>",
    ))
    lo = float(np.min(info.mean - info.std))
    hi = float(np.max(info.mean + info.std))
    pad = 0.05 * (hi - lo or 1.0)
    fig.update_xaxes(title_text=c.esc(f"mean {data.target}"), range=[lo - pad, hi + pad])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=160 + 26 * len(labels))
    c.set_plotly_title(fig, f"Group means of {data.target} with standard deviations ({len(labels)} groups)",
                       "red outline: the best group")
    return fig
