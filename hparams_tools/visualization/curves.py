"""Learning curves: the target metric per epoch (step) for every session, the best highlighted."""

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

MAX_CURVES = 300


class _CurvesInfo(NamedTuple):
    sessions: list[str]
    steps: list[np.ndarray]
    values: list[np.ndarray]
    final: np.ndarray  # each session's target value (colours)
    best: int | None
    color_range: tuple[float, float]
    metric: str
    notes: list[Note]
    data: c.PlotData


def _get_curves_info(data: c.PlotData, *, metric: str | None = None, max_curves: int = MAX_CURVES, seed: int = 0) -> _CurvesInfo:
    if data.experiment is None:
        raise InsufficientDataError("learning curves need an Experiment (its per-step scalars), not a table")
    metric = metric or data.target
    series = c.metric_series(data.experiment, metric)
    frame = data.frame[data.frame.index.isin(set(series["session"]))]
    rows, note = c.downsample(data, max_curves, seed=seed, frame=frame)
    keep = set(rows.index)
    sessions, steps, values = [], [], []
    for name, g in series[series["session"].isin(keep)].groupby("session", sort=True):
        g = g.sort_values("step")
        sessions.append(str(name))
        steps.append(g["step"].to_numpy(dtype=float))
        values.append(g["value"].to_numpy(dtype=float))
    final = data.frame[c.TARGET].reindex(sessions).to_numpy(dtype=float)
    best = data.best_session()
    notes = c.kept(note._replace(text=note.text.replace("sessions", "curves", 1)) if note else None,
                   Note(N.MARKS, f"Colour: each session's {data.target}; red: the best session."))
    return _CurvesInfo(sessions, steps, values, final, sessions.index(best) if best in sessions else None,
                       data.color_range(), metric, notes, data)


def plot_learning_curves(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                         metric: str | None = None, max_curves: int = MAX_CURVES, seed: int = 0) -> Figure:
    """The validation metric (the target by default) per epoch for every session, the best in red.

    Args:
        source: An Experiment (per-step scalars are needed) or a PlotData built from one.
        target: Target metric (colours and picks the best session).
        goal: ``"maximize"`` or ``"minimize"``.
        value: Metric value mode of the target.
        metric: The metric to draw per step (default: the target).
        max_curves: Curves at most (a seeded sample keeping the best beyond, said in the figure).
        seed: Seed of the sample.

    Returns:
        A matplotlib Figure.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value)
    return _render_matplotlib(_get_curves_info(data, metric=metric, max_curves=max_curves, seed=seed))


def _render_matplotlib(info: _CurvesInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    data = info.data
    fig = c.new_figure(8, 5)
    ax = fig.add_subplot()
    norm = Normalize(*info.color_range)
    cmap = colormaps[data.cmap]
    segs = [np.column_stack([s, v]) for s, v in zip(info.steps, info.values)]
    fin = np.where(np.isfinite(info.final), info.final, info.color_range[0])
    lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=1, alpha=0.7)
    lc.set_array(fin)
    ax.add_collection(lc)
    ax.autoscale()
    if info.best is not None:
        ax.plot(info.steps[info.best], info.values[info.best], color=c.BEST_COLOR, lw=2.5, marker="o", ms=3,
                label=f"best: {info.sessions[info.best]}")
        ax.legend(fontsize=8)
    ax.set_xlabel("epoch (step, linear scale)")
    ax.set_ylabel(info.metric)
    ax.grid(alpha=0.3)
    fig.colorbar(lc, ax=ax, label=data.target_label)
    ax.set_title(f"Learning curves: {info.metric} per epoch ({len(info.sessions):,} sessions)")
    c.caption(fig, info.notes)
    return fig


def _render_plotly(info: _CurvesInfo) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    data = info.data
    lo, hi = info.color_range
    fig = go.Figure()
    for i, (s, x, y) in enumerate(zip(info.sessions, info.steps, info.values)):
        if i == info.best:
            continue
        f = info.final[i]
        color = sample_colorscale(data.plotly_scale, [float(np.clip((f - lo) / (hi - lo), 0, 1))])[0] if np.isfinite(f) else "#bbbbbb"
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(width=1, color=color), opacity=0.6,
                                   name=c.esc(s), showlegend=False, hovertemplate=c.esc(s) + "<br>step %{x}: %{y:.4g}<extra></extra>"))
    if info.best is not None:
        b = info.best
        fig.add_trace(go.Scatter(x=info.steps[b], y=info.values[b], mode="lines+markers", line=dict(width=3, color=c.BEST_COLOR),
                                 name="best: " + c.esc(info.sessions[b])))
    fig.update_layout(
        xaxis=dict(title=dict(text="epoch (step)")), yaxis=dict(title=dict(text=c.esc(info.metric))),
        height=460, legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"), template="plotly_white",
    )
    c.set_plotly_title(fig, f"Learning curves: {info.metric} per epoch ({len(info.sessions):,} sessions)",
                       f"colour: each session's {data.target}")
    return fig
