"""Plots of a sweep: one module per plot, each a public ``plot_x(...) -> matplotlib Figure``.

Each plot computes its data once in a private ``_get_x_info`` NamedTuple and
renders it with matplotlib (returned to the caller) or plotly (used by the
HTML report where interaction helps). No plot calls ``show()`` or writes a
file. Every plot takes an :class:`~hparams_tools.Experiment` (or a plain
DataFrame, one row per session) plus ``target``/``goal``/``value``.
"""

from __future__ import annotations

from ._common import MAX_HPARAMS, MAX_POINTS, PlotData, plot_data
from .contour import plot_contour
from .curves import plot_learning_curves
from .groups import plot_group_means
from .history import plot_best_so_far
from .importance import plot_importance
from .parallel import plot_parallel_coordinates
from .scatter import plot_scatter_3d, plot_scatter_matrix
from .slices import plot_slices
from .surface import plot_surface

__all__ = [
    "PLOT_KINDS",
    "MAX_HPARAMS",
    "MAX_POINTS",
    "PlotData",
    "plot_data",
    "plot_parallel_coordinates",
    "plot_slices",
    "plot_scatter_matrix",
    "plot_scatter_3d",
    "plot_contour",
    "plot_surface",
    "plot_importance",
    "plot_learning_curves",
    "plot_group_means",
    "plot_best_so_far",
]

#: ``hparams-tools plot KIND``: kind -> (function, one-line description).
PLOT_KINDS = {
    "parallel": (plot_parallel_coordinates, "parallel coordinates of hyperparameters and target, coloured by the target"),
    "slices": (plot_slices, "target against each hyperparameter (log x where log-scaled, failed sessions marked)"),
    "scatter-matrix": (plot_scatter_matrix, "pairwise scatter of the most important hyperparameters"),
    "scatter3d": (plot_scatter_3d, "3D scatter of the two most important hyperparameters and the target"),
    "contour": (plot_contour, "target contour (random-forest prediction) over the two most important numeric hyperparameters"),
    "surface": (plot_surface, "3D surface of the same prediction"),
    "importance": (plot_importance, "importance by every method, and OLS coefficients with 95% intervals (runs the analysis)"),
    "curves": (plot_learning_curves, "target per epoch for every session, the best highlighted"),
    "groups": (plot_group_means, "mean target per group (repeats / CV folds) with std error bars"),
    "history": (plot_best_so_far, "best so far against trials and against epochs spent, one line per logdir"),
}
