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

if TYPE_CHECKING:  # pragma: no cover
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
    experiment: Any = None

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


def auto_log(values: pd.Series) -> bool:
    """True for a positive numeric hyperparameter that looks log-distributed.

    That is: it spans at least two decades and its median sits in the bottom
    quarter of its linear range (log-uniform samples or grids like 1e-4, 1e-3,
    1e-2 do; a uniform 0..0.5 that happens to start near 0 does not).
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2 or v.min() <= 0 or v.max() / v.min() < 100:
        return False
    return bool((np.median(v) - v.min()) / (v.max() - v.min()) < 0.25)


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
        log_scaled: Hyperparameters to draw on a log axis, in addition to those
            declared log-scaled, those the analysis log-scaled, and those that
            look log-distributed (:func:`auto_log`).
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
    declared_log: set[str] = set()
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
        declared_log = {n for n, info in experiment.hparam_infos.items() if info.log_scale}
        label = label or experiment.logdir.name or str(experiment.logdir)
    goal = _check_goal(goal or guess_goal(target))
    categorical = {n for n in names if not is_numeric(frame[n])}
    for n in names:
        if n not in categorical:
            frame[n] = pd.to_numeric(frame[n], errors="coerce").astype(float)
    logs = set(declared_log) | set(log_scaled or ()) | set(getattr(analysis, "log_scaled", None) or ())
    logs |= {n for n in names if n not in categorical and auto_log(frame[n])}
    # a log axis needs positive values
    logs = {n for n in logs if n in names and n not in categorical and (frame[n].dropna() > 0).all()}
    ordered, ranked_by = rank_hparams(frame, names, categorical, analysis)
    return PlotData(frame, ordered, target, goal, frozenset(logs), frozenset(categorical), ranked_by, label, experiment)


def rank_hparams(frame: pd.DataFrame, names: Sequence[str], categorical: set[str], analysis: Any = None) -> tuple[list[str], str]:
    """Order hyperparameters, most important first.

    With an AnalysisResult: the mean over its importance methods (each
    normalised to sum 1). Without: the correlation ratio (eta) of the target on
    each hyperparameter (numbers binned into deciles). Hyperparameters that
    never vary go last.

    Returns:
        ``(ordered names, a phrase saying how)``.
    """
    imp = getattr(analysis, "importance", None)
    scores: dict[str, float] = {}
    how = "the analysis' consensus importance"
    if imp is not None and len(imp):
        if "consensus" in imp.columns:  # the analysis' own mean of normalised scores
            mean = imp["consensus"].astype(float).fillna(0.0)
        else:
            cols = [c for c in ("forest", "permutation", "fanova", "ped_anova") if c in imp.columns]
            norm = imp[cols].astype(float).clip(lower=0)
            norm = norm / norm.sum().replace(0, np.nan)
            mean = norm.mean(axis=1, skipna=True).fillna(0.0)
        scores = {str(k): float(v) for k, v in mean.items() if str(k) in names}
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


def top_hparams(data: PlotData, k: int, *, numeric_only: bool = False) -> tuple[list[str], str | None]:
    """The ``k`` most important (varying) hyperparameters and, when some were left out, a note saying so."""
    pool = [n for n in data.hparams if data.frame[n].nunique(dropna=True) >= 2]
    if numeric_only:
        pool = [n for n in pool if n not in data.categorical]
    chosen = pool[:k]
    note = None
    if len(pool) > k:
        note = f"Showing the {k} most important of {len(pool)} varying hyperparameters (ranked by {data.ranked_by})."
    return chosen, note


def downsample(data: PlotData, limit: int = MAX_POINTS, *, seed: int = 0, frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str | None]:
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
    return rows, f"Drawing a random sample of {len(rows):,} of {len(frame):,} sessions (seed {seed}; the best is always kept)."


def axis_label(name: str, log: bool) -> str:
    """Axis title naming the scale."""
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
    """Tick positions (log10 units) and labels for a log axis drawn in log10 coordinates."""
    a, b = math.floor(lo), math.ceil(hi)
    if b - a < 1:
        vals = [lo, hi]
    else:
        vals = [float(e) for e in range(a, b + 1) if lo - 1e-9 <= e <= hi + 1e-9] or [lo, hi]
    return vals, [f"{10 ** v:.3g}" for v in vals]


def require_sessions(data: PlotData, what: str, n: int = 1) -> pd.DataFrame:
    """The scored rows, or InsufficientDataError when fewer than ``n``."""
    scored = data.scored
    if len(scored) < n:
        raise InsufficientDataError(
            f"{what} needs at least {n} session(s) with a value for {data.target!r}; found {len(scored)}"
        )
    return scored


def new_figure(width: float, height: float):
    """A matplotlib Figure not attached to pyplot (no global state, no GUI backend)."""
    from ..errors import require

    require("matplotlib")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def caption(fig: Any, notes: Sequence[str | None]) -> None:
    """Write the plot's notes (top-K, downsampling, method) under a matplotlib figure."""
    import textwrap

    text = "\n".join(textwrap.fill(n, 120) for n in notes if n)
    if text:
        fig.supxlabel(text, fontsize=8, color="#555555")
