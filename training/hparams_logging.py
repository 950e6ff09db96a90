"""The one place that writes HParams summaries: experiment config, session start and session end.

keras-tuner writes HParams only on the TensorFlow backend and only through its
own TensorBoard hook; the sweep does not rely on that. It writes:

* the experiment (``hparams_config``) once at the logdir root, with every
  parameter's domain, the metrics with display names, and a description whose
  line ``objective: <metric> <goal>`` tells the analysis what was optimised;
* per session (a trial, or a fold of a trial under CV) a start info with the
  values and the trial id as group, and an end info SUCCESS or FAILURE.

Per-epoch ``train/`` and ``validation/`` scalars come from Keras' own
TensorBoard callback, pointed at the session directory.
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

__all__ = ["METRICS", "write_experiment_config", "Session"]

# (group, tag, display name) of the metrics the sweep declares.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("validation", "epoch_accuracy", "Validation accuracy"),
    ("validation", "epoch_loss", "Validation loss"),
    ("train", "epoch_accuracy", "Training accuracy"),
    ("train", "epoch_loss", "Training loss"),
)


def _write_pb(logdir: str, summary_pb: Any) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        tf.summary.experimental.write_raw_pb(summary_pb.SerializeToString(), step=0)
    writer.flush()
    writer.close()


def write_experiment_config(logdir: str, hparams: Sequence[Any], *, objective: str, goal: str,
                            description: str = "", time_created: float | None = None) -> None:
    """Write the experiment summary (``hparams_config`` plus a description) at ``logdir``.

    Args:
        logdir: The experiment root.
        hparams: ``hp.HParam`` objects with their domains.
        objective: The objective metric name, e.g. ``validation/epoch_accuracy``.
        goal: ``maximize`` or ``minimize``.
        description: Free text put before the objective line.
        time_created: Seconds since the epoch (now by default).
    """
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2, summary

    infos = []
    for h in hparams:
        info = api_pb2.HParamInfo(name=h.name, description=h.description, display_name=h.display_name or "")
        if h.domain is not None:
            h.domain.update_hparam_info(info)
        infos.append(info)
    metrics = [hp.Metric(tag, group=group, display_name=name).as_proto() for group, tag, name in METRICS]
    if objective not in {f"{g}/{t}" for g, t, _ in METRICS}:
        group, _, tag = objective.rpartition("/")
        metrics.append(hp.Metric(tag, group=group or None, display_name=objective).as_proto())
    text = (description.rstrip() + "\n" if description else "") + f"objective: {objective} {goal}"
    pb = summary.experiment_pb(infos, metrics, description=text, time_created_secs=time_created or time.time())
    _write_pb(logdir, pb)


class Session:
    """One HParams session: a start info now, an end info at :meth:`end`.

    Args:
        run_dir: The session directory (Keras' TensorBoard callback writes below it).
        values: Hyperparameter values (plain Python scalars).
        group: The session group (the trial id).
    """

    def __init__(self, run_dir: str, values: Mapping[str, Any], *, group: str) -> None:
        import tensorflow as tf
        from tensorboard.plugins.hparams import summary_v2

        self.run_dir = str(run_dir)
        self._writer = tf.summary.create_file_writer(self.run_dir)
        self.ended = False
        pb = summary_v2.hparams_pb(dict(values), trial_id=group, start_time_secs=time.time())
        with self._writer.as_default():
            tf.summary.experimental.write_raw_pb(pb.SerializeToString(), step=0)
        self._writer.flush()

    def end(self, status: str = "SUCCESS") -> None:
        """Write the end info (``SUCCESS`` or ``FAILURE``) and close the writer; idempotent."""
        if self.ended:
            return
        import tensorflow as tf
        from tensorboard.plugins.hparams import api_pb2, summary

        code = {"SUCCESS": api_pb2.STATUS_SUCCESS, "FAILURE": api_pb2.STATUS_FAILURE}[status]
        with self._writer.as_default():
            tf.summary.experimental.write_raw_pb(summary.session_end_pb(code, time.time()).SerializeToString(),
                                                 step=0)
        self._writer.flush()
        self._writer.close()
        self.ended = True
