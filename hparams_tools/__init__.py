"""hparams-tools: read, analyse and report TensorBoard HParams sweeps without TensorFlow.

Public API::

    import hparams_tools
    exp = hparams_tools.read_experiment("logs/flowers/default")
    exp.table(value="last")          # one row per session: group, status, hparams, metrics

Everything the library raises deliberately is a :class:`HParamsToolsError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from .errors import (
    DamagedFileWarning,
    ExperimentConflictWarning,
    EventFileError,
    HParamsToolsError,
    InsufficientDataError,
    LogdirError,
    MissingDependencyError,
    NoHParamsDataError,
    OutputError,
    SourceError,
    SpaceFileError,
    UnknownMetricError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .io.experiment import Experiment
    from .io.read import read_experiment

# The reader pulls in pandas and the protobufs; import it on first use so that
# `import hparams_tools.space` (used by the sweep's argument parsing) stays light.
_LAZY = {"Experiment": "io.experiment", "read_experiment": "io.read"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "__version__",
    "read_experiment",
    "Experiment",
    "HParamsToolsError",
    "LogdirError",
    "EventFileError",
    "NoHParamsDataError",
    "SourceError",
    "UnknownMetricError",
    "InsufficientDataError",
    "SpaceFileError",
    "OutputError",
    "MissingDependencyError",
    "DamagedFileWarning",
    "ExperimentConflictWarning",
]
