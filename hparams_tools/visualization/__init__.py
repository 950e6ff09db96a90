"""Plots of a sweep: one module per plot, each a public ``plot_x(...) -> matplotlib Figure``.

Each plot computes its data once in a private ``_get_x_info`` NamedTuple and
renders it with matplotlib (returned to the caller) or plotly (used by the
HTML report where interaction helps); :data:`PLOTS` lists each kind's info,
matplotlib and plotly functions, so front ends never import private names.
Notes are structured (:class:`Note`). No plot calls ``show()`` or writes a
file. Every plot takes an :class:`~hparams_tools.Experiment` (or a plain
DataFrame, one row per session) plus ``target``/``goal``/``value``.
"""

from __future__ import annotations

from ._common import END, GROUP, MAX_HPARAMS, MAX_POINTS, START, STATUS, TARGET, PlotData, plot_data
from .contour import plot_contour
from .curves import plot_learning_curves
from .groups import plot_group_means
from .history import plot_best_so_far
from .importance import plot_importance
from .notes import Note
from .parallel import plot_parallel_coordinates
from .registry import PLOTS, PlotKind
from .scatter import plot_scatter_3d, plot_scatter_matrix
from .slices import plot_slices
from .surface import plot_surface

__all__ = [
    "PLOTS",
    "PLOT_KINDS",
    "PlotKind",
    "Note",
    "TARGET",
    "STATUS",
    "GROUP",
    "START",
    "END",
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

#: ``hparams-tools plot KIND``: kind -> (function, one-line description), from :data:`PLOTS`.
PLOT_KINDS = {kind: (k.plot, k.description) for kind, k in PLOTS.items()}
