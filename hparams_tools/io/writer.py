"""Write real TensorBoard HParams logdirs without TensorFlow.

The files are ordinary TensorBoard event files: TFRecord framing with masked
CRC-32C, ``Event`` protos from the ``tensorboard`` package, HParams summaries
built exactly like ``tensorboard.plugins.hparams.summary_v2`` builds them
(tag ``_hparams_/...``, plugin ``hparams``, an empty float tensor as value).
TensorBoard itself reads them (the conformance tests check this with its own
HParams backend).

Scalars are written the TF2/Keras 3 way (a rank-0 float32 tensor with the
``scalars`` plugin metadata on every value, as TF 2.21 really writes it), the
same with the metadata on a tag's first value only, or the
TF1/PyTorch/tensorboardX way (``simple_value``).

Typical use, e.g. to generate a test or benchmark logdir::

    write_experiment("logs/exp", [HParamInfo("lr", "float", "", "", Interval(1e-4, 1e-1))],
                     [MetricInfo("validation", "epoch_accuracy", "", "")])
    write_session("logs/exp/run-0", {"lr": 0.01}, group="g0",
                  scalars={"validation": {"epoch_accuracy": [0.5, 0.7]}})
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Mapping, Sequence

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

from ..errors import HParamsToolsError, OutputError
from .records import masked_crc32c  # the one CRC implementation (re-exported here for writers)

if TYPE_CHECKING:  # pragma: no cover
    from .experiment import HParamInfo, MetricInfo

__all__ = [
    "EventWriter",
    "write_experiment",
    "write_session",
    "frame_record",
    "masked_crc32c",
    "FILE_VERSION",
]

FILE_VERSION = "brain.Event:2"
_SCALARS_PLUGIN = "scalars"
_STATUSES = {
    "SUCCESS": api_pb2.STATUS_SUCCESS,
    "FAILURE": api_pb2.STATUS_FAILURE,
    "RUNNING": api_pb2.STATUS_RUNNING,
    "UNKNOWN": api_pb2.STATUS_UNKNOWN,
}
_DATA_TYPES = {
    None: api_pb2.DATA_TYPE_UNSET,
    "float": api_pb2.DATA_TYPE_FLOAT64,
    "string": api_pb2.DATA_TYPE_STRING,
    "bool": api_pb2.DATA_TYPE_BOOL,
}
# Several writers in one process and one second must still get distinct file names, and names
# that sort in creation order (readers, TensorBoard included, read a run's files in name order).
_FILE_COUNTER = itertools.count()


def frame_record(data: bytes) -> bytes:
    """Frame one payload as a TFRecord: length, masked CRC of length, data, masked CRC of data."""
    header = struct.pack("<Q", len(data))
    return b"".join(
        (header, struct.pack("<I", masked_crc32c(header)), data, struct.pack("<I", masked_crc32c(data)))
    )


def _hparams_value(tag: str, plugin_data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    # Same shape as summary_v2._summary_pb: metadata with the plugin data, a null tensor as value.
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=metadata.create_summary_metadata(plugin_data), tensor=metadata.NULL_TENSOR)
    return summary


def _set_value(target: Any, value: Any, what: str) -> None:
    """Store a Python/numpy scalar into a ``google.protobuf.Value``."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, (int, float)):
        target.number_value = float(value)
    elif isinstance(value, str):
        target.string_value = value
    else:
        raise HParamsToolsError(
            f"{what} = {value!r} has unsupported type {type(value).__name__}; use a number, string or bool"
        )


def _hparam_info_pb(info: Any) -> api_pb2.HParamInfo:
    if isinstance(info, str):
        return api_pb2.HParamInfo(name=info)
    type_name = getattr(info, "type", None)
    if type_name not in _DATA_TYPES:
        raise HParamsToolsError(f"hparam {info.name!r}: unknown type {type_name!r}; use float, string, bool or None")
    pb = api_pb2.HParamInfo(
        name=info.name,
        display_name=getattr(info, "display_name", "") or "",
        description=getattr(info, "description", "") or "",
        type=_DATA_TYPES[type_name],
    )
    domain = getattr(info, "domain", None)
    if domain is None:
        return pb
    if hasattr(domain, "values"):  # Discrete
        for value in domain.values:
            _set_value(pb.domain_discrete.values.add(), value, f"domain of {info.name!r}")
    else:  # Interval
        if domain.min_value is not None:
            pb.domain_interval.min_value = float(domain.min_value)
        if domain.max_value is not None:
            pb.domain_interval.max_value = float(domain.max_value)
        if not pb.HasField("domain_interval"):
            pb.domain_interval.SetInParent()
    return pb


def _metric_info_pb(info: Any) -> api_pb2.MetricInfo:
    if isinstance(info, str):
        return api_pb2.MetricInfo(name=api_pb2.MetricName(group="", tag=info))
    if isinstance(info, tuple):
        group, tag = info
        return api_pb2.MetricInfo(name=api_pb2.MetricName(group=group, tag=tag))
    return api_pb2.MetricInfo(
        name=api_pb2.MetricName(group=info.group, tag=info.tag),
        display_name=getattr(info, "display_name", "") or "",
        description=getattr(info, "description", "") or "",
    )


class EventWriter:
    """Append TensorBoard events to one new event file in ``run_dir``.

    The file is named like TensorFlow's (``events.out.tfevents.<secs>.<host>.<pid>.<n>.v2``, with
    ``n`` zero-padded so that files of one process sort in creation order)
    and starts with the ``file_version`` event. Use as a context manager, or call
    :meth:`close`.

    Args:
        run_dir: Directory of the run (created if missing).
        filename_suffix: Appended to the file name (after ``.v2``).

    Raises:
        OutputError: if the directory or file cannot be created.
    """

    def __init__(self, run_dir: str | os.PathLike[str], *, filename_suffix: str = "") -> None:
        self.run_dir = Path(run_dir)
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{next(_FILE_COUNTER):06d}.v2{filename_suffix}"
        )
        self.path = self.run_dir / name
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._fh: BinaryIO | None = open(self.path, "xb")
        except OSError as exc:
            raise OutputError(f"cannot create event file in {self.run_dir}: {exc.strerror or exc}") from exc
        self._seen_tags: set[str] = set()
        self._write_event(event_pb2.Event(wall_time=time.time(), file_version=FILE_VERSION))

    # -- low level -----------------------------------------------------------------------------
    def write_event(self, event: event_pb2.Event) -> None:
        """Append one ``Event`` proto as-is."""
        self._write_event(event)

    def _write_event(self, event: event_pb2.Event) -> None:
        if self._fh is None:
            raise OutputError(f"event file {self.path} is already closed")
        self._fh.write(frame_record(event.SerializeToString()))

    def _write_summary(self, summary: summary_pb2.Summary, step: int, wall_time: float | None) -> None:
        self._write_event(
            event_pb2.Event(wall_time=time.time() if wall_time is None else wall_time, step=step, summary=summary)
        )

    # -- scalars -------------------------------------------------------------------------------
    def add_scalar(
        self, tag: str, value: float, step: int, *, wall_time: float | None = None, kind: str = "tensor"
    ) -> None:
        """Write one scalar value.

        Args:
            tag: Scalar tag, e.g. ``"epoch_loss"``.
            value: The value (NaN and infinities are written as they are).
            step: Step (epoch) number.
            wall_time: Seconds since the epoch; now when ``None``.
            kind: ``"tensor"``: a rank-0 float32 tensor with the ``scalars`` plugin metadata on
                every value, byte-for-byte what TF 2's ``tf.summary.scalar`` (Keras 3's TensorBoard
                callback) writes; ``"tensor-first"``: the same with the metadata on the tag's first
                value in this file only (TensorBoard allows it and readers must remember it);
                ``"simple"``: ``simple_value``, as TF1, PyTorch and tensorboardX write.

        Raises:
            HParamsToolsError: for an unknown ``kind``.
        """
        summary = summary_pb2.Summary()
        if kind in ("tensor", "tensor-first"):
            # TF writes scalar summaries as tensor_content (AsProtoTensorContent), little-endian float32.
            tensor = tensor_pb2.TensorProto(
                dtype=types_pb2.DT_FLOAT,
                tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                tensor_content=struct.pack("<f", float(value)),
            )
            entry = summary.value.add(tag=tag, tensor=tensor)
            if kind == "tensor" or tag not in self._seen_tags:
                # Exactly what TF 2.21's tf.summary.scalar writes (plugin name only, no data_class).
                entry.metadata.plugin_data.plugin_name = _SCALARS_PLUGIN
        elif kind == "simple":
            summary.value.add(tag=tag, simple_value=float(value))
        else:
            raise HParamsToolsError(f"unknown scalar kind {kind!r}; use 'tensor', 'tensor-first' or 'simple'")
        self._seen_tags.add(tag)
        self._write_summary(summary, int(step), wall_time)

    # -- hparams -------------------------------------------------------------------------------
    def add_experiment(
        self,
        hparams: Sequence["HParamInfo | str"],
        metrics: Sequence["MetricInfo | str | tuple[str, str]"],
        *,
        description: str = "",
        time_created: float | None = None,
    ) -> None:
        """Write the experiment configuration (``hp.hparams_config``).

        Args:
            hparams: Declared hyperparameters (:class:`~hparams_tools.io.experiment.HParamInfo`
                or plain names).
            metrics: Declared metrics (:class:`~hparams_tools.io.experiment.MetricInfo`, a tag, or
                a ``(group, tag)`` pair).
            description: Experiment description (e.g. with an ``objective: <metric> <goal>`` line).
            time_created: Seconds since the epoch; now when ``None``.
        """
        experiment = api_pb2.Experiment(
            description=description,
            time_created_secs=time.time() if time_created is None else time_created,
            hparam_infos=[_hparam_info_pb(h) for h in hparams],
            metric_infos=[_metric_info_pb(m) for m in metrics],
        )
        summary = _hparams_value(metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment))
        self._write_summary(summary, 0, time_created)

    def add_session_start(
        self, hparams: Mapping[str, int | float | str | bool], *, group: str = "", start_time: float | None = None
    ) -> None:
        """Write a session start info (``hp.hparams``) holding the session's hparam values.

        Args:
            hparams: Name -> value (number, string or bool; numpy scalars accepted).
            group: Session group name (repeats and CV folds share one); ``""`` makes TensorBoard
                use the session name.
            start_time: Seconds since the epoch; now when ``None``.
        """
        start = time.time() if start_time is None else start_time
        info = plugin_data_pb2.SessionStartInfo(group_name=group, start_time_secs=start)
        for name in sorted(hparams):
            _set_value(info.hparams[name], hparams[name], f"hparams[{name!r}]")
        summary = _hparams_value(
            metadata.SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_start_info=info)
        )
        self._write_summary(summary, 0, start_time)

    def add_session_end(self, status: str = "SUCCESS", *, end_time: float | None = None) -> None:
        """Write a session end info with ``status`` (SUCCESS, FAILURE, RUNNING or UNKNOWN)."""
        if status not in _STATUSES:
            raise HParamsToolsError(f"unknown session status {status!r}; use one of {', '.join(_STATUSES)}")
        end = time.time() if end_time is None else end_time
        info = plugin_data_pb2.SessionEndInfo(status=_STATUSES[status], end_time_secs=end)
        summary = _hparams_value(
            metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=info)
        )
        self._write_summary(summary, 0, end_time)

    # -- lifecycle -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Flush buffered records to the file."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_experiment(
    logdir: str | os.PathLike[str],
    hparams: Sequence["HParamInfo | str"],
    metrics: Sequence["MetricInfo | str | tuple[str, str]"],
    *,
    description: str = "",
) -> Path:
    """Write an experiment configuration into a new event file in ``logdir``; return the file's path."""
    with EventWriter(logdir) as writer:
        writer.add_experiment(hparams, metrics, description=description)
    return writer.path


def write_session(
    run_dir: str | os.PathLike[str],
    hparams: Mapping[str, int | float | str | bool],
    *,
    group: str = "",
    status: str | None = "SUCCESS",
    start_time: float | None = None,
    end_time: float | None = None,
    scalars: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
    kind: str = "tensor",
) -> None:
    """Write one complete session the way Keras' TensorBoard callback + ``hp.KerasCallback`` lay it out.

    The session start (and end) infos go into ``run_dir``; each scalar group goes into
    ``run_dir/<group>/`` (``""`` = ``run_dir`` itself) with steps ``0..n-1``.

    Args:
        run_dir: The session's run directory.
        hparams: Name -> value.
        group: Session group name.
        status: Final status, or ``None`` to write no end info (TensorBoard then shows UNKNOWN).
        start_time: Start time (seconds since the epoch); now when ``None``.
        end_time: End time; now when ``None``.
        scalars: ``{"train": {"epoch_loss": [...]}, "validation": {...}, "": {...}}``.
        kind: Scalar encoding, ``"tensor"``, ``"tensor-first"`` or ``"simple"`` (see
            :meth:`EventWriter.add_scalar`).
    """
    run_dir = Path(run_dir)
    for scalar_group in scalars or {}:
        if Path(scalar_group).is_absolute() or ".." in Path(scalar_group).parts:
            raise OutputError(f"scalar group {scalar_group!r} must be a relative path inside the run")
    start = time.time() if start_time is None else start_time
    with EventWriter(run_dir) as writer:
        writer.add_session_start(hparams, group=group, start_time=start)
        for scalar_group, tags in (scalars or {}).items():
            if scalar_group:
                continue
            _write_scalars(writer, tags, start, kind)
        if status is not None:
            writer.add_session_end(status, end_time=end_time)
    for scalar_group, tags in (scalars or {}).items():
        if not scalar_group:
            continue
        with EventWriter(run_dir / scalar_group) as writer:
            _write_scalars(writer, tags, start, kind)


def _write_scalars(writer: EventWriter, tags: Mapping[str, Sequence[float]], start: float, kind: str) -> None:
    # Interleave by step, as Keras writes one epoch's tags together.
    n_steps = max((len(values) for values in tags.values()), default=0)
    for step in range(n_steps):
        for tag, values in tags.items():
            if step < len(values):
                writer.add_scalar(tag, float(values[step]), step, wall_time=start + step + 1, kind=kind)
