"""hparams-tools: read, analyse and report TensorBoard HParams sweeps without TensorFlow.

Public API::

    import hparams_tools
    exp = hparams_tools.read_experiment("logs/flowers/default")
    exp.table(value="last")          # one row per session: group, status, hparams, metrics

Everything the library raises deliberately is a :class:`HParamsToolsError`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    DamagedFileWarning,
    EventFileError,
    HParamsToolsError,
    InsufficientDataError,
    LogdirError,
    MissingDependencyError,
    NoHParamsDataError,
    OutputError,
    SpaceFileError,
    UnknownMetricError,
)
from .io.experiment import Experiment, read_experiment

__all__ = [
    "__version__",
    "read_experiment",
    "Experiment",
    "HParamsToolsError",
    "LogdirError",
    "EventFileError",
    "NoHParamsDataError",
    "UnknownMetricError",
    "InsufficientDataError",
    "SpaceFileError",
    "OutputError",
    "MissingDependencyError",
    "DamagedFileWarning",
]
