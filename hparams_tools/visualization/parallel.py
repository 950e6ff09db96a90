"""Parallel coordinates: one line per session across the hyperparameters and the target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import _common as c
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class _Axis(NamedTuple):
    name: str
    values: np.ndarray  # drawn coordinates: log10 for log axes, codes for categories
    log: bool
    categories: tuple[str, ...] | None
    tickvals: list[float]
    ticktext: list[str]
    range: tuple[float, float]


class _ParallelInfo(NamedTuple):
    sessions: list[str]
    axes: list[_Axis]  # the hyperparameters, then the target
    color: np.ndarray
    color_range: tuple[float, float]
    best: int | None  # position of the best session in ``sessions``
    notes: list[Note]
    data: c.PlotData


def _make_axis(name: str, col, log: bool, categorical: bool) -> _Axis:
    if categorical:
        labels, codes = c.categories(col)
        n = max(len(labels) - 1, 1)
        return _Axis(name, codes, False, tuple(labels), list(map(float, range(len(labels)))), labels, (0.0, float(n)))
    v = col.to_numpy(dtype=float)
    if log:
        v = np.log10(v)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    uniq = np.unique(finite)
    if log:
        tv, tt = c.log_ticks(lo, hi)
    elif 1 < uniq.size <= 8:  # a few discrete values (epochs 4, 8, 16): tick exactly those
        tv = [float(u) for u in uniq]
        tt = [c.fmt(u) for u in uniq]
    else:
        tv = list(np.linspace(lo, hi, 5))
        tt = [c.fmt(t) for t in tv]
    return _Axis(name, v, log, None, tv, tt, (lo, hi))


def _get_parallel_info(data: c.PlotData, *, max_hparams: int = c.MAX_HPARAMS, max_points: int = c.MAX_POINTS, seed: int = 0) -> _ParallelInfo:
    scored = c.require_sessions(data, "parallel coordinates")
    names, top_note = c.top_hparams(data, max_hparams)
    rows, ds_note = c.downsample(data, max_points, seed=seed, frame=scored)
    axes = [_make_axis(n, rows[n], n in data.log_scaled, n in data.categorical) for n in names]
    target_axis = _make_axis(data.target_label, rows[c.TARGET], False, False)
    color = rows[c.TARGET].to_numpy(dtype=float)
    best = data.best_session()
    sessions = [str(s) for s in rows.index]
    return _ParallelInfo(
        sessions, axes + [target_axis], color, data.color_range(),
        sessions.index(best) if best in sessions else None, c.kept(top_note, ds_note), data,
    )


def plot_parallel_coordinates(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                              analysis: Any = None, max_hparams: int = c.MAX_HPARAMS,
                              max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """Parallel coordinates of the hyperparameters and the target, coloured by the target.

    Categorical hyperparameters get one tick per category; log-scaled ones a
    log axis. The best session is drawn in red on top.

    Args:
        source: An Experiment, a DataFrame (see :func:`~._common.plot_data`) or a PlotData.
        target: Target metric (default: the declared objective).
        goal: ``"maximize"`` or ``"minimize"``.
        value: Metric value mode.
        analysis: Optional AnalysisResult to rank hyperparameters by importance.
        max_hparams: Axes at most (the most important are kept, and the figure says so).
        max_points: Lines at most (a seeded sample beyond, said in the figure).
        seed: Seed of the sample.

    Returns:
        A matplotlib Figure.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib(_get_parallel_info(data, max_hparams=max_hparams, max_points=max_points, seed=seed))


def _norm(axis: _Axis) -> np.ndarray:
    lo, hi = axis.range
    return (axis.values - lo) / (hi - lo)


def _render_matplotlib(info: _ParallelInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    n_axes = len(info.axes)
    fig = c.new_figure(max(6.0, 1.4 * n_axes), 4.8)
    ax = fig.add_subplot()
    ys = np.column_stack([_norm(a) for a in info.axes]) if info.axes else np.empty((0, 0))
    xs = np.arange(n_axes, dtype=float)
    segs = [np.column_stack([xs, row]) for row in ys]
    norm = Normalize(*info.color_range)
    cmap = colormaps[info.data.cmap]
    lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=0.8, alpha=0.6)
    lc.set_array(info.color)
    ax.add_collection(lc)
    if info.best is not None:
        ax.plot(xs, ys[info.best], color=c.BEST_COLOR, lw=2.5, label=f"best: {info.sessions[info.best]}", zorder=5)
    for i, axis in enumerate(info.axes):
        ax.axvline(i, color="black", lw=0.8)
        lo, hi = axis.range
        for tv, tt in zip(axis.tickvals, axis.ticktext):
            ax.text(i + 0.03, (tv - lo) / (hi - lo), tt, fontsize=7, va="center", ha="left")
    ax.set_xticks(xs, [c.axis_label(a.name, a.log) if a.categories is None else f"{a.name} (categories)" for a in info.axes],
                  rotation=20, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.1, n_axes - 0.6)
    ax.set_ylim(-0.05, 1.05)
    fig.colorbar(lc, ax=ax, label=info.data.target_label)
    title = f"Parallel coordinates: {len(info.sessions):,} sessions coloured by {info.data.target}"
    if info.best is not None:
        # in the title, not a legend: a long session name must not run into the title
        title += f"\nbest (red): {info.sessions[info.best]}"
    ax.set_title(title, fontsize=10)
    c.caption(fig, info.notes)
    return fig


def _render_plotly(info: _ParallelInfo) -> go.Figure:
    import plotly.graph_objects as go

    dims = []
    for a in info.axes:
        dims.append(dict(
            label=c.esc(c.axis_label(a.name, a.log)), values=a.values, range=list(a.range),
            tickvals=a.tickvals, ticktext=[c.esc(t) for t in a.ticktext],
        ))
    fig = go.Figure(go.Parcoords(
        dimensions=dims,
        line=dict(color=info.color, colorscale=info.data.plotly_scale, cmin=info.color_range[0], cmax=info.color_range[1],
                  showscale=True, colorbar=dict(title=dict(text=c.esc(info.data.target_label), side="right"))),
    ))
    best = f"best (red in the static plot): {info.sessions[info.best]}; " if info.best is not None else ""
    # the axis labels sit above the axes: a margin below the title keeps them apart
    fig.update_layout(margin=dict(l=80, r=80, b=40), height=540)
    c.set_plotly_title(fig, f"Parallel coordinates of {len(info.sessions):,} sessions",
                       f"{best}drag along an axis to filter")
    fig.update_layout(margin=dict(t=fig.layout.margin.t + 40))
    return fig
