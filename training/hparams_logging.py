"""The one place that writes the sweep's TensorBoard data: experiment, sessions and epoch scalars.

Everything goes through :mod:`hparams_tools.io.writer` (no ``tf.summary``), so
the files are the same on every Keras backend and no backend needs TensorFlow:

* the experiment (``hparams_config``) once at the logdir root, with every
  parameter's domain, the metrics with display names, and a description whose
  line ``objective: <metric> <goal>`` tells the analysis what was optimised;
* per session (a trial, or a fold or repeat of a trial) a start info with the
  values and the trial id as group, and an end info SUCCESS or FAILURE;
* per epoch, :class:`EpochScalars` (a Keras callback) writes what Keras' own
  ``TensorBoard`` callback writes with its defaults: ``epoch_<metric>`` into
  ``<session>/train`` (with ``epoch_learning_rate``) and
  ``<session>/validation``, step = epoch, as rank-0 float32 tensors, and after each validation pass
  ``evaluation_<metric>_vs_iterations`` into ``validation`` at the optimizer's step count.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import keras

from hparams_tools.io.experiment import MetricInfo
from hparams_tools.io.writer import EventWriter

__all__ = ["METRICS", "write_experiment_config", "Session", "EpochScalars"]

# (group, tag, display name) of the metrics the sweep declares.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("validation", "epoch_accuracy", "Validation accuracy"),
    ("validation", "epoch_loss", "Validation loss"),
    ("train", "epoch_accuracy", "Training accuracy"),
    ("train", "epoch_loss", "Training loss"),
)


def write_experiment_config(logdir: str, hparams: Sequence[Any], *, objective: str, goal: str,
                            description: str = "", time_created: float | None = None) -> None:
    """Write the experiment summary (``hparams_config`` plus a description) at ``logdir``.

    Args:
        logdir: The experiment root.
        hparams: :class:`hparams_tools.io.experiment.HParamInfo` objects with their domains.
        objective: The objective metric name, e.g. ``validation/epoch_accuracy``.
        goal: ``maximize`` or ``minimize``.
        description: Free text put before the objective line.
        time_created: Seconds since the epoch (now by default).
    """
    metrics = [MetricInfo(group, tag, name) for group, tag, name in METRICS]
    if objective not in {f"{g}/{t}" for g, t, _ in METRICS}:
        group, _, tag = objective.rpartition("/")
        metrics.append(MetricInfo(group, tag, objective))
    text = (description.rstrip() + "\n" if description else "") + f"objective: {objective} {goal}"
    with EventWriter(logdir) as writer:
        writer.add_experiment(hparams, metrics, description=text,
                              time_created=time.time() if time_created is None else time_created)


class Session:
    """One HParams session: a start info now, an end info at :meth:`end`.

    Args:
        run_dir: The session directory (:class:`EpochScalars` writes below it).
        values: Hyperparameter values (plain Python scalars).
        group: The session group (the trial id).
    """

    def __init__(self, run_dir: str, values: Mapping[str, Any], *, group: str) -> None:
        self.run_dir = str(run_dir)
        self._writer = EventWriter(self.run_dir)
        self.ended = False
        self._writer.add_session_start(dict(values), group=group)
        self._writer.flush()

    def end(self, status: str = "SUCCESS") -> None:
        """Write the end info (``SUCCESS`` or ``FAILURE``) and close the writer; idempotent."""
        if self.ended:
            return
        self._writer.add_session_end(status)
        self._writer.close()
        self.ended = True


class EpochScalars(keras.callbacks.Callback):
    """Per-epoch ``train/`` and ``validation/`` scalars, as Keras' ``TensorBoard`` callback writes them.

    Same run directories, tags (``epoch_`` + the logs key, ``val_`` moved to
    ``validation/``; ``evaluation_<metric>_vs_iterations`` per validation pass),
    steps (the epoch index, continuing from ``initial_epoch``; the optimizer's
    iterations) and encoding, on every backend (a test compares the files with
    Keras' callback's). Each file is flushed after every epoch, so a
    live sweep can be read while it trains.

    Args:
        run_dir: The session directory.
    """

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self._writers: dict[str, EventWriter] = {}

    def _writer(self, group: str) -> EventWriter:
        if group not in self._writers:  # created at the first epoch's end, like Keras' lazy writers
            self._writers[group] = EventWriter(self.run_dir / group)
        return self._writers[group]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        if train:
            optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)  # loss scaling
            train["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        groups = {"train": train, "validation": {k[4:]: v for k, v in logs.items() if k.startswith("val_")}}
        for group, values in groups.items():
            if not values:
                continue
            writer = self._writer(group)
            for name, value in values.items():
                writer.add_scalar(f"epoch_{name}", float(value), epoch)
            writer.flush()

    def on_test_end(self, logs: dict | None = None) -> None:
        # Keras' callback also logs each validation pass against the optimizer's step count.
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), step)
        writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.close()

    def close(self) -> None:
        """Close the event files (idempotent; also for a fit that raised before its end)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
