"""From raw session rows to a clean table and a design matrix, every step counted in notes.

Steps (in order): drop FAILURE sessions and sessions without a finite target; average
repeats / CV folds (sessions sharing a group) into one row per group; drop hyperparameters
that are never set or constant; impute missing values (numbers: the column mean, taken in
log space for log-scaled ones; categories: the most frequent value); log10 for log-scaled
numbers; one-hot for categories; booleans as 0/1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._format import format_number
from ..errors import InsufficientDataError
from .target import Rows

__all__ = ["HParam", "Prepared", "prepare", "MIN_SESSIONS"]

MIN_SESSIONS = 3
# Positive values spanning at least this ratio (two decades) are analysed on a log10 scale.
LOG_SPAN = 100.0


@dataclass
class HParam:
    """How one varying hyperparameter enters the analysis.

    Attributes:
        name: Hyperparameter name.
        kind: ``"numeric"``, ``"bool"`` or ``"categorical"``.
        integer: Every observed value is a whole number (kept integer in suggestions).
        log: Analysed as log10 (declared log scale, or positive values spanning >= 2 decades).
        columns: Its design-matrix columns (all one-hot levels for categories).
        ols_columns: Its columns in the OLS design (one level dropped for categories).
        levels: Category levels as strings, most frequent first (categories and bools).
        reference: The level left out of OLS (categories).
        low: Lower end of the searched range (declared interval, else observed), raw units.
        high: Upper end of the searched range, raw units.
        grid: Declared or observed discrete numeric values when the sweep used a list.
        n_missing: Sessions (rows) where it was missing and was imputed.
    """

    name: str
    kind: str
    integer: bool = False
    log: bool = False
    columns: list[str] = field(default_factory=list)
    ols_columns: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    reference: str | None = None
    low: float | None = None
    high: float | None = None
    grid: tuple[float, ...] | None = None
    n_missing: int = 0

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
    hparams: dict[str, HParam]
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


def _group_means(rows: Rows, keep: pd.Index, notes: list[str]) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
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


def _numeric_info(name: str, col: pd.Series, info: Any) -> HParam:
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
    declared_log = bool(getattr(info, "log_scale", False))
    positive = low > 0 and float(present.min()) > 0
    log = positive and (declared_log or float(present.max()) / float(present.min()) >= LOG_SPAN)
    return HParam(name, "numeric", integer=integer, log=log, low=low, high=high, grid=grid)


def prepare(rows: Rows, hparam_infos: Mapping[str, Any], *, target: str, goal: str) -> Prepared:
    """Clean the rows and build the design matrices.

    Args:
        rows: Raw rows from :func:`~hparams_tools.analysis.target.collect_rows`.
        hparam_infos: Name -> ``HParamInfo`` (for declared domains and log scale).
        target: Target metric name (the target column's name in ``data``).
        goal: ``"maximize"`` or ``"minimize"``.

    Returns:
        The :class:`Prepared` data.

    Raises:
        InsufficientDataError: fewer than :data:`MIN_SESSIONS` usable rows, a constant target,
            or no hyperparameter that varies.
    """
    notes: list[str] = []
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
    hp, y, stats = _group_means(rows, keep, notes)
    groups = None if stats is None else stats[stats["count"] > 1]
    if len(y) < MIN_SESSIONS:
        raise InsufficientDataError(
            f"only {len(y)} usable session(s) with a {target} value; the analysis needs at least {MIN_SESSIONS}"
        )
    if float(np.nanstd(y.to_numpy())) == 0.0:
        raise InsufficientDataError(
            f"{target} has the same value ({format_number(float(y.iloc[0]))}) in all {len(y)} usable sessions; "
            "nothing to explain"
        )

    data = pd.DataFrame(index=y.index)
    blocks: list[pd.DataFrame] = []
    ols_blocks: list[pd.DataFrame] = []
    hparams: dict[str, HParam] = {}
    constants: dict[str, Any] = {}
    best_pos = int(np.argmax(y.to_numpy()) if goal == "maximize" else np.argmin(y.to_numpy()))
    best_raw: dict[str, Any] = {}
    imputed: dict[str, np.ndarray] = {}
    for name in hp.columns:
        col = hp[name]
        kind = _classify(col)
        if kind == "empty":
            notes.append(f"dropped hyperparameter {name}: never set in the usable sessions")
            continue
        best_raw[name] = _plain(col.iloc[best_pos]) if not pd.isna(col.iloc[best_pos]) else None
        present = col.dropna()
        distinct = present.astype(str).unique() if kind == "categorical" else present.unique()
        if len(distinct) < 2:
            constants[name] = _plain(present.iloc[0])
            notes.append(f"dropped hyperparameter {name}: constant ({constants[name]!r})")
            continue
        n_missing = int(col.isna().sum())
        info = hparam_infos.get(name)
        if kind == "numeric":
            h = _numeric_info(name, col, info)
            x = col.astype(float)
            if n_missing:
                fill = float(h.untransform(np.mean(h.transform(x.dropna().to_numpy()))))
                fill = float(round(fill)) if h.integer else fill
                x = x.fillna(fill)
                notes.append(
                    f"imputed {n_missing} missing values of {name} with the "
                    f"{'geometric ' if h.log else ''}mean {format_number(fill)}"
                )
            data[name] = x.astype(int) if h.integer else x
            column = f"log10({name})" if h.log else name
            h.columns = h.ols_columns = [column]
            blocks.append(pd.DataFrame({column: h.transform(x.to_numpy())}, index=y.index))
        else:
            values = col.map(lambda v: str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v), na_action="ignore")
            counts = values.value_counts()
            levels = sorted(counts.index, key=lambda v: (-counts[v], v))
            if n_missing:
                values = values.fillna(levels[0])
                notes.append(f"imputed {n_missing} missing values of {name} with its most frequent value {levels[0]!r}")
            h = HParam(name, kind, levels=levels, reference=levels[0])
            if kind == "bool":
                data[name] = values == "true"
                h.levels = ["false", "true"]
                h.reference = "false"
                h.columns = h.ols_columns = [name]
                blocks.append(pd.DataFrame({name: (values == "true").astype(float)}, index=y.index))
            else:
                data[name] = values
                onehot = {f"{name}={lv}": (values == lv).astype(float).to_numpy() for lv in levels}
                h.columns = list(onehot)
                h.ols_columns = h.columns[1:]
                blocks.append(pd.DataFrame(onehot, index=y.index))
        h.n_missing = n_missing
        hparams[name] = h
        imputed[name] = col.isna().to_numpy()
        ols_blocks.append(blocks[-1][h.ols_columns])
    if not hparams:
        raise InsufficientDataError(
            f"every hyperparameter is constant (or never set) over the {len(y)} usable sessions; "
            "nothing can explain the differences in " + target
        )
    logs = [h.name for h in hparams.values() if h.log]
    if logs:
        notes.append(f"analysed on a log10 scale: {', '.join(logs)}")
    cats = [h.name for h in hparams.values() if h.kind == "categorical"]
    if cats:
        notes.append(
            "one-hot encoded " + ", ".join(f"{c} ({len(hparams[c].levels)} levels, OLS reference "
                                            f"{hparams[c].reference!r})" for c in cats)
        )
    bools = [h.name for h in hparams.values() if h.kind == "bool"]
    if bools:
        notes.append(f"booleans as 0/1: {', '.join(bools)}")
    data[target] = y.to_numpy()
    design = pd.concat(blocks, axis=1)
    ols_design = pd.concat(ols_blocks, axis=1)
    notes.insert(0, f"{len(y)} of {n_sessions} sessions used"
                 + (" (as group means)" if stats is not None else "")
                 + f"; {len(hparams)} varying hyperparameters, {design.shape[1]} design columns")
    return Prepared(
        data=data, design=design, ols_design=ols_design, y=y.astype(float), target=target, goal=goal,
        hparams=hparams, constants=constants, notes=notes, n_sessions=n_sessions, n_failed=n_failed,
        n_missing_target=n_missing_target, groups=groups, best_raw=best_raw, imputed=imputed,
        failure_patterns=failure_patterns(rows.hparams, (failed | missing).to_numpy()),
    )


def failure_patterns(hp: pd.DataFrame, bad: np.ndarray, *, min_failures: int = 5) -> list[str]:
    """Where failures (or missing targets) concentrate: a quartile or a category with a failure rate
    at least twice the overall rate and at least 30%.

    Args:
        hp: Raw hyperparameters of every session.
        bad: Per session: failed or without a target value.
        min_failures: Fewer failures than this say nothing.

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
            positive = bool((x.dropna() > 0).all())
            key = np.log10(x) if positive and x.max() / x.min() >= LOG_SPAN else x
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
