"""``analyze``: run every method on an experiment and collect an :class:`AnalysisResult`."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import HParamsToolsError
from .correlation import correlation
from .findings import findings, notable_interactions
from .importance import MIN_HOLDOUT, fit_forest, optuna_importances, subsample
from .interactions import TOP_K, h_statistics
from .prepare import Prepared, prepare
from .regression import ols
from .result import AnalysisResult, consensus_shares
from .suggest import suggest_space
from .target import collect_rows, select_target

if TYPE_CHECKING:  # pragma: no cover
    from ..io.experiment import Experiment

__all__ = ["analyze", "analyze_prepared", "INTERACTION_CAP"]

# Interactions need POINTS**2 predictions per pair; a forest fitted on more rows is deeper and
# slower to query, so above this many rows they come from a forest fitted on a seeded subsample.
INTERACTION_CAP = 1000
_STEPS = ("prepare", "correlation", "ols", "forest", "fanova/ped-anova", "interactions", "suggest")


def _validate(value: str, seed: Any, top: Any) -> None:
    from ..io.experiment import parse_value_mode

    parse_value_mode(value)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise HParamsToolsError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(top, (int, float)) or isinstance(top, bool) or not 0.0 < float(top) < 1.0:
        raise HParamsToolsError(f"top must be a fraction between 0 and 1 (e.g. 0.2 for the best 20%), got {top!r}")


def analyze(
    experiment: "Experiment | str | os.PathLike[str]", *, target: str | None = None, goal: str | None = None, value: str = "last",
    seed: int = 0, top: float = 0.2, progress: bool = False, n_jobs: int | None = -1,
) -> AnalysisResult:
    """Which hyperparameters matter for ``target``, how sure we are, and where to search next.

    Args:
        experiment: An experiment from :func:`hparams_tools.read_experiment` (or a logdir path, read here).
        target: Metric name as the export names it (e.g. ``validation/epoch_accuracy``); default:
            the declared objective, else the first validation accuracy-like metric.
        goal: ``"maximize"`` or ``"minimize"``; default: the objective's, else minimize for names
            containing loss/error and maximize otherwise.
        value: Metric value per session: ``last``, ``max``, ``min`` or ``mean-last-K``.
        seed: Seed for every random step (same input and seed, same numbers).
        top: Fraction of best rows defining the promising region (PED-ANOVA and the suggestion).
        progress: Show a progress bar over the methods.
        n_jobs: Threads for the forest (``-1``: all cores; results do not depend on it).

    Returns:
        The :class:`AnalysisResult`.

    Raises:
        UnknownMetricError: unknown target (the message lists the metrics).
        InsufficientDataError: no usable target value, too few sessions, a constant target, or
            no varying hyperparameter.
        HParamsToolsError: a bad value mode, goal, seed or top.
    """
    _validate(value, seed, top)
    if isinstance(experiment, (str, os.PathLike)):
        from ..io.read import read_experiment

        experiment = read_experiment(experiment)
    target, goal = select_target(experiment, target, goal)
    rows = collect_rows(experiment, target, value)
    prep = prepare(rows, experiment.hparam_infos, target=target, goal=goal)
    return analyze_prepared(prep, value=value, seed=int(seed), top=float(top), progress=progress,
                            n_jobs=n_jobs, source=str(experiment.logdir))


def analyze_prepared(
    prep: Prepared, *, value: str = "last", seed: int = 0, top: float = 0.2, progress: bool = False,
    n_jobs: int | None = -1, source: str = "",
) -> AnalysisResult:
    """Run the methods on already prepared data (see :func:`analyze`)."""
    timings: dict[str, float] = {}
    notes = list(prep.notes)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(_STEPS) - 1, desc="analysis", unit="step")
    clock = time.perf_counter()

    def done(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = now - clock
        clock = now
        if bar is not None:
            bar.set_postfix_str(step)
            bar.update(1)

    try:
        corr = correlation(prep.design, prep.y)
        done("correlation")
        ols_table, r2, ols_note = ols(prep.ols_design, prep.y)
        if ols_note:
            notes.append(ols_note)
        done("ols")
        forest = fit_forest(prep, seed=seed, n_jobs=n_jobs)
        notes += forest.notes
        done("forest")
        fanova, ped, optuna_notes = optuna_importances(prep, seed=seed, top=top)
        notes += optuna_notes
        done("fanova/ped-anova")
        names = list(prep.hparams)
        table = pd.DataFrame(index=pd.Index(names, name="hyperparameter"))
        table["forest"] = forest.importance.reindex(names)
        nan = pd.Series(np.nan, index=names)
        table["permutation"] = (forest.permutation if forest.permutation is not None else nan).reindex(names)
        table["permutation_std"] = (forest.permutation_std if forest.permutation_std is not None else nan).reindex(names)
        table["fanova"] = (fanova if fanova is not None else nan).reindex(names)
        table["ped_anova"] = (ped if ped is not None else nan).reindex(names)
        table["consensus"] = consensus_shares(table)
        table = table.sort_values("consensus", ascending=False, kind="stable")
        inter = _interactions(prep, forest, table, seed=seed, n_jobs=n_jobs, notes=notes)
        done("interactions")
        notable = notable_interactions(inter, forest.r2)
        interacting = set(notable["a"]) | set(notable["b"])
        pairs = [(str(a), str(b)) for a, b in notable.sort_values("strength", ascending=False)[["a", "b"]].to_numpy()]
        suggestion = suggest_space(prep, table, ols_table, forest.r2, top=top, seed=seed, source=source,
                                   interacting=interacting, pairs=pairs)
        found = findings(prep, importance=table, ols=ols_table, interactions=inter, forest_r2=forest.r2,
                         suggestion=suggestion, top=top, ols_r2=r2)
        done("suggest")
    finally:
        if bar is not None:
            bar.close()
    return AnalysisResult(
        target=prep.target, goal=prep.goal, value=value, seed=seed, top=top,
        n_sessions=prep.n_sessions, n_sessions_used=prep.n_used, notes=notes, data=prep.data,
        design=prep.design, correlation=corr, ols=ols_table, ols_r_squared=r2, importance=table,
        forest_r2=forest.r2, interactions=inter, findings=found, next_space=suggestion.space,
        next_space_comments=suggestion.comments, next_space_header=suggestion.header,
        log_scaled=prep.log_scaled, groups=prep.groups, timings=timings,
        provenance=_provenance(prep),
    )


def _provenance(prep: Prepared) -> dict[str, dict[str, Any]]:
    """Per hyperparameter: its scale and why, and how many values were imputed and how."""
    return {name: {"scale": "log10" if h.log else ("linear" if h.kind == "numeric" else h.kind),
                   "scale_reason": h.scale_reason, "imputed": h.n_missing, "imputation": h.imputation}
            for name, h in prep.hparams.items()}


def _interactions(prep: Prepared, forest: Any, table: pd.DataFrame, *, seed: int, n_jobs: int | None,
                  notes: list[str]) -> pd.DataFrame:
    # Candidates by forest importance: fANOVA/PED-ANOVA main effects miss pure interactions.
    names = table["forest"].sort_values(ascending=False, kind="stable").index[:TOP_K].tolist()
    if len(names) < 2 or prep.n_used < MIN_HOLDOUT:
        if len(names) >= 2:
            notes.append(f"interactions skipped: {prep.n_used} rows (need {MIN_HOLDOUT})")
        return pd.DataFrame(columns=["a", "b", "h2", "strength"])
    x = prep.design.to_numpy(dtype=float)
    cols = {c: i for i, c in enumerate(prep.design.columns)}
    blocks = {n: [cols[c] for c in h.columns] for n, h in prep.hparams.items()}
    model, rows = forest.model, forest.train
    if len(rows) > INTERACTION_CAP:
        from sklearn.ensemble import ExtraTreesRegressor

        from .importance import N_ESTIMATORS

        rows = rows[subsample(len(rows), INTERACTION_CAP, seed, salt=4)]
        model = ExtraTreesRegressor(n_estimators=N_ESTIMATORS, random_state=seed, n_jobs=n_jobs)
        model.fit(x[rows], prep.y.to_numpy(dtype=float)[rows])
        notes.append(f"interactions from a forest on a seeded subsample of {len(rows)} training rows")
    return h_statistics(model, x[rows], blocks, names, seed=seed)
