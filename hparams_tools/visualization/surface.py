"""3D surface of the target over the two most important numeric hyperparameters (the contour's data in 3D).

Log-scaled hyperparameters are drawn in log10 coordinates (a 3D surface needs
an even grid), but their ticks show the real values, as every other plot does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _common as c
from .contour import _ContourInfo, _get_contour_info

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


def plot_surface(source: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                 analysis: Any = None, max_points: int = c.MAX_POINTS, seed: int = 0) -> Figure:
    """3D surface of the forest-predicted target over two hyperparameters, with the sessions as points.

    Uses exactly the data of :func:`~hparams_tools.visualization.contour.plot_contour`;
    log-scaled hyperparameters are drawn on a log axis whose ticks show real values.

    Args:
        source, target, goal, value, analysis: What to plot, as for
            :func:`~hparams_tools.visualization.plot_data` (the analysis ranks the hyperparameters).
        max_points: Sessions drawn at most (seeded sample beyond).
        seed: Seed of the forest and the sample.

    Returns:
        A matplotlib Figure (the report shows a rotatable plotly twin).
    """
    data = c.plot_data(source, target=target, goal=goal, value=value, analysis=analysis)
    return _render_matplotlib(_get_contour_info(data, max_points=max_points, seed=seed))


def _log_ticks(setter: Any, values: np.ndarray, log: bool) -> None:
    if log:
        setter(*c.log_ticks(float(np.min(values)), float(np.max(values))))


def _render_matplotlib(info: _ContourInfo) -> Figure:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = info.data
    fig = c.new_figure(7.5, 6)
    ax = fig.add_subplot(projection="3d")
    mx, my = np.meshgrid(info.grid_x, info.grid_y)
    norm = Normalize(*info.color_range)
    surf = ax.plot_surface(mx, my, info.z, cmap=colormaps[data.cmap], norm=norm, alpha=0.75, linewidth=0)
    ax.scatter(info.points_x, info.points_y, info.points_z, color="black", s=6, depthshade=False)
    if info.best is not None:
        ax.scatter([info.points_x[info.best]], [info.points_y[info.best]], [info.points_z[info.best]], marker="*",
                   s=200, color=c.BEST_COLOR, edgecolors="black", label="best")
        ax.legend(fontsize=8)
    _log_ticks(ax.set_xticks, info.grid_x, info.x_log)
    _log_ticks(ax.set_yticks, info.grid_y, info.y_log)
    ax.set_xlabel(c.axis_label(info.x_name, info.x_log))
    ax.set_ylabel(c.axis_label(info.y_name, info.y_log))
    ax.set_zlabel(data.target)
    fig.colorbar(surf, ax=ax, label=f"predicted {data.target_label}", shrink=0.6, pad=0.1)
    ax.set_title(f"{data.target} surface over {info.x_name} and {info.y_name}")
    c.caption(fig, info.notes)
    return fig


def _render_plotly(info: _ContourInfo) -> go.Figure:
    import plotly.graph_objects as go

    data = info.data
    fig = go.Figure(go.Surface(
        x=info.grid_x, y=info.grid_y, z=info.z, colorscale=data.plotly_scale, cmin=info.color_range[0],
        cmax=info.color_range[1], opacity=0.85, name="prediction", hoverinfo="skip",
        colorbar=dict(title=dict(text="predicted " + c.esc(data.target_label), side="right"), len=0.75),
    ))
    fig.add_trace(go.Scatter3d(x=info.points_x, y=info.points_y, z=info.points_z, mode="markers", name="sessions",
                               text=[c.esc(s) for s in info.sessions], marker=dict(size=2.5, color="black")))
    if info.best is not None:
        fig.add_trace(go.Scatter3d(x=[info.points_x[info.best]], y=[info.points_y[info.best]], z=[info.points_z[info.best]],
                                   mode="markers", name="best: " + c.esc(info.sessions[info.best]),
                                   marker=dict(size=8, color=c.BEST_COLOR, symbol="diamond")))
    fig.update_layout(
        scene=dict(xaxis=c.scene_axis(info.x_name, info.x_log, info.grid_x),
                   yaxis=c.scene_axis(info.y_name, info.y_log, info.grid_y),
                   zaxis=dict(title=dict(text=c.esc(data.target))), camera=c.SCENE_CAMERA),
        height=560, margin=dict(l=0, r=0, b=0), legend=dict(x=0, y=0, yanchor="bottom"),
    )
    c.set_plotly_title(fig, f"{data.target} surface over {info.x_name} and {info.y_name}",
                       "random-forest prediction; drag to rotate, scroll to zoom")
    return fig
