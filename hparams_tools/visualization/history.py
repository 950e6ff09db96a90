"""Best-so-far against trials and against epochs spent, one line per experiment (compare strategies or sweeps)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from ..errors import InsufficientDataError
from . import _common as c
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from matplotlib.figure import Figure


class _Line(NamedTuple):
    label: str
    sessions: list[str]  # in the order they ran (start time, then name)
    trial: np.ndarray  # 1..n
    epochs: np.ndarray | None  # cumulative epochs spent after each trial; None without per-step data
    best_so_far: np.ndarray  # NaN until the first session with a value


class _HistoryInfo(NamedTuple):
    lines: list[_Line]
    target: str
    goal: str
    notes: list[Note]


def _line(data: c.PlotData) -> _Line:
    f = data.frame
    order = f.assign(_name=f.index.astype(str)).sort_values([c.START, "_name"], na_position="last", kind="stable")
    y = order[c.TARGET].to_numpy(dtype=float).copy()
    y[order[c.STATUS].astype(str).eq("FAILURE").to_numpy()] = np.nan  # a failed trial never counts as best
    filled = np.where(np.isfinite(y), y, -np.inf if data.goal == "maximize" else np.inf)
    best = np.maximum.accumulate(filled) if data.goal == "maximize" else np.minimum.accumulate(filled)
    best = np.where(np.isfinite(best), best, np.nan)
    epochs = None
    if data.experiment is not None:
        try:
            series = c.metric_series(data.experiment, data.target)
            per = series.groupby("session")["step"].nunique()
            epochs = np.cumsum(per.reindex(order.index).fillna(0).to_numpy(dtype=float))
        except InsufficientDataError:
            epochs = None
    return _Line(data.label, [str(s) for s in order.index], np.arange(1, len(order) + 1), epochs, best)


def _get_history_info(datas: Sequence[c.PlotData]) -> _HistoryInfo:
    if not datas:
        raise InsufficientDataError("best-so-far needs at least one experiment")
    lines = [_line(d) for d in datas]
    notes = [Note(N.METHOD, "Trials in the order they started; failed trials count as spent but never as best.")]
    if any(ln.epochs is None for ln in lines):
        notes.append(Note(N.SKIPPED, "Epochs spent are unknown for experiments without per-epoch scalars of the target "
                                     "(not drawn)."))
    else:
        notes.append(Note(N.METHOD, "Epochs spent: the number of logged steps of the target, summed over trials."))
    targets = sorted({d.target for d in datas})
    return _HistoryInfo(lines, " / ".join(targets), datas[0].goal, notes)


def plot_best_so_far(sources: Any, *, target: str | None = None, goal: str | None = None, value: str = "last",
                     labels: Sequence[str] | None = None) -> Figure:
    """Best target so far against trials (left) and against epochs spent (right), one line per experiment.

    Args:
        sources: One source or a list of them (Experiments, DataFrames or PlotData).
        target: Target metric (the same for all).
        goal: ``"maximize"`` or ``"minimize"``.
        value: Metric value mode.
        labels: Legend labels (default: the logdirs' names).

    Returns:
        A matplotlib Figure.
    """
    if isinstance(sources, c.PlotData) or not isinstance(sources, (list, tuple)):
        sources = [sources]
    datas = [c.plot_data(s, target=target, goal=goal, value=value, label=(labels[i] if labels else None))
             for i, s in enumerate(sources)]
    return _render_matplotlib(_get_history_info(datas))


def _render_matplotlib(info: _HistoryInfo) -> Figure:
    fig = c.new_figure(9, 4)  # legible at half a report's width (the report's first screen)
    left, right = fig.subplots(1, 2, sharey=True)
    for ln in info.lines:
        left.step(ln.trial, ln.best_so_far, where="post", label=ln.label, lw=2)
        if ln.epochs is not None:
            right.step(ln.epochs, ln.best_so_far, where="post", label=ln.label, lw=2)
    left.set_xlabel("trials run (linear scale)")
    right.set_xlabel("epochs spent (cumulative, linear scale)")
    left.set_ylabel(f"best {info.target} so far\n({'higher' if info.goal == 'maximize' else 'lower'} is better)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if len(info.lines) > 1 and ax.get_legend_handles_labels()[0]:  # one line needs no legend
            ax.legend(fontsize=8)
    left.set_title("Best so far against trials")
    right.set_title("Best so far against epochs spent")
    c.caption(fig, info.notes)
    return fig


def _steps(best: np.ndarray) -> np.ndarray:
    """Indices where the best so far changes, plus the first and the last trial."""
    if best.size == 0:
        return np.arange(0)
    b = np.where(np.isfinite(best), best, np.inf)
    change = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    return np.unique(np.r_[change, best.size - 1])


def _render_plotly(info: _HistoryInfo) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True,
                        subplot_titles=("Best so far against trials", "Best so far against epochs spent"))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    for i, ln in enumerate(info.lines):
        color = palette[i % len(palette)]
        keep = _steps(ln.best_so_far)  # a step line needs only its corners: 10,000 trials stay small
        text = [c.esc(ln.sessions[k]) for k in keep]
        fig.add_trace(go.Scatter(x=ln.trial[keep], y=ln.best_so_far[keep], mode="lines+markers", marker=dict(size=4),
                                 line=dict(shape="hv", color=color, width=2), name=c.esc(ln.label), legendgroup=str(i),
                                 text=text, hovertemplate="trial %{x}: %{text}<br>best so far %{y:.4g}<extra></extra>"), 1, 1)
        if ln.epochs is not None:
            fig.add_trace(go.Scatter(x=ln.epochs[keep], y=ln.best_so_far[keep], mode="lines", name=c.esc(ln.label),
                                     line=dict(shape="hv", color=color, width=2), legendgroup=str(i), showlegend=False), 1, 2)
    fig.update_xaxes(title_text="trials run", row=1, col=1)
    fig.update_xaxes(title_text="epochs spent (cumulative)", row=1, col=2)
    fig.update_yaxes(title_text=f"best {c.esc(info.target)} so far", row=1, col=1)
    fig.update_layout(height=420, template="plotly_white", legend=dict(orientation="h", y=-0.25))
    return fig
