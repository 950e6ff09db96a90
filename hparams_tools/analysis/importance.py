"""Importance of each hyperparameter: tree forest (impurity + permutation) and optuna's fANOVA / PED-ANOVA.

Every method reports one score per hyperparameter (one-hot levels summed back).

* ``forest``: impurity importance of ``ExtraTreesRegressor(n_estimators=250, random_state=seed)``
  fitted on a seeded 80% training split (all rows below :data:`MIN_HOLDOUT`; at most
  :data:`FOREST_CAP` rows, which bounds the time for huge sweeps); sums to 1.
  The other 20% (at most :data:`TEST_CAP` rows) gives the forest's out-of-sample R²; below
  :data:`CV_BELOW` rows, where a 20% hold-out is a handful of rows, R² comes from 5-fold
  cross-validation of the same forest configuration instead.
* ``permutation``: how much that held-out R² drops when one hyperparameter's columns are shuffled
  (mean over :data:`PERMUTATION_REPEATS` shuffles, ``permutation_std`` their spread), on at most
  :data:`PERMUTATION_CAP` held-out rows.
* ``fanova``: optuna's ``FanovaImportanceEvaluator`` (fraction of the target's variance explained by
  each main effect) on at most :data:`OPTUNA_CAP` rows; ``n_trees=64, max_depth=6`` because optuna's
  default depth 64 costs ~28 s on 1,000 trials and the scores barely change.
* ``ped_anova``: optuna's ``PedAnovaImportanceEvaluator(target_quantile=top)``: which hyperparameters
  matter to reach the top quantile; normalised to sum 1.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..errors import require
from .prepare import Prepared

__all__ = [
    "ForestResult", "fit_forest", "optuna_importances", "subsample",
    "N_ESTIMATORS", "MIN_HOLDOUT", "PERMUTATION_REPEATS", "PERMUTATION_CAP", "OPTUNA_CAP",
]

N_ESTIMATORS = 250
MIN_HOLDOUT = 20          # below this many rows: no held-out split (no R², no permutation importance)
TEST_FRACTION = 0.2
PERMUTATION_REPEATS = 5
PERMUTATION_CAP = 500
FOREST_CAP = 4000
CV_BELOW = 200            # below this many rows a single 20% hold-out is too small: R² by K-fold CV
CV_FOLDS = 5
TEST_CAP = 2000
OPTUNA_CAP = 1000
MIN_OPTUNA = 10
FANOVA_TREES = 64
FANOVA_DEPTH = 6


def subsample(n: int, cap: int, seed: int, salt: int = 0) -> np.ndarray:
    """Sorted positions of a seeded subsample of at most ``cap`` of ``n`` rows."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng([seed, salt])
    return np.sort(rng.choice(n, size=cap, replace=False))


@dataclass
class ForestResult:
    """The fitted forest and what it says.

    Attributes:
        model: The fitted ``ExtraTreesRegressor``.
        train: Row positions it was fitted on.
        importance: Impurity importance per hyperparameter (sums to 1).
        r2: Out-of-sample R² on the held-out rows, or ``None``.
        permutation: Mean drop of held-out R² per hyperparameter, or ``None``.
        permutation_std: Standard deviation of that drop over the repeats, or ``None``.
        notes: What was done (sizes, caps) or skipped.
    """

    model: Any
    train: np.ndarray
    importance: pd.Series
    r2: float | None
    permutation: pd.Series | None
    permutation_std: pd.Series | None
    notes: list[str] = field(default_factory=list)


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else float("nan")


def _cv_r2(ensemble: Any, x: np.ndarray, y: np.ndarray, *, seed: int, n_jobs: int | None) -> float:
    """R² of out-of-fold predictions of the same forest configuration (seeded K-fold)."""
    order = np.random.default_rng([seed, 5]).permutation(len(y))
    pred = np.empty(len(y))
    for fold in np.array_split(order, CV_FOLDS):
        rest = np.setdiff1d(order, fold)
        model = ensemble.ExtraTreesRegressor(n_estimators=N_ESTIMATORS, random_state=seed, n_jobs=n_jobs)
        pred[fold] = model.fit(x[rest], y[rest]).predict(x[fold])
    return _r2(y, pred)


def fit_forest(prep: Prepared, *, seed: int, n_jobs: int | None = None) -> ForestResult:
    """Fit the ExtraTrees forest; impurity importance, held-out R² and permutation importance.

    Args:
        prep: Prepared data.
        seed: Random seed (split, forest, shuffles).
        n_jobs: Threads for the forest (``None``: one; ``-1``: all cores).

    Returns:
        A :class:`ForestResult`.
    """
    ensemble = require("sklearn.ensemble")
    x = prep.design.to_numpy(dtype=float)
    y = prep.y.to_numpy(dtype=float)
    n = len(y)
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    if n >= MIN_HOLDOUT:
        order = rng.permutation(n)
        n_test = max(5, int(round(TEST_FRACTION * n)))
        test, train = np.sort(order[:n_test][:TEST_CAP]), np.sort(order[n_test:][:FOREST_CAP])
        if len(train) < n - n_test or len(test) < n_test:
            notes.append(f"forest on a seeded subsample: {len(train)} training and {len(test)} held-out rows "
                         f"(caps {FOREST_CAP} and {TEST_CAP})")
    else:
        train, test = np.arange(n), np.arange(0)
        notes.append(f"forest R² and permutation importance skipped: {n} rows (need {MIN_HOLDOUT} for a held-out split)")
    model = ensemble.ExtraTreesRegressor(n_estimators=N_ESTIMATORS, random_state=seed, n_jobs=n_jobs)
    model.fit(x[train], y[train])
    cols = {c: i for i, c in enumerate(prep.design.columns)}
    blocks = {name: [cols[c] for c in h.columns] for name, h in prep.hparams.items()}
    impurity = model.feature_importances_
    importance = pd.Series({name: float(impurity[idx].sum()) for name, idx in blocks.items()}, dtype=float)
    r2 = perm = perm_std = None
    if len(test):
        if len(test) > PERMUTATION_CAP:
            test_p = test[subsample(len(test), PERMUTATION_CAP, seed, salt=1)]
        else:
            test_p = test
        r2 = _r2(y[test], model.predict(x[test]))
        if n < CV_BELOW:
            r2 = _cv_r2(ensemble, x, y, seed=seed, n_jobs=n_jobs)
            notes.append(f"forest fitted on {len(train)} rows; out-of-sample R² {r2:.3f} from {CV_FOLDS}-fold "
                         f"cross-validation ({len(test)} held-out rows for permutation importance)")
        else:
            notes.append(
                f"forest fitted on {len(train)} rows, out-of-sample R² {r2:.3f} on {len(test)} held-out rows"
            )
        xt, yt = x[test_p], y[test_p]
        base = _r2(yt, model.predict(xt))
        means, stds = {}, {}
        m = len(test_p)
        for name, idx in blocks.items():
            stacked = np.tile(xt, (PERMUTATION_REPEATS, 1))
            for r in range(PERMUTATION_REPEATS):
                perm_rows = rng.permutation(m)
                stacked[r * m:(r + 1) * m][:, idx] = xt[perm_rows][:, idx]
            pred = model.predict(stacked).reshape(PERMUTATION_REPEATS, m)
            drops = np.array([base - _r2(yt, p) for p in pred])
            means[name], stds[name] = float(drops.mean()), float(drops.std(ddof=1)) if len(drops) > 1 else 0.0
        perm, perm_std = pd.Series(means, dtype=float), pd.Series(stds, dtype=float)
        if m < len(test):
            notes.append(f"permutation importance on a seeded subsample of {m} of {len(test)} held-out rows")
    return ForestResult(model, train, importance, r2, perm, perm_std, notes)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[Any]:
    optuna = require("optuna")
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield optuna
    finally:
        optuna.logging.set_verbosity(level)


def _distribution(optuna: Any, h: Any, values: pd.Series) -> Any:
    dist = optuna.distributions
    if h.kind == "numeric" and h.grid is not None:
        # a declared list of numbers (TensorBoard Discrete) is a choice, as keras-tuner's Choice is
        choices = sorted({int(v) if h.integer else float(v) for v in values})
        return dist.CategoricalDistribution(choices)
    if h.kind == "numeric":
        lo = min(float(h.low), float(values.min()))
        hi = max(float(h.high), float(values.max()))
        if h.integer:
            lo_i, hi_i = int(math.floor(lo)), int(math.ceil(hi))
            return dist.IntDistribution(lo_i, hi_i, log=bool(h.log and lo_i >= 1))
        return dist.FloatDistribution(lo, hi, log=bool(h.log and lo > 0))
    if h.kind == "bool":
        return dist.CategoricalDistribution([False, True])
    return dist.CategoricalDistribution(list(h.levels))


def build_study(prep: Prepared, rows: np.ndarray) -> Any:
    """An optuna study holding one COMPLETE trial per row (hyperparameters with matching distributions)."""
    with _quiet_optuna() as optuna:
        data = prep.data.iloc[rows]
        dists = {name: _distribution(optuna, h, data[name]) for name, h in prep.hparams.items()}
        columns = {}
        for name, h in prep.hparams.items():
            col = data[name]
            if h.kind == "numeric":
                columns[name] = [int(v) for v in col] if h.integer else [float(v) for v in col]
            elif h.kind == "bool":
                columns[name] = [bool(v) for v in col]
            else:
                columns[name] = [str(v) for v in col]
        values = prep.y.to_numpy(dtype=float)[rows]
        trials = [
            optuna.trial.create_trial(
                params={name: columns[name][i] for name in columns}, distributions=dists, value=float(values[i])
            )
            for i in range(len(rows))
        ]
        study = optuna.create_study(direction=prep.goal)
        study.add_trials(trials)
    return study


def optuna_importances(prep: Prepared, *, seed: int, top: float) -> tuple[pd.Series | None, pd.Series | None, list[str]]:
    """fANOVA and PED-ANOVA importances from optuna's evaluators.

    Args:
        prep: Prepared data.
        seed: Seed for the subsample and fANOVA's forest.
        top: PED-ANOVA's target quantile (the fraction of best rows).

    Returns:
        ``(fanova, ped_anova, notes)``; a score is ``None`` when there are too few rows.
    """
    n = prep.n_used
    if n < MIN_OPTUNA:
        return None, None, [f"fANOVA and PED-ANOVA skipped: {n} rows (need {MIN_OPTUNA})"]
    rows = subsample(n, OPTUNA_CAP, seed, salt=2)
    notes = []
    if len(rows) < n:
        notes.append(f"fANOVA and PED-ANOVA on a seeded subsample of {len(rows)} of {n} rows")
    study = build_study(prep, rows)
    names = list(prep.hparams)
    with _quiet_optuna() as optuna:
        evaluator = optuna.importance.FanovaImportanceEvaluator(
            n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=seed
        )
        try:
            fanova = evaluator.evaluate(study, params=names)
            fanova_s = pd.Series({k: float(fanova.get(k, 0.0)) for k in names}, dtype=float)
        except RuntimeError as exc:  # zero variance in every tree
            fanova_s = pd.Series(0.0, index=names)
            notes.append(f"fANOVA could not split the data ({exc}); its scores are 0")
        ped_s = None
        if 0.0 < top < 1.0:
            ped = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=top).evaluate(study, params=names)
            ped_s = pd.Series({k: float(ped.get(k, 0.0)) for k in names}, dtype=float)
            total = float(ped_s.sum())
            ped_s = ped_s / total if total > 0 else ped_s
        else:
            notes.append(f"PED-ANOVA skipped: top quantile {top} must be below 1")
    return fanova_s, ped_s, notes
