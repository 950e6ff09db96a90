"""Shared plumbing for the plots: input normalisation, colours, log axes, top-K and downsampling.

Every plot starts from a :class:`PlotData`: one row per session with the
hyperparameters, the target and the session's status/group, plus what is
known about each hyperparameter (log-scaled, categorical) and the goal.
:func:`plot_data` builds it from an :class:`~hparams_tools.Experiment` or a
plain DataFrame, so the plots work on either.

Colours: the target always uses the same colour map (viridis), oriented so
that *brighter is better* whatever the goal, with the same range in every
plot of a report (the range comes from the one PlotData).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .._format import format_number
from ..errors import HParamsToolsError, InsufficientDataError, UnknownMetricError
from . import notes as N
from .notes import Note

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..io.experiment import Experiment

TARGET = "__target__"
STATUS = "__status__"
GROUP = "__group__"
START = "__start__"
END = "__end__"
_SESSION_COLUMNS = {"group": GROUP, "status": STATUS, "start_time": START, "end_time": END}

MAX_POINTS = 2000
"""Sessions drawn at most per plot; beyond this a seeded sample (always keeping the best) is drawn."""
MAX_HPARAMS = 8
"""Hyperparameters shown at most in multi-axis plots; the most important ones are kept."""
CMAP = "viridis"
PLOTLY_SCALE = "Viridis"
BEST_COLOR = "#d62728"
FAILED_COLOR = "#7f7f7f"


class PlotData(NamedTuple):
    """Normalised input of every plot.

    Attributes:
        frame: One row per session (index: session name): one column per
            hyperparameter, then ``TARGET``, ``STATUS``, ``GROUP``, ``START``, ``END``.
        hparams: Hyperparameter names, most important first when known.
        target: The target metric's name.
        goal: ``"maximize"`` or ``"minimize"``.
        log_scaled: Hyperparameters drawn on a log axis.
        categorical: Hyperparameters drawn as categories (strings, bools).
        ranked_by: How ``hparams`` was ordered (said in top-K notes).
        label: A short name of the experiment (legends when comparing).
        experiment: The source experiment, when there is one (curves, history).
    """

    frame: pd.DataFrame
    hparams: list[str]
    target: str
    goal: str
    log_scaled: frozenset[str]
    categorical: frozenset[str]
    ranked_by: str
    label: str
    experiment: Experiment | None = None

    @property
    def scored(self) -> pd.DataFrame:
        """Rows of sessions that did not fail and whose target is a finite number."""
        ok = np.isfinite(self.frame[TARGET].to_numpy(dtype=float)) & ~self.frame[STATUS].astype(str).eq("FAILURE").to_numpy()
        return self.frame[ok]

    def best_session(self) -> str | None:
        """Name of the best session by the target (``None`` when no session has a value)."""
        scored = self.scored
        if scored.empty:
            return None
        col = scored[TARGET].astype(float)
        return str(col.idxmax() if self.goal == "maximize" else col.idxmin())

    def color_range(self) -> tuple[float, float]:
        """The target's colour range, shared by every plot drawn from this data."""
        vals = self.scored[TARGET].to_numpy(dtype=float)
        if vals.size == 0:
            return (0.0, 1.0)
        lo, hi = float(vals.min()), float(vals.max())
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    @property
    def cmap(self) -> str:
        """Matplotlib colour map name: brighter is better for either goal."""
        return CMAP if self.goal == "maximize" else CMAP + "_r"

    @property
    def plotly_scale(self) -> str:
        """Plotly colour scale name: brighter is better for either goal."""
        return PLOTLY_SCALE if self.goal == "maximize" else PLOTLY_SCALE + "_r"

    @property
    def target_label(self) -> str:
        """Colour-bar / axis label of the target, with its direction."""
        better = "higher" if self.goal == "maximize" else "lower"
        return f"{self.target} ({better} is better)"


def guess_goal(metric: str) -> str:
    """``"minimize"`` for loss/error-like metric names, else ``"maximize"`` (the analysis' rule)."""
    from ..analysis.target import default_goal

    return default_goal(metric)


def resolve_target(experiment: "Experiment", target: str | None = None, goal: str | None = None) -> tuple[str, str]:
    """The target and goal exactly as the analysis picks them (declared objective first).

    Returns:
        ``(metric name, goal)``.

    Raises:
        UnknownMetricError: an unknown target (the message names the logdir and lists the metrics).
        InsufficientDataError: the experiment has no metric at all.
    """
    from ..analysis.target import select_target

    try:
        return select_target(experiment, target, goal)
    except UnknownMetricError as exc:
        raise UnknownMetricError(f"{experiment.logdir}: {exc}") from None


def _check_goal(goal: str) -> str:
    if goal not in ("maximize", "minimize"):
        raise HParamsToolsError(f"goal must be 'maximize' or 'minimize', not {goal!r}")
    return goal


def _log_scaled(frame: pd.DataFrame, names: Sequence[str], categorical: set[str], experiment: Experiment | None,
                analysis: Any) -> set[str]:
    """The hyperparameters drawn on a log axis: the analysis' own decision where it made one, else the
    same rule (:func:`hparams_tools.analysis.scale.is_log_scaled`) on the plotted values."""
    from ..analysis.scale import is_log_scaled

    decided = set(getattr(analysis, "data", pd.DataFrame()).columns) if analysis is not None else set()
    logs = {n for n in getattr(analysis, "log_scaled", None) or () if n in names}
    infos = experiment.hparam_infos if experiment is not None else {}
    return logs | {n for n in names if n not in categorical and n not in decided
                   and is_log_scaled(frame[n].dropna().to_numpy(dtype=float), infos.get(n))}


def is_numeric(values: pd.Series) -> bool:
    """True when every non-missing value is a (non-bool) number."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    non_null = values.dropna()
    return bool(len(non_null)) and all(
        isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) for x in non_null
    )


def plot_data(
    source: "Experiment | pd.DataFrame | PlotData",
    *,
    target: str | None = None,
    goal: str | None = None,
    value: str = "last",
    hparams: Sequence[str] | None = None,
    log_scaled: Sequence[str] | None = None,
    analysis: Any = None,
    label: str | None = None,
) -> PlotData:
    """Normalise a plot's input.

    Args:
        source: An Experiment, a DataFrame (one row per session, index the
            session name; hyperparameter columns, the target column, optional
            ``status``/``group``/``start_time``/``end_time``), or a PlotData
            (returned unchanged).
        target: Target metric (default: the analysis' target, the experiment's
            declared objective, or its most plausible validation metric).
        goal: ``"maximize"``/``"minimize"`` (default: the analysis', the
            objective's, or guessed from the metric's name).
        value: Value mode for metrics (``last``, ``max``, ``min``, ``mean-last-K``).
        hparams: Hyperparameter columns (default: all of the experiment's, or
            every DataFrame column that is neither the target nor a session column).
        log_scaled: Hyperparameters to draw on a log axis, in addition to those the
            one scale rule puts there (:func:`hparams_tools.analysis.scale.is_log_scaled`:
            declared, else sampled log-uniform; the analysis' decision when given).
        analysis: An AnalysisResult; its importance orders the hyperparameters.
        label: Short experiment name for legends.

    Returns:
        The PlotData.

    Raises:
        UnknownMetricError: if the target is not a metric of the source.
    """
    if isinstance(source, PlotData):
        return source
    if analysis is not None:
        target = target or analysis.target
        goal = goal or analysis.goal
    experiment = None
    if isinstance(source, pd.DataFrame):
        df = source
        if target is None:
            raise HParamsToolsError("a DataFrame input needs target=<column name>")
        if target not in df.columns:
            raise UnknownMetricError(f"target {target!r} is not a column; columns: {', '.join(map(str, df.columns))}")
        names = list(hparams) if hparams is not None else [
            str(c) for c in df.columns if c != target and c not in _SESSION_COLUMNS
        ]
        frame = df[names].copy()
        frame[TARGET] = pd.to_numeric(df[target], errors="coerce").astype(float)
        for src, dst in _SESSION_COLUMNS.items():
            frame[dst] = df[src] if src in df.columns else (np.nan if src.endswith("time") else ("SUCCESS" if src == "status" else ""))
        frame.index = frame.index.map(str)
        label = label or "experiment"
    else:
        experiment = source
        target, goal = resolve_target(experiment, target, goal)
        metrics = experiment.metrics(value)
        names = list(hparams) if hparams is not None else [str(h) for h in experiment.hparams.columns]
        frame = experiment.hparams.reindex(columns=names).copy()
        frame[TARGET] = metrics[target].reindex(frame.index).astype(float)
        sessions = experiment.sessions.reindex(frame.index)
        for src, dst in _SESSION_COLUMNS.items():
            frame[dst] = sessions[src] if src in sessions.columns else np.nan
        label = label or experiment.logdir.name or str(experiment.logdir)
    goal = _check_goal(goal or guess_goal(target))
    categorical = {n for n in names if not is_numeric(frame[n])}
    for n in names:
        if n not in categorical:
            frame[n] = pd.to_numeric(frame[n], errors="coerce").astype(float)
    logs = set(log_scaled or ()) | _log_scaled(frame, names, categorical, experiment, analysis)
    # a log axis needs positive values
    logs = {n for n in logs if n in names and n not in categorical and (frame[n].dropna() > 0).all()}
    ordered, ranked_by = rank_hparams(frame, names, categorical, analysis)
    return PlotData(frame, ordered, target, goal, frozenset(logs), frozenset(categorical), ranked_by, label, experiment)


def rank_hparams(frame: pd.DataFrame, names: Sequence[str], categorical: set[str], analysis: Any = None) -> tuple[list[str], str]:
    """Order hyperparameters, most important first.

    With an AnalysisResult: its ranking
    (:func:`hparams_tools.analysis.result.importance_ranking`). Without: the correlation ratio (eta) of the target on
    each hyperparameter (numbers binned into deciles). Hyperparameters that
    never vary go last.

    Returns:
        ``(ordered names, a phrase saying how)``.
    """
    imp = getattr(analysis, "importance", None)
    scores: dict[str, float] = {}
    how = "the analysis' consensus importance"
    if imp is not None and len(imp):
        from ..analysis.result import importance_ranking

        ranked = importance_ranking(imp)  # the analysis' one ranking
        scores = {n: float(len(ranked) - i) for i, n in enumerate(ranked) if n in names}
    if not scores:
        # the correlation ratio (eta) of the target on the hyperparameter's values (numbers in up to 10
        # quantile bins): unlike a correlation it sees non-monotone effects such as a best learning rate
        how = "the correlation ratio (eta) of the target on each hyperparameter"
        y = frame[TARGET].astype(float)
        ok = np.isfinite(y.to_numpy())
        for n in names:
            col = frame[n][ok]
            if col.nunique(dropna=True) < 2:
                continue
            if n in categorical:
                keys = col.astype(str)
            elif col.nunique() <= 10:
                keys = col
            else:
                keys = pd.qcut(col.rank(method="first"), 10, labels=False)
            scores[n] = _eta(keys, y[ok])
    varying = [n for n in names if frame[n].nunique(dropna=True) >= 2]
    ordered = sorted(varying, key=lambda n: (-scores.get(n, -1.0), list(names).index(n)))
    return ordered + [n for n in names if n not in ordered], how


def _eta(groups: pd.Series, y: pd.Series) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    means = y.groupby(groups).transform("mean")
    return math.sqrt(float(((means - y.mean()) ** 2).sum()) / total)


def top_hparams(data: PlotData, k: int, *, numeric_only: bool = False) -> tuple[list[str], Note | None]:
    """The ``k`` most important (varying) hyperparameters and, when some were left out, a note saying so."""
    pool = [n for n in data.hparams if data.frame[n].nunique(dropna=True) >= 2]
    if numeric_only:
        pool = [n for n in pool if n not in data.categorical]
    chosen = pool[:k]
    note = None
    if len(pool) > k:
        note = top_k_note(data, k, len(pool))
    return chosen, note


def top_k_note(data: PlotData, k: int, of: int) -> Note:
    """The note of a plot that shows only the ``k`` most important of ``of`` hyperparameters."""
    return Note(N.TOP_K, f"Showing the {k} most important of {of} varying hyperparameters (ranked by {data.ranked_by}).")


def downsample(data: PlotData, limit: int = MAX_POINTS, *, seed: int = 0, frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, Note | None]:
    """At most ``limit`` rows: a seeded random sample that always keeps the best session.

    Returns:
        ``(rows, note)``; ``note`` says how many of how many were drawn, or is ``None``.
    """
    frame = data.frame if frame is None else frame
    if len(frame) <= limit:
        return frame, None
    best = data.best_session()
    rng = np.random.default_rng(seed)
    others = np.array([s for s in frame.index if s != best], dtype=object)
    keep = list(rng.choice(others, size=limit - (best is not None), replace=False))
    if best is not None and best in frame.index:
        keep.append(best)
    rows = frame.loc[sorted(keep)]
    return rows, Note(N.SAMPLE, f"Drawing a random sample of {len(rows):,} of {len(frame):,} sessions "
                                f"(seed {seed}; the best is always kept).")


def axis_label(name: str, log: bool) -> str:
    """Axis title naming the scale (tick labels always show real values, never exponents)."""
    return f"{name} (log scale)" if log else name


def fmt(value: Any) -> str:
    """Compact text for a number or category (the package's one number format; missing: n/a)."""
    return format_number(value, missing="n/a")


def categories(values: pd.Series) -> tuple[list[str], np.ndarray]:
    """Sorted category labels and each value's code (NaN for missing)."""
    text = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values.tolist()]
    labels = sorted({t for t in text if t is not None})
    index = {c: i for i, c in enumerate(labels)}
    codes = np.array([index[t] if t is not None else np.nan for t in text], dtype=float)
    return labels, codes


def esc(text: Any) -> str:
    """Escape text for plotly, which interprets a subset of HTML in labels and hover text."""
    return html.escape(str(text), quote=True)


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick positions (log10 units) and labels (the real values) for a log axis drawn in log10 coordinates.

    Whole decades where the range spans at least two; else 1-2-5 steps inside
    it, so that a narrow log axis still shows a few real values, never exponents.
    """
    a, b = math.floor(lo), math.ceil(hi)
    decades = [float(e) for e in range(a, b + 1) if lo - 1e-9 <= e <= hi + 1e-9]
    if len(decades) < 2:
        steps = [math.log10(m) + e for e in range(a - 1, b + 1) for m in (1, 2, 5)]
        decades = [v for v in steps if lo - 1e-9 <= v <= hi + 1e-9]
        if len(decades) < 2:  # a range narrower than 1-2-5 steps: its ends too
            decades = sorted({lo, hi, *decades})
    return decades, [f"{10 ** v:.3g}" for v in decades]


SCENE_CAMERA = dict(eye=dict(x=1.75, y=1.75, z=1.05))
"""A 3D view from a little further away than plotly's default, so the axis titles stay inside the figure."""


def plotly_log_axis(values: Any) -> dict[str, Any]:
    """A plotly log axis (data in real units) whose ticks are :func:`log_ticks`: real values, never SI prefixes (10µ)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    out: dict[str, Any] = dict(type="log")
    if v.size:
        vals, text = log_ticks(math.log10(float(v.min())), math.log10(float(v.max())))
        out.update(tickvals=[10 ** x for x in vals], ticktext=text)
    return out


def matplotlib_log_axis(ax: Any, which: str) -> None:
    """Put the ``which`` ("x" or "y") axis of ``ax`` on a log scale labelled with real values (0.001, not 10^-3)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.3g}"))
    axis.set_minor_formatter(NullFormatter())


def scene_axis(title: str, log: bool, values: np.ndarray) -> dict[str, Any]:
    """A plotly 3D axis for values drawn in log10 coordinates when ``log``: the ticks show the real values."""
    out: dict[str, Any] = dict(title=dict(text=esc(axis_label(title, log))))
    finite = values[np.isfinite(values)]
    if log and finite.size:
        vals, text = log_ticks(float(finite.min()), float(finite.max()))
        out.update(tickvals=vals, ticktext=text)
    else:
        out["nticks"] = 6  # a 3D axis is short: plotly's default crowds its labels
    return out


MODEBAR_PX = 46
"""Space above a plotly title for plotly's toolbar (the mode bar, about 26 px; a title's text starts about 14 px above its pad)."""
TITLE_CHARS = 60
"""Title characters per line: fits the narrowest report figure (about 560 px) at 15 px."""


def set_plotly_title(fig: Any, title: str, subtitle: str | None = None) -> None:
    """Give a plotly figure a wrapped, left-aligned title below the mode bar, with the top margin it needs.

    Plotly never wraps a title: a long one is cut at the figure's edge, and a
    centred one sits under the toolbar. Here the text (raw, escaped here) is
    wrapped to :data:`TITLE_CHARS`, the subtitle smaller and grey; call it
    after any ``update_layout(margin=...)``.
    """
    import textwrap

    lines = [esc(t) for t in textwrap.wrap(title, TITLE_CHARS)]
    subs = [f'<span style="font-size:12px;color:#555">{esc(t)}</span>'
            for t in (textwrap.wrap(subtitle, int(TITLE_CHARS * 1.3)) if subtitle else [])]
    fig.update_layout(
        title=dict(text="<br>".join(lines + subs), x=0, xref="container", xanchor="left", y=1, yref="container",
                   yanchor="top", pad=dict(l=14, t=MODEBAR_PX), font=dict(size=15)),
        margin=dict(t=MODEBAR_PX + 21 * len(lines) + 17 * len(subs) + 18),
    )


def require_sessions(data: PlotData, what: str, n: int = 1) -> pd.DataFrame:
    """The scored rows, or InsufficientDataError when fewer than ``n``."""
    scored = data.scored
    if len(scored) < n:
        raise InsufficientDataError(
            f"{what} needs at least {n} session(s) with a value for {data.target!r}; found {len(scored)}"
        )
    return scored


def new_figure(width: float, height: float) -> "Figure":
    """A matplotlib Figure not attached to pyplot (no global state, no GUI backend)."""
    from ..errors import require

    require("matplotlib")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def kept(*notes: Note | None) -> list[Note]:
    """The notes that were made (drops ``None``)."""
    return [n for n in notes if n is not None]


def metric_series(experiment: "Experiment", metric: str) -> pd.DataFrame:
    """The long rows (session, step, value) of one metric: the plots' ONE lookup of per-step values.

    The reader owns the lookup (:meth:`Experiment.metric_steps`, by the metric's group and tag).

    Raises:
        InsufficientDataError: when no session logged the metric per step.
    """
    try:
        rows = experiment.metric_steps(metric)
    except UnknownMetricError:
        rows = None
    if rows is None or len(rows) == 0:
        raise InsufficientDataError(f"no session logged {metric!r} per step; no learning curves to draw")
    return rows[["session", "step", "value"]]


def caption(fig: "Figure", notes: Sequence[Note]) -> None:
    """Write the plot's notes (top-K, downsampling, method) under a matplotlib figure."""
    import textwrap

    text = "\n".join(textwrap.fill(n.text, 120) for n in notes)
    if text:
        fig.supxlabel(text, fontsize=8, color="#555555")
