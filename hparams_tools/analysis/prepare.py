"""From raw session rows to a clean table and a design matrix, every step counted in notes.

Steps (in order): drop FAILURE sessions and sessions without a finite target; average
repeats / CV folds (sessions sharing a group) into one row per group; drop hyperparameters
that are never set or constant; decide each number's scale (:mod:`.scale`: declared, else how
the values were sampled); impute missing values (numbers: the arithmetic mean, or the geometric
mean for log-scaled ones; categories: the most frequent value); log10 for log-scaled numbers;
one-hot for categories; booleans as 0/1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._format import format_number
from ..errors import InsufficientDataError
from .scale import decide_scale
from .target import Rows

__all__ = ["Factor", "Prepared", "prepare", "MIN_SESSIONS"]

MIN_SESSIONS = 3


@dataclass
class Factor:
    """How one varying hyperparameter enters the analysis (named apart from TensorBoard's ``hp.HParam``).

    Attributes:
        name: Hyperparameter name.
        kind: ``"numeric"``, ``"bool"`` or ``"categorical"``.
        integer: Every observed value is a whole number (kept integer in suggestions).
        log: Analysed as log10 (:func:`~hparams_tools.analysis.scale.decide_scale`).
        scale_reason: Why that scale (declared, or the sampling test's result).
        columns: Its design-matrix columns (all one-hot levels for categories).
        ols_columns: Its columns in the OLS design (one level dropped for categories).
        levels: Category levels as strings, most frequent first (categories and bools).
        reference: The level left out of OLS (categories).
        low: Lower end of the searched range (declared interval, else observed), raw units.
        high: Upper end of the searched range, raw units.
        grid: Declared or observed discrete numeric values when the sweep used a list.
        n_missing: Sessions (rows) where it was missing and was imputed.
        imputation: How missing values were filled (``"geometric mean 0.0012"``), ``""`` if none were.
    """

    name: str
    kind: str
    integer: bool = False
    log: bool = False
    scale_reason: str = ""
    columns: list[str] = field(default_factory=list)
    ols_columns: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    reference: str | None = None
    low: float | None = None
    high: float | None = None
    grid: tuple[float, ...] | None = None
    n_missing: int = 0
    imputation: str = ""

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Raw numeric values -> the analysis scale (log10 when log-scaled)."""
        values = np.asarray(values, dtype=float)
        return np.log10(values) if self.log else values

    def untransform(self, values: np.ndarray | float) -> np.ndarray | float:
        """Analysis scale -> raw units."""
        return np.power(10.0, values) if self.log else values


@dataclass
class Prepared:
    """The cleaned data and design matrix.

    Attributes:
        data: One row per session (or group): the raw hyperparameter values after imputation
            (categories as strings, bools as bool) and the target column.
        design: The full design matrix (numbers, 0/1 bools, every one-hot level).
        ols_design: The design with one level of each category dropped.
        y: The target values aligned with ``data``.
        hparams: Varying hyperparameters by name, in experiment order.
        constants: Hyperparameters dropped as constant, with their one value.
        notes: What was done, with counts.
        n_sessions: Sessions in the experiment.
        n_failed: Sessions with status FAILURE.
        n_missing_target: Sessions (not failed) without a finite target value.
        groups: Per group with more than one session (repeats, CV folds): count, mean, std;
            ``None`` when every group has one session.
        best_raw: The best row's original (un-imputed) hyperparameter values.
        imputed: Hyperparameter -> boolean mask of the rows whose value was imputed.
        failure_patterns: Sentences naming hyperparameter regions where sessions fail or lack a value
            much more often than overall.
    """

    data: pd.DataFrame
    design: pd.DataFrame
    ols_design: pd.DataFrame
    y: pd.Series
    target: str
    goal: str
    hparams: dict[str, Factor]
    constants: dict[str, Any]
    notes: list[str]
    n_sessions: int
    n_failed: int
    n_missing_target: int
    groups: pd.DataFrame | None
    best_raw: dict[str, Any]
    imputed: dict[str, np.ndarray] = field(default_factory=dict)
    failure_patterns: list[str] = field(default_factory=list)

    @property
    def n_used(self) -> int:
        """Rows analysed (sessions, or groups when repeats were averaged)."""
        return len(self.y)

    @property
    def log_scaled(self) -> list[str]:
        """Names of the hyperparameters analysed on a log10 scale."""
        return [h.name for h in self.hparams.values() if h.log]

    def top_mask(self, top: float) -> np.ndarray:
        """Boolean mask of the best ``top`` fraction of rows (at least 2, or all if fewer)."""
        n = len(self.y)
        k = min(n, max(2, int(math.ceil(top * n))))
        order = np.argsort(self.y.to_numpy() * (-1.0 if self.goal == "maximize" else 1.0), kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[order[:k]] = True
        return mask

    def best_index(self) -> int:
        """Position of the best row."""
        y = self.y.to_numpy()
        return int(np.argmax(y) if self.goal == "maximize" else np.argmin(y))

    def subset(self, mask: np.ndarray) -> "Prepared":
        """The same preparation restricted to the rows in ``mask`` (e.g. one category's rows)."""
        from dataclasses import replace

        mask = np.asarray(mask, dtype=bool)
        return replace(self, data=self.data[mask], design=self.design[mask], ols_design=self.ols_design[mask],
                       y=self.y[mask], imputed={k: v[mask] for k, v in self.imputed.items()})

    def observed_best(self, name: str) -> tuple[Any, str]:
        """A hyperparameter's value in the best row that logged it (never an imputed value), and where from.

        Returns:
            ``(value, provenance)``, e.g. ``(0.001, "logged by the best session")``.
        """
        imputed = self.imputed.get(name, np.zeros(len(self.y), dtype=bool))
        y = np.where(imputed, np.nan, self.y.to_numpy(dtype=float))
        pos = int(np.nanargmax(y) if self.goal == "maximize" else np.nanargmin(y))
        value = _plain(self.data[name].iloc[pos])
        if pos == self.best_index():
            return value, "logged by the best session"
        return value, (f"logged by the best session that logged {name} ({self.target} {format_number(float(y[pos]))}; "
                       "the best session did not log it)")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _classify(values: pd.Series) -> str:
    present = values.dropna()
    if present.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(present) or all(isinstance(v, (bool, np.bool_)) for v in present):
        return "bool"
    if pd.api.types.is_numeric_dtype(present) or all(_is_number(v) for v in present):
        return "numeric"
    return "categorical"


@dataclass
class _Usable:
    """Which sessions the analysis can use, with the counts the notes report."""

    keep: pd.Index
    bad: np.ndarray          # per session: failed or without a target value
    n_failed: int
    n_missing_target: int


@dataclass
class _Encoded:
    """The per-hyperparameter results of encoding, collected in experiment order."""

    data: pd.DataFrame
    factors: dict[str, Factor] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    best_raw: dict[str, Any] = field(default_factory=dict)
    imputed: dict[str, np.ndarray] = field(default_factory=dict)
    blocks: list[pd.DataFrame] = field(default_factory=list)
    ols_blocks: list[pd.DataFrame] = field(default_factory=list)


def _usable_sessions(rows: Rows, target: str, notes: list[str]) -> _Usable:
    """Drop FAILURE sessions and sessions without a finite target (noting how many)."""
    n_sessions = len(rows.target)
    failed = rows.status == "FAILURE"
    n_failed = int(failed.sum())
    if n_failed:
        notes.append(f"dropped {n_failed} of {n_sessions} sessions with status FAILURE")
    missing = rows.target.isna() & ~failed
    n_missing_target = int(missing.sum())
    if n_missing_target:
        notes.append(f"dropped {n_missing_target} sessions without a finite {target} value")
    running = int(((rows.status == "RUNNING") & ~failed & ~missing).sum())
    if running:
        notes.append(f"{running} sessions are still RUNNING: their values are not final")
    keep = rows.target.index[~failed & ~missing]
    if len(keep) == 0:
        raise InsufficientDataError(
            f"none of the {n_sessions} sessions has a usable {target} value "
            f"({n_failed} failed, {n_missing_target} without a value); nothing to analyse"
        )
    return _Usable(keep, (failed | missing).to_numpy(), n_failed, n_missing_target)


def _group_means(rows: Rows, keep: pd.Index, notes: list[str]) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
    """One row per group of repeats / CV folds: the first session's hyperparameters, the mean target."""
    hp = rows.hparams.loc[keep]
    y = rows.target.loc[keep]
    group = rows.group.loc[keep]
    counts = group.value_counts(sort=False)
    if len(counts) == len(group):
        return hp, y, None
    stats = y.groupby(group, sort=False).agg(["count", "mean", "std"])
    first = ~group.duplicated()
    hp_g = hp.loc[first.to_numpy()].copy()
    hp_g.index = pd.Index(group.loc[first.to_numpy()].to_numpy(), name="group")
    y_g = stats["mean"].reindex(hp_g.index)
    y_g.name = y.name
    multi = stats[stats["count"] > 1]
    notes.append(
        f"averaged {int(multi['count'].sum())} sessions in {len(multi)} groups of repeats/CV folds "
        f"({int(multi['count'].min())}-{int(multi['count'].max())} sessions each) into one row per group; "
        f"mean within-group std of the target {format_number(float(multi['std'].mean()))}, "
        f"std of the group means {format_number(float(y_g.std()))}"
    )
    return hp_g, y_g, stats


def _check_target(y: pd.Series, target: str) -> None:
    """Enough rows, and a target that varies."""
    if len(y) < MIN_SESSIONS:
        raise InsufficientDataError(
            f"only {len(y)} usable session(s) with a {target} value; the analysis needs at least {MIN_SESSIONS}"
        )
    if float(np.nanstd(y.to_numpy())) == 0.0:
        raise InsufficientDataError(
            f"{target} has the same value ({format_number(float(y.iloc[0]))}) in all {len(y)} usable sessions; "
            "nothing to explain"
        )


def _numeric_factor(name: str, col: pd.Series, info: Any) -> Factor:
    """Integer-ness, searched range or grid, and scale of a numeric hyperparameter."""
    x = col.astype(float)
    present = x.dropna()
    integer = bool(np.all(np.mod(present.to_numpy(), 1.0) == 0))
    low, high = float(present.min()), float(present.max())
    grid = None
    domain = getattr(info, "domain", None)
    if domain is not None and hasattr(domain, "min_value"):
        if domain.min_value is not None and math.isfinite(domain.min_value):
            low = min(low, float(domain.min_value))
        if domain.max_value is not None and math.isfinite(domain.max_value):
            high = max(high, float(domain.max_value))
    elif domain is not None and hasattr(domain, "values"):
        vals = [float(v) for v in domain.values if _is_number(v)]
        if vals:
            grid = tuple(sorted(set(vals) | set(present.unique().tolist())))
    scale = decide_scale(present.to_numpy(), info)
    log = scale.log and low > 0
    return Factor(name, "numeric", integer=integer, log=log, scale_reason=scale.reason, low=low, high=high, grid=grid)


def _encode_numeric(name: str, col: pd.Series, info: Any, out: _Encoded, notes: list[str]) -> Factor:
    """Impute (arithmetic or geometric mean), then one column: the value or its log10."""
    h = _numeric_factor(name, col, info)
    x = col.astype(float)
    h.n_missing = int(x.isna().sum())
    if h.n_missing:
        fill = float(h.untransform(np.mean(h.transform(x.dropna().to_numpy()))))
        fill = float(round(fill)) if h.integer else fill
        x = x.fillna(fill)
        h.imputation = f"{'geometric' if h.log else 'arithmetic'} mean {format_number(fill)}"
        notes.append(f"imputed {h.n_missing} missing values of {name} with the {h.imputation} of the logged ones")
    out.data[name] = x.astype(int) if h.integer else x
    column = f"log10({name})" if h.log else name
    h.columns = h.ols_columns = [column]
    out.blocks.append(pd.DataFrame({column: h.transform(x.to_numpy())}, index=out.data.index))
    return h


def _encode_levels(name: str, col: pd.Series, kind: str, out: _Encoded, notes: list[str]) -> Factor:
    """Impute the most frequent level; booleans as 0/1, categories one-hot (OLS drops the reference)."""
    values = col.map(lambda v: str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v), na_action="ignore")
    counts = values.value_counts()
    levels = sorted(counts.index, key=lambda v: (-counts[v], v))
    h = Factor(name, kind, levels=levels, reference=levels[0], n_missing=int(col.isna().sum()))
    if h.n_missing:
        values = values.fillna(levels[0])
        h.imputation = f"most frequent value {levels[0]!r}"
        notes.append(f"imputed {h.n_missing} missing values of {name} with its {h.imputation}")
    index = out.data.index
    if kind == "bool":
        out.data[name] = values == "true"
        h.levels, h.reference = ["false", "true"], "false"
        h.columns = h.ols_columns = [name]
        out.blocks.append(pd.DataFrame({name: (values == "true").astype(float).to_numpy()}, index=index))
    else:
        out.data[name] = values
        onehot = {f"{name}={lv}": (values == lv).astype(float).to_numpy() for lv in levels}
        h.columns = list(onehot)
        h.ols_columns = h.columns[1:]
        out.blocks.append(pd.DataFrame(onehot, index=index))
    return h


def _encode(hp: pd.DataFrame, y: pd.Series, goal: str, infos: Mapping[str, Any], notes: list[str]) -> _Encoded:
    """Every hyperparameter: dropped (never set, constant) or encoded as design columns."""
    out = _Encoded(data=pd.DataFrame(index=y.index))
    best_pos = int(np.argmax(y.to_numpy()) if goal == "maximize" else np.argmin(y.to_numpy()))
    for name in hp.columns:
        col = hp[name]
        kind = _classify(col)
        if kind == "empty":
            notes.append(f"dropped hyperparameter {name}: never set in the usable sessions")
            continue
        out.best_raw[name] = None if pd.isna(col.iloc[best_pos]) else _plain(col.iloc[best_pos])
        present = col.dropna()
        distinct = present.astype(str).unique() if kind == "categorical" else present.unique()
        if len(distinct) < 2:
            out.constants[name] = _plain(present.iloc[0])
            notes.append(f"dropped hyperparameter {name}: constant ({out.constants[name]!r})")
            continue
        if kind == "numeric":
            h = _encode_numeric(name, col, infos.get(name), out, notes)
        else:
            h = _encode_levels(name, col, kind, out, notes)
        out.factors[name] = h
        out.imputed[name] = col.isna().to_numpy()
        out.ols_blocks.append(out.blocks[-1][h.ols_columns])
    return out


def _encoding_notes(factors: dict[str, Factor], notes: list[str]) -> None:
    """Say which scale each number got and why, and how categories and booleans were encoded."""
    numeric = [h for h in factors.values() if h.kind == "numeric"]
    if numeric:
        notes.append("scales: " + "; ".join(f"{h.name} {'log10' if h.log else 'linear'} ({h.scale_reason})"
                                            for h in numeric))
    cats = [h for h in factors.values() if h.kind == "categorical"]
    if cats:
        notes.append("one-hot encoded " + ", ".join(
            f"{h.name} ({len(h.levels)} levels, OLS reference {h.reference!r})" for h in cats))
    bools = [h.name for h in factors.values() if h.kind == "bool"]
    if bools:
        notes.append(f"booleans as 0/1: {', '.join(bools)}")


def prepare(rows: Rows, hparam_infos: Mapping[str, Any], *, target: str, goal: str) -> Prepared:
    """Clean the rows and build the design matrices.

    Args:
        rows: Raw rows from :func:`~hparams_tools.analysis.target.collect_rows`.
        hparam_infos: Name -> ``HParamInfo`` (declared domains and scales).
        target: Target metric name (the target column's name in ``data``).
        goal: ``"maximize"`` or ``"minimize"``.

    Returns:
        The :class:`Prepared` data.

    Raises:
        InsufficientDataError: fewer than :data:`MIN_SESSIONS` usable rows, a constant target,
            or no hyperparameter that varies.
    """
    notes: list[str] = []
    usable = _usable_sessions(rows, target, notes)
    hp, y, stats = _group_means(rows, usable.keep, notes)
    _check_target(y, target)
    enc = _encode(hp, y, goal, hparam_infos, notes)
    if not enc.factors:
        raise InsufficientDataError(
            f"every hyperparameter is constant (or never set) over the {len(y)} usable sessions; "
            "nothing can explain the differences in " + target
        )
    _encoding_notes(enc.factors, notes)
    enc.data[target] = y.to_numpy()
    design = pd.concat(enc.blocks, axis=1)
    notes.insert(0, f"{len(y)} of {len(rows.target)} sessions used" + (" (as group means)" if stats is not None else "")
                 + f"; {len(enc.factors)} varying hyperparameters, {design.shape[1]} design columns")
    return Prepared(
        data=enc.data, design=design, ols_design=pd.concat(enc.ols_blocks, axis=1), y=y.astype(float),
        target=target, goal=goal, hparams=enc.factors, constants=enc.constants, notes=notes,
        n_sessions=len(rows.target), n_failed=usable.n_failed, n_missing_target=usable.n_missing_target,
        groups=None if stats is None else stats[stats["count"] > 1], best_raw=enc.best_raw, imputed=enc.imputed,
        failure_patterns=failure_patterns(rows.hparams, usable.bad, infos=hparam_infos),
    )

def failure_patterns(hp: pd.DataFrame, bad: np.ndarray, *, min_failures: int = 5,
                     infos: Mapping[str, Any] | None = None) -> list[str]:
    """Where failures (or missing targets) concentrate: a quartile or a category with a failure rate
    at least twice the overall rate and at least 30%.

    Args:
        hp: Raw hyperparameters of every session.
        bad: Per session: failed or without a target value.
        min_failures: Fewer failures than this say nothing.
        infos: Name -> ``HParamInfo`` (for the scale of the quartiles).

    Returns:
        One sentence per hyperparameter with such a region (the worst region only).
    """
    n_bad = int(bad.sum())
    if n_bad < min_failures or n_bad == len(bad):
        return []
    overall = n_bad / len(bad)
    out = []
    for name in hp.columns:
        col = hp[name]
        kind = _classify(col)
        if kind == "empty":
            continue
        if kind == "numeric":
            x = col.astype(float)
            if x.nunique() < 2:
                continue
            key = np.log10(x) if decide_scale(x.dropna().to_numpy(), (infos or {}).get(name)).log else x
            bins = pd.qcut(key, 4, duplicates="drop")
            labels = {iv: (x[bins == iv].min(), x[bins == iv].max()) for iv in bins.cat.categories}
            groups = bins
        else:
            groups = col.astype(str)
            labels = None
        stats = pd.DataFrame({"g": groups, "bad": bad}).dropna().groupby("g", observed=True)["bad"].agg(["sum", "count"])
        stats = stats[stats["count"] >= min_failures]
        if stats.empty:
            continue
        rate = stats["sum"] / stats["count"]
        worst = rate.idxmax()
        if rate[worst] >= max(2 * overall, 0.3) and stats.at[worst, "sum"] >= min_failures:
            where = (f"{name} {format_number(labels[worst][0])} to {format_number(labels[worst][1])}" if labels is not None
                     else f"{name}={worst}")
            out.append(f"Failures concentrate at {where}: {rate[worst]:.0%} of those sessions failed or have no "
                       f"value, against {overall:.0%} overall.")
    return out


def _plain(v: Any) -> Any:
    """numpy scalars -> Python scalars (YAML and JSON friendly); whole floats of int columns stay floats."""
    if isinstance(v, np.generic):
        return v.item()
    return v
