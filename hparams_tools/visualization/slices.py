"""Slice plots: the target against each hyperparameter, failed sessions marked."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import _common as c
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class _Slice(NamedTuple):
    name: str
    x: np.ndarray  # values (category codes for categorical hyperparameters)
    y: np.ndarray
    log: bool
    categories: tuple[str, ...] | None
    failed_x: np.ndarray  # failed sessions' x
    failed_y: np.ndarray  # their target, or the bottom of the axis when they have none
    best_x: float | None


class _SlicesInfo(NamedTuple):
    slices: list[_Slice]
    sessions: list[str]  # sessions drawn (scored, non-failed)
    color: np.ndarray
    color_range: tuple[float, float]
    best: str | None
    n_failed: int
    notes: list[Note]
    data: c.PlotData


def _get_slices_info(data: c.PlotData, *, max_hparams: int = c.MAX_HPARAMS, max_points: int = c.MAX_POINTS, seed: int = 0) -> _SlicesInfo:
    frame = data.frame
    failed_mask = frame[c.STATUS].astype(str).eq("FAILURE").to_numpy()
    y_all = frame[c.TARGET].to_numpy(dtype=float)
    ok = ~failed_mask & np.isfinite(y_all)
    if not ok.any() and not failed_mask.any():
        c.require_sessions(data, "slice plots")
    rows, ds_note = c.downsample(data, max_points, seed=seed, frame=frame[ok])
    failed = frame[failed_mask]
    fy = failed[c.TARGET].to_numpy(dtype=float)
    bottom = float(np.nanmin(y_all)) if np.isfinite(y_all).any() else 0.0
    fy = np.where(np.isfinite(fy), fy, bottom)
    names, top_note = c.top_hparams(data, max_hparams)
    best = data.best_session()
    slices = []
    for n in names:
        if n in data.categorical:
            labels, codes = c.categories(frame[n])
            pos = dict(zip(frame.index, codes))
            x = np.array([pos[s] for s in rows.index], dtype=float)
            fx = np.array([pos[s] for s in failed.index], dtype=float)
            cats: tuple[str, ...] | None = tuple(labels)
            bx = pos.get(best) if best else None
        else:
            x, fx, cats = rows[n].to_numpy(dtype=float), failed[n].to_numpy(dtype=float), None
            bx = float(frame.at[best, n]) if best else None
        slices.append(_Slice(n, x, rows[c.TARGET].to_numpy(dtype=float), n in data.log_scaled, cats, fx, fy,
                             None if bx is None or not math.isfinite(bx) else float(bx)))
    notes = c.kept(top_note, ds_note)
    if failed_mask.any():
        notes.append(Note(N.MARKS, f"{int(failed_mask.sum())} failed session(s) marked x "
                                   "(at the bottom when they logged no value)."))
    return _SlicesInfo(slices, [str(s) for s in rows.index], rows[c.TARGET].to_numpy(dtype=float), data.color_range(),
                       best, int(failed_mask.sum()), notes, data)


def plot_slices(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                analysis: Any = None, max_hparams: int = c.MAX_HPARAMS, max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """The target against each hyperparameter (one panel each), log x where log-scaled.

    Failed sessions are marked with a grey x; the best session with a red star.

    Args:
        source, target, goal, value, analysis: What to plot, as for
            :func:`~hparams_tools.visualization.plot_data` (the analysis ranks the hyperparameters).
        max_hparams: Panels at most (most important first, said in the figure).
        max_points: Points per panel at most (seeded sample beyond).
        seed: Seed of the sample.

    Returns:
        A matplotlib Figure.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib(_get_slices_info(data, max_hparams=max_hparams, max_points=max_points, seed=seed))


def _render_matplotlib(info: _SlicesInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    n = max(len(info.slices), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = c.new_figure(3.2 * cols + 1, 2.8 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    norm = Normalize(*info.color_range)
    cmap = colormaps[info.data.cmap]
    sc = None
    for ax, s in zip(axes.flat, info.slices):
        sc = ax.scatter(s.x, s.y, c=info.color, cmap=cmap, norm=norm, s=14, alpha=0.8, edgecolors="none")
        if len(s.failed_x):
            ax.scatter(s.failed_x, s.failed_y, marker="x", color=c.FAILED_COLOR, s=22, label="failed")
        if s.best_x is not None and info.best is not None:
            ax.scatter([s.best_x], [float(info.data.frame.at[info.best, c.TARGET])], marker="*", s=160,
                       color=c.BEST_COLOR, edgecolors="black", linewidths=0.5, zorder=5, label="best")
        if s.log:
            c.matplotlib_log_axis(ax, "x")
        if s.categories is not None:
            ax.set_xticks(range(len(s.categories)), s.categories, rotation=30, ha="right", fontsize=8)
        ax.set_xlabel(c.axis_label(s.name, s.log))
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(info.data.target)
    for ax in list(axes.flat)[len(info.slices):]:
        ax.set_visible(False)
    if info.slices:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if handles:
            axes.flat[0].legend(fontsize=7)
    if sc is not None:
        fig.colorbar(sc, ax=axes, label=info.data.target_label, shrink=0.8)
    fig.suptitle(f"{info.data.target} against each hyperparameter ({len(info.sessions):,} sessions)")
    c.caption(fig, info.notes)
    return fig


def _render_plotly(info: _SlicesInfo) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = info.data
    n = max(len(info.slices), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, horizontal_spacing=0.04, vertical_spacing=0.16)
    best_y = float(data.frame.at[info.best, c.TARGET]) if info.best is not None else None
    for i, s in enumerate(info.slices):
        r, col = i // cols + 1, i % cols + 1
        fig.add_trace(go.Scatter(
            x=s.x, y=s.y, mode="markers", showlegend=False, text=[c.esc(x) for x in info.sessions],
            hovertemplate="%{text}<br>" + c.esc(s.name) + "=%{x:.4g}<br>" + c.esc(data.target) + "=%{y:.4g}<extra></extra>",
            marker=dict(size=6, color=info.color, colorscale=data.plotly_scale, cmin=info.color_range[0],
                        cmax=info.color_range[1], showscale=i == 0,
                        colorbar=dict(title=dict(text=c.esc(data.target_label), side="right"))),
        ), r, col)
        if len(s.failed_x):
            fig.add_trace(go.Scatter(x=s.failed_x, y=s.failed_y, mode="markers", name="failed", showlegend=i == 0,
                                     legendgroup="failed", marker=dict(symbol="x", size=7, color=c.FAILED_COLOR)), r, col)
        if s.best_x is not None and best_y is not None:
            fig.add_trace(go.Scatter(x=[s.best_x], y=[best_y], mode="markers", name="best", showlegend=i == 0,
                                     legendgroup="best", marker=dict(symbol="star", size=13, color=c.BEST_COLOR,
                                                                     line=dict(color="black", width=1))), r, col)
        axis: dict[str, Any] = dict(title=dict(text=c.esc(c.axis_label(s.name, s.log))))
        if s.log:
            axis.update(c.plotly_log_axis(np.r_[s.x, s.failed_x]))
        if s.categories is not None:
            axis.update(tickvals=list(range(len(s.categories))), ticktext=[c.esc(t) for t in s.categories])
        fig.update_xaxes(row=r, col=col, **axis)
    fig.update_yaxes(title_text=c.esc(data.target), col=1)
    fig.update_layout(title=dict(text=f"{c.esc(data.target)} against each hyperparameter ({len(info.sessions):,} sessions)"),
                      height=300 * rows + 120, legend=dict(orientation="h", y=-0.12))
    return fig
