"""Scatter matrix of the most important hyperparameters, and a 3D scatter of two of them against the target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from ..errors import InsufficientDataError
from . import _common as c
from . import notes as N
from .notes import Note
from .parallel import _Axis, _make_axis

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class _ScatterInfo(NamedTuple):
    sessions: list[str]
    axes: list[_Axis]  # the chosen hyperparameters (log10 / category codes)
    target: np.ndarray
    color_range: tuple[float, float]
    best: int | None
    notes: list[Note]
    data: c.PlotData


def _get_scatter_info(data: c.PlotData, *, k: int, max_points: int = c.MAX_POINTS, seed: int = 0,
                      numeric_first: bool = False) -> _ScatterInfo:
    scored = c.require_sessions(data, "a scatter plot")
    pool, top_note = c.top_hparams(data, len(data.hparams))
    if numeric_first:  # 3D: prefer numbers, which make a readable space
        pool = [n for n in pool if n not in data.categorical] + [n for n in pool if n in data.categorical]
    names = pool[:k]
    if len(pool) > k:
        top_note = c.top_k_note(data, k, len(pool))
    if len(names) < min(k, 2):
        raise InsufficientDataError(f"a scatter plot needs {min(k, 2)} varying hyperparameters; found {len(names)}")
    rows, ds_note = c.downsample(data, max_points, seed=seed, frame=scored)
    axes = [_make_axis(n, rows[n], n in data.log_scaled, n in data.categorical) for n in names]
    best = data.best_session()
    sessions = [str(s) for s in rows.index]
    return _ScatterInfo(sessions, axes, rows[c.TARGET].to_numpy(dtype=float), data.color_range(),
                        sessions.index(best) if best in sessions else None, c.kept(top_note, ds_note), data)


def _get_matrix_info(data: c.PlotData, *, k: int = 4, max_points: int = c.MAX_POINTS, seed: int = 0) -> _ScatterInfo:
    return _get_scatter_info(data, k=k, max_points=max_points, seed=seed)


def _get_scatter3d_info(data: c.PlotData, *, max_points: int = c.MAX_POINTS, seed: int = 0) -> _ScatterInfo:
    return _get_scatter_info(data, k=2, max_points=max_points, seed=seed, numeric_first=True)


def plot_scatter_matrix(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                        analysis: Any = None, k: int = 4, max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """Pairwise scatter plots of the ``k`` most important hyperparameters, coloured by the target.

    The diagonal shows each hyperparameter's histogram; the best session is a red star.

    Args:
        source, target, goal, value, analysis: What to plot, as for
            :func:`~hparams_tools.visualization.plot_data` (the analysis ranks the hyperparameters).
        k: Hyperparameters shown.
        max_points: Points at most (seeded sample beyond).
        seed: Seed of the sample.

    Returns:
        A matplotlib Figure.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matrix(_get_matrix_info(data, k=k, max_points=max_points, seed=seed))


def _render_matrix(info: _ScatterInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = info.data
    n = len(info.axes)
    fig = c.new_figure(2.4 * n + 1.2, 2.4 * n + 0.6)
    grid = fig.subplots(n, n, squeeze=False)
    norm = Normalize(*info.color_range)
    sc = None
    for i, ay in enumerate(info.axes):
        for j, ax_ in enumerate(info.axes):
            ax = grid[i, j]
            if i == j:
                v = ay.values[np.isfinite(ay.values)]
                ax.hist(v, bins=min(20, max(len(np.unique(v)), 1)), color="#888888")
            else:
                sc = ax.scatter(ax_.values, ay.values, c=info.target, cmap=colormaps[data.cmap], norm=norm, s=10, alpha=0.8)
                if info.best is not None:
                    ax.scatter([ax_.values[info.best]], [ay.values[info.best]], marker="*", s=120, color=c.BEST_COLOR,
                               edgecolors="black", linewidths=0.5, zorder=5)
                _ticks(ax.set_yticks, ay)
            _ticks(ax.set_xticks, ax_)
            if i == n - 1:
                ax.set_xlabel(_label(ax_), fontsize=8)
            if j == 0:
                ax.set_ylabel(_label(ay) if i else "count", fontsize=8)
            ax.tick_params(labelsize=7)
    if sc is not None:
        fig.colorbar(sc, ax=grid, label=data.target_label, shrink=0.7)
    fig.suptitle(f"Scatter matrix of the top {n} hyperparameters ({len(info.sessions):,} sessions)")
    c.caption(fig, info.notes + [Note(N.MARKS, "Red star: the best session.")])
    return fig


def _label(a: _Axis) -> str:
    return c.axis_label(a.name, a.log)


def _ticks(setter: Callable[..., Any], a: _Axis) -> None:
    if a.categories is not None or a.log:
        setter(a.tickvals, a.ticktext)


def plot_scatter_3d(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                    analysis: Any = None, max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """3D scatter of the two most important hyperparameters (numbers first) and the target.

    Args:
        source, target, goal, value, analysis: What to plot, as for
            :func:`~hparams_tools.visualization.plot_data` (the analysis ranks the hyperparameters).
        max_points: Points at most (seeded sample beyond).
        seed: Seed of the sample.

    Returns:
        A matplotlib Figure (the report shows a rotatable plotly twin).
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib_3d(_get_scatter3d_info(data, max_points=max_points, seed=seed))


def _render_matplotlib_3d(info: _ScatterInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = info.data
    fig = c.new_figure(7, 6)
    ax = fig.add_subplot(projection="3d")
    a, b = info.axes
    sc = ax.scatter(a.values, b.values, info.target, c=info.target, cmap=colormaps[data.cmap],
                    norm=Normalize(*info.color_range), s=14, depthshade=False)
    if info.best is not None:
        ax.scatter([a.values[info.best]], [b.values[info.best]], [info.target[info.best]], marker="*", s=200,
                   color=c.BEST_COLOR, edgecolors="black", label="best")
        ax.legend(fontsize=8)
    for setter, axis in ((ax.set_xticks, a), (ax.set_yticks, b)):
        _ticks(setter, axis)
    ax.set_xlabel(_label(a))
    ax.set_ylabel(_label(b))
    ax.set_zlabel(data.target)
    fig.colorbar(sc, ax=ax, label=data.target_label, shrink=0.6, pad=0.1)
    ax.set_title(f"{data.target} over {a.name} and {b.name}")
    c.caption(fig, info.notes)
    return fig


def _real(a: _Axis) -> np.ndarray:
    """The axis' values as the user logged them (drawn coordinates are log10 on log axes)."""
    return 10 ** a.values if a.log else a.values


def _render_plotly_3d(info: _ScatterInfo) -> go.Figure:
    import plotly.graph_objects as go

    a, b = info.axes[:2]
    data = info.data
    hover = [c.esc(s) for s in info.sessions]
    fig = go.Figure(go.Scatter3d(
        x=a.values, y=b.values, z=info.target, mode="markers", text=hover,
        customdata=np.column_stack([_real(a), _real(b)]),
        hovertemplate="%{text}<br>" + c.esc(a.name) + "=%{customdata[0]:.4g}<br>" + c.esc(b.name)
                      + "=%{customdata[1]:.4g}<br>" + c.esc(data.target) + "=%{z:.4g}<extra></extra>",
        marker=dict(size=3, color=info.target, colorscale=data.plotly_scale, cmin=info.color_range[0],
                    cmax=info.color_range[1], colorbar=dict(title=dict(text=c.esc(data.target_label), side="right"),
                                                            len=0.75)),
        name="sessions",
    ))
    if info.best is not None:
        fig.add_trace(go.Scatter3d(x=[a.values[info.best]], y=[b.values[info.best]], z=[info.target[info.best]],
                                   mode="markers", marker=dict(size=8, color=c.BEST_COLOR, symbol="diamond"),
                                   name="best: " + c.esc(info.sessions[info.best])))
    fig.update_layout(
        scene=dict(xaxis=_scene_axis(a), yaxis=_scene_axis(b), zaxis=dict(title=dict(text=c.esc(data.target))),
                   camera=c.SCENE_CAMERA),
        height=560, margin=dict(l=0, r=0, b=0), legend=dict(x=0, y=0, yanchor="bottom"),
    )
    c.set_plotly_title(fig, f"{data.target} over {a.name} and {b.name}", "drag to rotate, scroll to zoom")
    return fig


def _scene_axis(a: _Axis) -> dict[str, Any]:
    # the axis' own ticks (real values on log axes, categories, the few values of a grid such as epochs)
    return dict(title=dict(text=c.esc(_label(a))), tickvals=a.tickvals, ticktext=[c.esc(t) for t in a.ticktext])


def _render_plotly_matrix(info: _ScatterInfo) -> go.Figure:
    import plotly.graph_objects as go

    data = info.data
    dims = [dict(label=c.esc(_label(a)), values=_real(a) if a.categories is None else
                 [a.categories[int(v)] if np.isfinite(v) else None for v in a.values]) for a in info.axes]
    fig = go.Figure(go.Splom(
        dimensions=dims, text=[c.esc(s) for s in info.sessions], diagonal=dict(visible=False), showupperhalf=False,
        marker=dict(size=5, color=info.target, colorscale=data.plotly_scale, cmin=info.color_range[0],
                    cmax=info.color_range[1], showscale=True,
                    colorbar=dict(title=dict(text=c.esc(data.target_label), side="right"))),
    ))
    n = len(info.axes)
    fig.update_layout(**{f"{ax}axis{i if i > 1 else ''}": c.plotly_log_axis(_real(a))
                         for i, a in enumerate(info.axes, 1) if a.log for ax in ("x", "y")},
                      height=180 * n + 140, margin=dict(b=40))
    c.set_plotly_title(fig, f"Scatter matrix of the top {n} hyperparameters ({len(info.sessions):,} sessions)")
    return fig
