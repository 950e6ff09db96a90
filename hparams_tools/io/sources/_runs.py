"""What every source reader produces: a plain list of runs, before it becomes the one model.

Each source module (keras-tuner, Optuna, MLflow, tables) turns its files into a :class:`Sweep`:
declared hyperparameter and metric infos, one :class:`Run` per trial/run, and a note for every
thing the source lacks or that had to be interpreted. :mod:`._build` turns a sweep into the same
model the event-file reader builds, so nothing downstream knows where a sweep came from.

The helpers here are the rules shared by the sources (one rule per concept): safe session
names, metric names from keys, numbers from strings, size limits on untrusted files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import SourceError
from .._model import Discrete, HParamInfo, Interval, MetricInfo

__all__ = ["Run", "Sweep", "SourceError", "the_only", "metric_key", "safe_name", "unique_names", "numbers_from_strings",
           "check_size", "read_text", "domain_of", "STATUSES", "MAX_JSON_BYTES", "MAX_TABLE_BYTES", "MAX_LINE_BYTES"]

STATUSES = ("SUCCESS", "FAILURE", "RUNNING", "UNKNOWN")

# Untrusted files are read whole only below these sizes, so a hostile or mistaken file cannot
# exhaust memory; the numbers are far above what a real sweep writes.
MAX_JSON_BYTES = 64 * 2**20
MAX_TABLE_BYTES = 1024 * 2**20
MAX_LINE_BYTES = 16 * 2**20

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass
class Run:
    """One trial or run of a sweep, as the source recorded it.

    Attributes:
        name: Session name (a safe single path component, see :func:`safe_name`).
        group: Group name (``""``: the session's own name).
        status: ``SUCCESS``, ``FAILURE``, ``RUNNING`` or ``UNKNOWN``.
        start_time: Seconds since the epoch, NaN when the source has none.
        end_time: Seconds since the epoch, NaN when the source has none.
        hparams: Name -> number, string or bool (absent when the run did not set it).
        metrics: ``(group, tag)`` -> list of ``(step, wall_time, value)`` in step order.
    """

    name: str
    group: str = ""
    status: str = "UNKNOWN"
    start_time: float = math.nan
    end_time: float = math.nan
    hparams: dict[str, float | str | bool] = field(default_factory=dict)
    metrics: dict[tuple[str, str], list[tuple[int, float, float]]] = field(default_factory=dict)


@dataclass
class Sweep:
    """A whole source read into plain data.

    Attributes:
        kind: ``keras-tuner``, ``optuna``, ``mlflow`` or ``table``.
        source: What was read (path or URL), for messages.
        description: Experiment description (may hold an ``objective: <metric> <goal>`` line).
        hparam_infos: Declared hyperparameters (domains where the source knows them).
        metric_infos: Declared metrics.
        runs: One per trial/run.
        notes: One sentence per thing the source lacks or that was interpreted.
        choices: Which parts of the source were used for what (printed by the CLI).
    """

    kind: str
    source: str
    description: str = ""
    hparam_infos: list[HParamInfo] = field(default_factory=list)
    metric_infos: list[MetricInfo] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)


def the_only(items: list, names: list[str], *, where: object, what: str, none: str) -> Any:
    """The one study/project/experiment a source holds; the one rule for none and several (``--study``).

    Raises:
        SourceError: ``none`` when ``items`` is empty; when it holds several, a line naming them.
    """
    if not items:
        raise SourceError(none)
    if len(items) > 1:
        raise SourceError(f"{where} holds {len(items)} {what} ({', '.join(names)}); pick one with --study NAME")
    return items[0]


def metric_key(key: str) -> tuple[str, str]:
    """``(group, tag)`` of a metric key: ``"validation/epoch_loss"`` -> ``("validation", "epoch_loss")``.

    The split at the last ``/`` is TensorBoard's own naming (``MetricInfo.name`` is ``group/tag``),
    so a key that came from TensorBoard names round-trips; a key without ``/`` has group ``""``.
    Each group segment is made a safe directory name.
    """
    group, _, tag = key.rpartition("/")
    parts = [safe_name(p) for p in group.split("/") if p] if group else []
    return "/".join(parts), tag


def safe_name(name: object) -> str:
    """A single, harmless path component for a session or metric-group directory."""
    text = _UNSAFE.sub("_", str(name)).strip("._") or "_"
    return text[:120]


def unique_names(names: list[str]) -> list[str]:
    """Make :func:`safe_name` s unique by appending ``-2``, ``-3``... to repeats (order kept)."""
    seen: dict[str, int] = {}
    out = []
    taken = set()
    for raw in names:
        name = safe_name(raw)
        candidate = name
        while candidate in taken:
            seen[name] = seen.get(name, 1) + 1
            candidate = f"{name}-{seen[name]}"
        taken.add(candidate)
        out.append(candidate)
    return out


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value


def numbers_from_strings(name: str, values: list[str | None], what: str, notes: list[str]) -> list:
    """Numbers when every present value of a string column parses as one, else the strings.

    ``"true"``/``"false"`` (any case) everywhere become bools. A column that mixes numbers and
    text stays text, with a note (never a silent guess either way).

    Args:
        name: Column/parameter name, for the note.
        values: The values (``None`` or ``""``: absent).
        what: What the values are (``"MLflow param"``...), for the note.
        notes: Where a note is appended.

    Returns:
        The converted values (``None`` where absent).
    """
    present = [v for v in values if v not in (None, "")]
    if not present:
        return [None] * len(values)
    if all(v.strip().lower() in ("true", "false") for v in present):
        return [None if v in (None, "") else v.strip().lower() == "true" for v in values]
    numbers = [_number(v) for v in present]
    if all(n is not None for n in numbers):
        return [None if v in (None, "") else float(v) for v in values]
    n_numeric = sum(n is not None for n in numbers)
    if n_numeric:
        notes.append(
            f"{what} {name!r}: {n_numeric} of {len(present)} values look like numbers but others are text "
            f"(e.g. {next(v for v, n in zip(present, numbers) if n is None)!r}); all kept as strings"
        )
    return [None if v in (None, "") else v for v in values]


def check_size(path: Path, limit: int, what: str) -> int:
    """Refuse a file bigger than ``limit`` bytes (untrusted input must not exhaust memory)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size > limit:
        raise SourceError(
            f"{path} is {size / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB allowed for {what}; "
            "is it the right file?"
        )
    return size


def read_text(path: Path, limit: int, what: str) -> str:
    """Read a UTF-8 text file of bounded size (one-line :class:`SourceError` otherwise)."""
    check_size(path, limit, what)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def domain_of(values: list) -> tuple[str | None, Interval | Discrete | None]:
    """TensorBoard type and a discrete domain for a known finite set of choices."""
    kinds = {"bool" if isinstance(v, bool) else "float" if isinstance(v, (int, float)) else "string"
             for v in values}
    if len(kinds) != 1:
        return "string", Discrete(tuple(sorted({str(v) for v in values})))
    kind = kinds.pop()
    if kind == "float":
        return kind, Discrete(tuple(sorted({float(v) for v in values})))
    return kind, Discrete(tuple(sorted(set(values))))
