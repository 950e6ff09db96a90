"""Plain dataclasses describing an experiment's declared or inferred domains.

They live here (not in ``experiment.py``) so that ``events.py`` can build them
without importing the experiment layer; ``experiment.py`` re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

__all__ = ["Interval", "Discrete", "HParamInfo", "MetricInfo", "name_metrics"]

# What a writer says about how a parameter was sampled, in its description or display name: our sweep's
# "(sampled on a log scale)", keras-tuner's sampling="log", Optuna's log-uniform... The one place that reads it.
_LOG_WORDS = re.compile(r"\blog[-_ ]?(scale|scaled|uniform|sampl)|\bsampl\w*\s*[=:]\s*[\"']?log\b|\(log\)", re.I)
_LINEAR_WORDS = re.compile(r"\blinear[-_ ]?(scale|sampl)|\bsampl\w*\s*[=:]\s*[\"']?linear\b|\bsampled uniformly\b",
                           re.I)


@dataclass(frozen=True)
class Interval:
    """A numeric domain ``[min_value, max_value]`` (either end may be unknown)."""

    min_value: float | None
    max_value: float | None


@dataclass(frozen=True)
class Discrete:
    """A finite set of values."""

    values: tuple[int | float | str | bool, ...]


@dataclass(frozen=True)
class HParamInfo:
    """One hyperparameter of the experiment (TensorBoard's ``HParamInfo``).

    Attributes:
        name: The hparam's name as logged.
        type: ``"float"``, ``"string"``, ``"bool"`` or ``None`` (TensorBoard's DataType).
        display_name: Display name, ``""`` when none.
        description: Description, ``""`` when none.
        domain: :class:`Interval`, :class:`Discrete` or ``None``.
    """

    name: str
    type: str | None
    display_name: str
    description: str
    domain: Interval | Discrete | None

    @property
    def declared_scale(self) -> str | None:
        """``"log"``, ``"linear"`` or ``None``: how the description or display name says it was sampled."""
        text = f"{self.description or ''} {self.display_name or ''}"
        if _LOG_WORDS.search(text):
            return "log"
        if _LINEAR_WORDS.search(text):
            return "linear"
        return None

    @property
    def log_scale(self) -> bool:
        """Whether the description or display name declares a log scale (see :attr:`declared_scale`)."""
        return self.declared_scale == "log"


@dataclass(frozen=True)
class MetricInfo:
    """One metric: a scalar tag in a run at or below the session directory.

    A metric *is* its ``(group, tag)`` (TensorBoard's ``MetricName``); :attr:`name` is the
    column name tables use for it (see :func:`name_metrics`).

    Attributes:
        group: Run path relative to the session directory (``""`` for the session itself).
        tag: The scalar tag.
        display_name: Display name, ``""`` when none.
        description: Description, ``""`` when none.
        column: The column name chosen by :func:`name_metrics` when the default one collides
            (``""``: the default). Not part of the metric's identity (equality, hash).
    """

    group: str
    tag: str
    display_name: str = ""
    description: str = ""
    column: str = field(default="", compare=False)

    @property
    def default_name(self) -> str:
        """TensorBoard's flattened name: ``"<group>/<tag>"``, or ``"<tag>"`` when the group is empty."""
        return f"{self.group}/{self.tag}" if self.group else self.tag

    @property
    def name(self) -> str:
        """The metric's column name: :attr:`default_name` unless it collides (:func:`name_metrics`)."""
        return self.column or self.default_name


def name_metrics(infos: list[MetricInfo]) -> list[MetricInfo]:
    """Give every metric a unique column name; the one rule for metric names.

    * A metric whose ``"<group>/<tag>"`` name is unique keeps it (TensorBoard's flattening).
    * Metrics whose names collide -- tag ``validation/epoch_loss`` logged in the session's own
      run and tag ``epoch_loss`` in its ``validation/`` run, as Keras plus a custom callback
      writes -- are all named ``"<tag> [<group>]"``, with ``.`` for the session's own run:
      ``"validation/epoch_loss [.]"`` and ``"epoch_loss [validation]"``. None of them keeps the
      plain name, so nothing silently means one of them.
    * Should such a name still be taken, `` #2``, `` #3``... is appended.
    * A metric listed twice (same group and tag) is kept once.

    Args:
        infos: Metrics in order.

    Returns:
        The metrics in the same order (duplicates dropped), colliding ones with :attr:`MetricInfo.column` set.
    """
    seen: set[tuple[str, str]] = set()
    unique: list[MetricInfo] = []
    for m in infos:
        if (m.group, m.tag) not in seen:
            seen.add((m.group, m.tag))
            unique.append(m)
    counts: dict[str, int] = {}
    for m in unique:
        counts[m.default_name] = counts.get(m.default_name, 0) + 1
    if all(c == 1 for c in counts.values()):
        return unique
    taken = {name for name, c in counts.items() if c == 1}
    out = []
    for m in unique:
        if counts[m.default_name] == 1:
            out.append(m)
            continue
        name = base = f"{m.tag} [{m.group or '.'}]"
        k = 1
        while name in taken:
            k += 1
            name = f"{base} #{k}"
        taken.add(name)
        out.append(replace(m, column=name))
    return out
