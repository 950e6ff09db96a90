"""Which metric the analysis explains, in which direction, and the rows it starts from."""

from __future__ import annotations

import math

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import HParamsToolsError, InsufficientDataError, UnknownMetricError

if TYPE_CHECKING:  # pragma: no cover
    from ..io.experiment import Experiment

__all__ = ["GOALS", "default_goal", "select_target", "Rows", "collect_rows"]

GOALS = ("maximize", "minimize")
_ACCURACY_LIKE = re.compile(r"acc|auc|f1|precision|recall|iou|top.?\d", re.I)
_VALIDATION = re.compile(r"^(validation|val|valid|eval|test)\b", re.I)
_LOWER_IS_BETTER = re.compile(r"loss|error", re.I)


def default_goal(metric: str) -> str:
    """``"minimize"`` for names containing loss/error, else ``"maximize"``."""
    return "minimize" if _LOWER_IS_BETTER.search(metric) else "maximize"


def select_target(experiment: "Experiment", target: str | None, goal: str | None) -> tuple[str, str]:
    """Resolve the target metric and goal.

    Args:
        experiment: The experiment.
        target: A metric name as the export names it (``validation/epoch_accuracy``), or ``None``
            for the declared objective, else the first validation accuracy-like metric.
        goal: ``"maximize"``, ``"minimize"`` or ``None`` (the objective's goal for the objective,
            else minimize for loss/error metrics and maximize otherwise).

    Returns:
        ``(metric name, goal)``.

    Raises:
        UnknownMetricError: the metric does not exist (the message lists those that do).
        HParamsToolsError: an unknown goal.
        InsufficientDataError: the experiment has no metrics at all.
    """
    if goal is not None and goal not in GOALS:
        raise HParamsToolsError(f"unknown goal {goal!r}; use maximize or minimize")
    names = [m.name for m in experiment.metric_infos]
    if not names:
        raise InsufficientDataError(
            f"{experiment.logdir}: the sessions log no scalar metrics, so there is no target to analyse"
        )
    objective = experiment.objective
    if target is None:
        if objective is not None and objective[0] in names:
            target = objective[0]
        else:
            target = _first_accuracy_like(names)
    elif target not in names:
        raise UnknownMetricError(
            f"unknown target metric {target!r}; the experiment has: {', '.join(names)}"
        )
    if goal is None:
        if objective is not None and objective[0] == target and objective[1] in GOALS:
            goal = objective[1]
        else:
            goal = default_goal(target)
    return target, goal


def _first_accuracy_like(names: list[str]) -> str:
    for pick in (
        lambda n: _VALIDATION.search(n) and _ACCURACY_LIKE.search(n.split("/")[-1]),
        lambda n: _ACCURACY_LIKE.search(n.split("/")[-1]),
        lambda n: _VALIDATION.search(n),
    ):
        for name in names:
            if pick(name):
                return name
    return names[0]


@dataclass
class Rows:
    """The raw material of an analysis: one row per session, before any cleaning.

    Attributes:
        hparams: Index session; one column per hyperparameter (as the reader gives them).
        target: Index session; the target metric's value (NaN where missing).
        status: Index session; SUCCESS/FAILURE/RUNNING/UNKNOWN.
        group: Index session; the group key (group name, or the session name when empty).
    """

    hparams: pd.DataFrame
    target: pd.Series
    status: pd.Series
    group: pd.Series


def _finite_or_missing(col: pd.Series) -> pd.Series:
    """An infinite hyperparameter value carries no position on an axis: treat it as not set
    (TensorBoard's HParams backend does the same)."""
    if pd.api.types.is_float_dtype(col):
        return col.where(np.isfinite(col))
    if col.dtype == object:
        return col.map(lambda v: None if isinstance(v, float) and not math.isfinite(v) else v)
    return col


def collect_rows(experiment: "Experiment", target: str, value: str) -> Rows:
    """Gather hparams, target values, statuses and groups of every session."""
    sessions = experiment.sessions
    metrics = experiment.metrics(value)
    hparams = experiment.hparams.reindex(sessions.index).apply(_finite_or_missing)
    y = metrics[target].reindex(sessions.index).astype(float)
    y = y.where(np.isfinite(y))
    group = sessions["group"].astype(object).where(sessions["group"].astype(str) != "", None)
    group = group.fillna(pd.Series(sessions.index, index=sessions.index)).astype(str)
    return Rows(hparams=hparams, target=y, status=sessions["status"].astype(str), group=group)
