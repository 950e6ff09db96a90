"""A :class:`~._runs.Sweep` becomes the one model, wrapped in the one :class:`Experiment` class.

The model is the same :class:`~hparams_tools.io._semantics.Model` that the event-file reader
builds (sessions sorted by name, every metric series contiguous in the value columns, ordered
by session, metric group and tag), so frames, export, analysis and report work unchanged. It is
built directly from the runs: writing a temporary logdir and reading it back would double the
work for nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._model import MetricInfo
from .._semantics import Model, _run_join, _set_hparams, infer_hparam_infos, parse_objective
from ..experiment import Experiment
from ._runs import STATUSES, Sweep

__all__ = ["ImportedExperiment", "build_model"]


def build_model(sweep: Sweep) -> Model:
    """The reader's model of ``sweep``; hparams or metrics a run has but the source did not
    declare are added (hparams inferred by TensorBoard's rules) with a note."""
    model = Model(declared=True, description=sweep.description)
    runs = sorted(sweep.runs, key=lambda r: r.name)
    names = [r.name for r in runs]
    if len(set(names)) != len(names):  # a reader bug, not bad input: names are made unique there
        raise AssertionError(f"duplicate session names in {sweep.source}")

    infos = {h.name: h for h in sweep.hparam_infos}
    undeclared = sorted({k for r in runs for k in r.hparams} - set(infos))
    if undeclared:
        inferred = infer_hparam_infos([_Hparams({k: v for k, v in r.hparams.items() if k in undeclared})
                                       for r in runs])
        infos.update(inferred)
        if sweep.hparam_infos:
            sweep.notes.append(f"no domain recorded for {', '.join(undeclared)}: inferred from the values")
    model.hparam_infos = {name: infos[name] for name in sorted(infos)}

    metric_infos = list(sweep.metric_infos)
    known = {(m.group, m.tag) for m in metric_infos}
    extra = sorted({key for r in runs for key in r.metrics} - known, key=lambda gt: (gt[1], gt[0]))
    metric_infos += [MetricInfo(group, tag) for group, tag in extra]
    model.metric_infos = metric_infos
    model.objective = parse_objective(model.description)

    model.sessions = names
    for r in runs:
        if r.status not in STATUSES:
            raise AssertionError(f"status {r.status!r} of {r.name}")
        model.groups.append(r.group or r.name)
        model.statuses.append(r.status)
        model.start_times.append(float(r.start_time))
        model.end_times.append(float(r.end_time))
        model.session_hparams.append(_set_hparams(dict(r.hparams)))

    steps: list[int] = []
    walls: list[float] = []
    values: list[float] = []
    starts: list[int] = []
    rs_index: dict[tuple[int, str, str], int] = {}
    series_session = []
    for pos, r in enumerate(runs):
        for group, tag in sorted(r.metrics):  # the long table's order: session, group, tag
            points = r.metrics[(group, tag)]
            rs_index[(pos, group, tag)] = len(starts)
            starts.append(len(steps))
            model.series_run.append(_run_join(r.name, group))
            model.series_tag.append(tag)
            model.series_group.append(group)
            series_session.append(pos)
            for step, wall, value in points:
                steps.append(int(step))
                walls.append(float(wall))
                values.append(float(value))
    model.step = np.asarray(steps, dtype=np.int64)
    model.wall = np.asarray(walls, dtype=np.float64)
    model.value = np.asarray(values, dtype=np.float64)
    model.series_start = np.asarray(starts, dtype=np.int64)
    model.series_stop = np.append(model.series_start[1:], len(steps)).astype(np.int64)
    model.series_session = np.asarray(series_session, dtype=np.int64)

    ms = np.full((len(runs), len(metric_infos)), -1, dtype=np.int64)
    for i in range(len(runs)):
        for j, m in enumerate(metric_infos):
            sid = rs_index.get((i, m.group, m.tag))
            if sid is not None and model.series_stop[sid] > model.series_start[sid]:
                ms[i, j] = sid
    model.metric_series = ms
    model.n_runs = len({*model.series_run, *names})
    model.n_scalar_runs = len(set(model.series_run))
    model.n_records = len(steps)
    return model


class _Hparams:
    """Duck-typed session start (``infer_hparam_infos`` reads only ``.hparams``)."""

    def __init__(self, hparams: dict) -> None:
        self.hparams = hparams


class ImportedExperiment(Experiment):
    """An :class:`Experiment` read from a keras-tuner directory, Optuna storage, MLflow store or
    run table instead of event files; everything else behaves the same.

    Attributes:
        source_kind: ``keras-tuner``, ``optuna``, ``mlflow`` or ``table``.
        notes: One sentence per thing the source lacks or that was interpreted (no wall times,
            no domains, strings read as numbers, statuses mapped...).
        choices: Which parts of the source were used for what (e.g. a table's columns).
    """

    def __init__(self, source: str | os.PathLike[str], sweep: Sweep, reread) -> None:
        super().__init__(Path(os.fspath(source)))
        self.source = str(source)
        self.source_kind = sweep.kind
        self._reread = reread
        self._set(sweep)

    def _set(self, sweep: Sweep) -> None:
        self._model = build_model(sweep)
        self.notes = list(sweep.notes)
        self.choices = list(sweep.choices)
        self._cache.clear()

    def _update(self) -> None:
        """Nothing to parse incrementally: the model was built from the source."""

    def reload(self) -> "ImportedExperiment":
        """Read the source again (a running study or sweep); returns ``self``."""
        self._set(self._reread())
        return self

    @property
    def damage(self) -> list:
        return []

    def __repr__(self) -> str:
        return super().__repr__().replace("<Experiment", f"<Experiment ({self.source_kind})", 1)

