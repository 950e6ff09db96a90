"""Write any :class:`~hparams_tools.io.experiment.Experiment` as a TensorBoard HParams logdir.

Everything goes through :mod:`hparams_tools.io.writer`: the experiment config (hparam infos with
domains, display names and descriptions; metric infos; the description with its objective line)
at the root, then one run directory per session with its start info (hparams, group, start
time), end info (status, end time) and every value of every metric, each metric group in its own
sub-run (``<session>/<group>``), with its steps and wall times.

The logdir appears whole or not at all: it is written into a temporary directory beside the
target and renamed at the end; an existing non-empty target is replaced only with
``overwrite=True`` (and only after the new one is complete).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ...errors import OutputError
from ..writer import EventWriter, write_experiment

__all__ = ["write_logdir"]


def _time(value: float) -> float:
    # proto3 has no "unset" for a double: 0 is what TensorBoard (and our reader) treat as unknown
    return float(value) if math.isfinite(value) else 0.0


def _blocks(scalars) -> dict[tuple[str, str], tuple[list, list, list, list]]:
    """``(session, metric group) -> (tags, steps, walls, values)``; the long table is sorted by session and
    group, so each block is one slice (found with numpy: no per-row pandas work)."""
    if not len(scalars):
        return {}
    sessions = scalars["session"].astype(str).to_numpy()
    groups = scalars["group"].astype(str).to_numpy()
    tags = scalars["tag"].astype(str).to_numpy()
    columns = [scalars[c].to_numpy() for c in ("step", "wall_time", "value")]
    cuts = np.flatnonzero((sessions[1:] != sessions[:-1]) | (groups[1:] != groups[:-1])) + 1
    bounds = np.concatenate([[0], cuts, [len(sessions)]])
    return {(sessions[a], groups[a]): (tags[a:b].tolist(), *(c[a:b].tolist() for c in columns))
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())}


def _write(experiment, root: Path) -> None:
    infos = list(experiment.hparam_infos.values())
    write_experiment(root, infos, experiment.metric_infos, description=experiment.description)
    sessions = experiment.sessions
    hparams = experiment.hparams
    blocks = _blocks(experiment.scalars)
    groups_of: dict[str, list[str]] = {}
    for session, group in blocks:
        groups_of.setdefault(session, []).append(group)
    columns = list(hparams.columns)
    rows = zip(sessions.index, sessions["group"], sessions["status"], sessions["start_time"], sessions["end_time"],
               hparams.itertuples(index=False, name=None))
    for name, group, status, start, end, values in rows:
        present = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in zip(columns, values)
                   if v is not None and not (isinstance(v, float) and math.isnan(v))}
        run_dir = root / name
        with EventWriter(run_dir) as writer:
            writer.add_session_start(present, group=group if group != name else "", start_time=_time(start))
            if (name, "") in blocks:
                _scalars(writer, blocks[(name, "")])
            writer.add_session_end(status, end_time=_time(end))
        for metric_group in groups_of.get(name, []):
            if metric_group:
                with EventWriter(run_dir / metric_group) as writer:
                    _scalars(writer, blocks[(name, metric_group)])


def _scalars(writer: EventWriter, block: tuple[list, list, list, list]) -> None:
    for tag, step, wall, value in zip(*block):
        writer.add_scalar(tag, float(value), int(step), wall_time=_time(float(wall)))


def write_logdir(experiment, logdir: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``experiment`` as a TensorBoard HParams logdir at ``logdir``.

    Args:
        experiment: Any :class:`~hparams_tools.io.experiment.Experiment` (imported or read).
        logdir: The directory to create.
        overwrite: Replace an existing non-empty ``logdir``.

    Returns:
        The logdir's path.

    Raises:
        OutputError: ``logdir`` is a file, is not empty (without ``overwrite``), or cannot be written.
    """
    target = Path(logdir)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file; give a directory to write the logdir into")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise OutputError(f"{target} is not empty; pass --overwrite to replace it, or choose another -o")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {target}: directory {parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.import-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write in {parent}: {exc.strerror or exc}") from exc
    try:
        _write(experiment, tmp)
        if target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.replace(target, old / target.name)  # keep it until the new one is in place
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(old / target.name, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
