"""Contour of the target over the two most important numeric hyperparameters, sessions overlaid.

The surface is a random forest's prediction from those two hyperparameters
(seeded), evaluated on a grid; log-scaled hyperparameters are modelled and
gridded in log10. A forest rather than interpolation because sweeps repeat
points (grids, repeats, CV folds), which interpolation cannot take, and a
forest does not invent values far outside the observed range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import InsufficientDataError, require
from . import _common as c
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure

GRID = 40


class _ContourInfo(NamedTuple):
    x_name: str
    y_name: str
    x_log: bool
    y_log: bool
    grid_x: np.ndarray  # grid in drawn units (log10 for log axes)
    grid_y: np.ndarray
    z: np.ndarray  # shape (len(grid_y), len(grid_x))
    points_x: np.ndarray  # sessions in drawn units
    points_y: np.ndarray
    points_z: np.ndarray
    sessions: list[str]
    best: int | None
    color_range: tuple[float, float]
    method: str
    notes: list[Note]
    data: c.PlotData


def _get_contour_info(data: c.PlotData, *, max_points: int = c.MAX_POINTS, seed: int = 0, grid: int = GRID) -> _ContourInfo:
    scored = c.require_sessions(data, "a contour plot", 3)
    names, _ = c.top_hparams(data, 2, numeric_only=True)
    if len(names) < 2:
        raise InsufficientDataError(
            f"a contour plot needs two numeric hyperparameters that vary; found {len(names)} ({', '.join(names) or 'none'})"
        )
    xn, yn = names
    both = scored[[xn, yn, c.TARGET]].dropna()
    if len(both) < 3:
        raise InsufficientDataError(f"a contour plot needs 3 sessions with {xn}, {yn} and the target; found {len(both)}")
    xl, yl = xn in data.log_scaled, yn in data.log_scaled
    X = np.column_stack([_t(both[xn].to_numpy(float), xl), _t(both[yn].to_numpy(float), yl)])
    z = both[c.TARGET].to_numpy(float)
    ensemble = require("sklearn.ensemble")
    n_fit = min(len(X), 5000)  # a seeded subsample keeps 10,000-session reports fast; the trend is unchanged
    idx = np.random.default_rng(seed).choice(len(X), n_fit, replace=False) if n_fit < len(X) else np.arange(len(X))
    forest = ensemble.RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    forest.fit(X[idx], z[idx])
    gx = np.linspace(X[:, 0].min(), X[:, 0].max(), grid)
    gy = np.linspace(X[:, 1].min(), X[:, 1].max(), grid)
    mx, my = np.meshgrid(gx, gy)
    zz = forest.predict(np.column_stack([mx.ravel(), my.ravel()])).reshape(mx.shape)
    method = (f"Surface: random-forest prediction of {data.target} from {xn} and {yn} only "
              f"(100 trees, seed {seed}, fitted on {n_fit:,} sessions); other hyperparameters averaged out.")
    rows, ds_note = c.downsample(data, max_points, seed=seed, frame=both)
    best = data.best_session()
    sessions = [str(s) for s in rows.index]
    notes = c.kept(Note(N.METHOD, method), ds_note)
    if len(data.hparams) > 2:
        notes.append(Note(N.TOP_K, f"The two most important numeric hyperparameters (ranked by {data.ranked_by})."))
    return _ContourInfo(
        xn, yn, xl, yl, gx, gy, zz, _t(rows[xn].to_numpy(float), xl), _t(rows[yn].to_numpy(float), yl),
        rows[c.TARGET].to_numpy(float), sessions, sessions.index(best) if best in sessions else None,
        data.color_range(), method, notes, data,
    )


def _t(v: np.ndarray, log: bool) -> np.ndarray:
    return np.log10(v) if log else v


def plot_contour(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                 analysis: Any = None, max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """Filled contour of the target over the two most important numeric hyperparameters.

    The contours are a seeded random forest's predictions (said in the
    figure's caption); the sessions are overlaid, the best as a red star.

    Args:
        source, target, goal, value, analysis: What to plot, as for
            :func:`~hparams_tools.visualization.plot_data` (the analysis ranks the hyperparameters).
        max_points: Sessions overlaid at most (seeded sample beyond).
        seed: Seed of the forest and the sample.

    Returns:
        A matplotlib Figure.

    Raises:
        InsufficientDataError: with fewer than two varying numeric hyperparameters or three sessions.
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib(_get_contour_info(data, max_points=max_points, seed=seed))


def _render_matplotlib(info: _ContourInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = info.data
    fig = c.new_figure(7.5, 5.8)
    ax = fig.add_subplot()
    norm = Normalize(*info.color_range)
    cmap = colormaps[data.cmap]
    gx, gy = _u(info.grid_x, info.x_log), _u(info.grid_y, info.y_log)
    cs = ax.contourf(gx, gy, info.z, levels=15, cmap=cmap, norm=norm, alpha=0.85)
    ax.scatter(_u(info.points_x, info.x_log), _u(info.points_y, info.y_log), c=info.points_z, cmap=cmap, norm=norm,
               s=16, edgecolors="white", linewidths=0.6, label="sessions")
    if info.best is not None:
        ax.scatter([_u(info.points_x, info.x_log)[info.best]], [_u(info.points_y, info.y_log)[info.best]], marker="*",
                   s=220, color=c.BEST_COLOR, edgecolors="black", zorder=5, label="best")
    if info.x_log:
        c.matplotlib_log_axis(ax, "x")
    if info.y_log:
        c.matplotlib_log_axis(ax, "y")
    ax.set_xlabel(c.axis_label(info.x_name, info.x_log))
    ax.set_ylabel(c.axis_label(info.y_name, info.y_log))
    ax.legend(fontsize=8, loc="best")
    fig.colorbar(cs, ax=ax, label=f"predicted {data.target_label}")
    ax.set_title(f"{data.target} over {info.x_name} and {info.y_name} (random-forest prediction)")
    c.caption(fig, info.notes)
    return fig


def _u(v: np.ndarray, log: bool) -> np.ndarray:
    return 10 ** v if log else v


def _render_plotly(info: _ContourInfo) -> go.Figure:
    import plotly.graph_objects as go

    data = info.data
    fig = go.Figure(go.Contour(
        x=_u(info.grid_x, info.x_log), y=_u(info.grid_y, info.y_log), z=info.z, colorscale=data.plotly_scale,
        zmin=info.color_range[0], zmax=info.color_range[1], ncontours=15, opacity=0.85,
        colorbar=dict(title=dict(text="predicted " + c.esc(data.target_label), side="right")), name="prediction",
    ))
    fig.add_trace(go.Scatter(
        x=_u(info.points_x, info.x_log), y=_u(info.points_y, info.y_log), mode="markers", name="sessions",
        text=[c.esc(s) for s in info.sessions], hovertemplate="%{text}<br>" + c.esc(data.target) + "=%{marker.color:.4g}<extra></extra>",
        marker=dict(color=info.points_z, colorscale=data.plotly_scale, cmin=info.color_range[0], cmax=info.color_range[1],
                    size=7, line=dict(color="white", width=1)),
    ))
    if info.best is not None:
        fig.add_trace(go.Scatter(x=[_u(info.points_x, info.x_log)[info.best]], y=[_u(info.points_y, info.y_log)[info.best]],
                                 mode="markers", name="best: " + c.esc(info.sessions[info.best]),
                                 marker=dict(symbol="star", size=16, color=c.BEST_COLOR, line=dict(color="black", width=1))))
    fig.update_layout(
        xaxis=_axis(info.x_name, info.x_log, info.grid_x), yaxis=_axis(info.y_name, info.y_log, info.grid_y),
        height=540, legend=dict(orientation="h", x=0, y=-0.16, yanchor="top"), margin=dict(b=40),
    )
    c.set_plotly_title(fig, f"{data.target} over {info.x_name} and {info.y_name}", info.method)
    return fig


def _axis(name: str, log: bool, grid: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = dict(title=dict(text=c.esc(c.axis_label(name, log))))
    out.update(c.plotly_log_axis(_u(grid, log)) if log else dict(type="linear"))
    return out
