"""The plot registry: for each kind, its public function and the info/matplotlib/plotly functions behind it.

Every plot is ``plot_x(...) = _render_matplotlib(_get_x_info(...))`` with a
plotly twin rendering the same info (optuna's ``visualization/_contour.py``
layout). Front ends that draw several plots (the HTML report, the CLI) loop
over :data:`PLOTS` instead of importing the modules' private functions.

An info function takes what its kind is drawn from (``input``): ``"data"``
one :class:`~hparams_tools.visualization.PlotData`; ``"analysis"`` an
AnalysisResult; ``"datas"`` a list of PlotData (one line per experiment);
plus ``seed`` and ``max_points`` keywords (ignored by kinds that sample nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from . import _common as c
from . import contour, curves, groups, history, importance, parallel, scatter, slices, surface

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class PlotKind(NamedTuple):
    """One kind of plot.

    Attributes:
        plot: The public ``plot_x`` (a matplotlib Figure).
        description: One line for ``hparams-tools plot --help``.
        input: What the info is computed from: ``"data"``, ``"analysis"`` or ``"datas"``.
        info: ``info(input, *, seed, max_points)``: the plot's data, computed once.
        matplotlib: Renders an info as a matplotlib Figure.
        plotly: Renders the same info as a plotly Figure.
    """

    plot: Callable[..., "Figure"]
    description: str
    input: str
    info: Callable[..., Any]
    matplotlib: Callable[[Any], "Figure"]
    plotly: Callable[[Any], "go.Figure"]


def _contour_info(data: c.PlotData, *, seed: int = 0, max_points: int = c.MAX_POINTS) -> Any:
    # contour and surface share one info (one forest fit); the report reuses it when both are drawn
    return contour._get_contour_info(data, max_points=max_points, seed=seed)


def _curves_info(data: c.PlotData, *, seed: int = 0, max_points: int = c.MAX_POINTS) -> Any:
    return curves._get_curves_info(data, seed=seed)  # its own limit: MAX_CURVES lines


def _groups_info(data: c.PlotData, *, seed: int = 0, max_points: int = c.MAX_POINTS) -> Any:
    return groups._get_groups_info(data)


def _importance_info(analysis: Any, *, seed: int = 0, max_points: int = c.MAX_POINTS) -> Any:
    return importance._get_importance_info(analysis)


def _history_info(datas: list[c.PlotData], *, seed: int = 0, max_points: int = c.MAX_POINTS) -> Any:
    return history._get_history_info(datas)


PLOTS: dict[str, PlotKind] = {
    "parallel": PlotKind(
        parallel.plot_parallel_coordinates, "parallel coordinates of hyperparameters and target, coloured by the target",
        "data", parallel._get_parallel_info, parallel._render_matplotlib, parallel._render_plotly),
    "slices": PlotKind(
        slices.plot_slices, "target against each hyperparameter (log x where log-scaled, failed sessions marked)",
        "data", slices._get_slices_info, slices._render_matplotlib, slices._render_plotly),
    "scatter-matrix": PlotKind(
        scatter.plot_scatter_matrix, "pairwise scatter of the most important hyperparameters",
        "data", scatter._get_matrix_info, scatter._render_matrix, scatter._render_plotly_matrix),
    "scatter3d": PlotKind(
        scatter.plot_scatter_3d, "3D scatter of the two most important hyperparameters and the target",
        "data", scatter._get_scatter3d_info, scatter._render_matplotlib_3d, scatter._render_plotly_3d),
    "contour": PlotKind(
        contour.plot_contour,
        "target contour (random-forest prediction) over the two most important numeric hyperparameters",
        "data", _contour_info, contour._render_matplotlib, contour._render_plotly),
    "surface": PlotKind(
        surface.plot_surface, "3D surface of the same prediction",
        "data", _contour_info, surface._render_matplotlib, surface._render_plotly),
    "importance": PlotKind(
        importance.plot_importance,
        "importance by every method, and OLS coefficients with 95% intervals (runs the analysis)",
        "analysis", _importance_info, importance._render_matplotlib, importance._render_plotly),
    "curves": PlotKind(
        curves.plot_learning_curves, "target per epoch for every session, the best highlighted",
        "data", _curves_info, curves._render_matplotlib, curves._render_plotly),
    "groups": PlotKind(
        groups.plot_group_means, "mean target per group (repeats / CV folds) with std error bars",
        "data", _groups_info, groups._render_matplotlib, groups._render_plotly),
    "history": PlotKind(
        history.plot_best_so_far, "best so far against trials and against epochs spent, one line per logdir",
        "datas", _history_info, history._render_matplotlib, history._render_plotly),
}
