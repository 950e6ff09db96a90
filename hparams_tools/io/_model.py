"""Plain dataclasses describing an experiment's declared or inferred domains.

They live here (not in ``experiment.py``) so that ``events.py`` can build them
without importing the experiment layer; ``experiment.py`` re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Interval", "Discrete", "HParamInfo", "MetricInfo"]

_LOG_SCALE = re.compile(r"\blog[-_ ]?(scale|uniform)", re.I)


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
    def log_scale(self) -> bool:
        """Whether the description asks for a log scale (``log scale``/``log-uniform``...)."""
        return bool(_LOG_SCALE.search(self.description or ""))


@dataclass(frozen=True)
class MetricInfo:
    """One metric: a scalar tag in a run at or below the session directory.

    Attributes:
        group: Run path relative to the session directory (``""`` for the session itself).
        tag: The scalar tag.
        display_name: Display name, ``""`` when none.
        description: Description, ``""`` when none.
    """

    group: str
    tag: str
    display_name: str = ""
    description: str = ""

    @property
    def name(self) -> str:
        """The metric's column name: ``"<group>/<tag>"``, or ``"<tag>"`` when the group is empty."""
        return f"{self.group}/{self.tag}" if self.group else self.tag
