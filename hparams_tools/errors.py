"""The one exception family users of :mod:`hparams_tools` catch.

Every error the library raises on purpose is an :class:`HParamsToolsError`.
The CLI turns it into one line on stderr and exit status 2; nothing else is
caught there, so a traceback always means a bug in hparams-tools.

Recoverable damage (a truncated or corrupt record inside an otherwise good
event file) is not an exception: it is reported with a
:class:`DamagedFileWarning` and every intact record is kept.
"""

from __future__ import annotations

__all__ = [
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


class HParamsToolsError(Exception):
    """Base class of every error hparams-tools raises deliberately."""


class LogdirError(HParamsToolsError):
    """The logdir does not exist, is not a directory, or holds no event files."""


class SourceError(LogdirError):
    """A keras-tuner directory, Optuna storage, MLflow store or table of runs cannot be used."""


class EventFileError(HParamsToolsError):
    """An event file cannot be used at all (not an event file, unreadable)."""


class NoHParamsDataError(LogdirError):
    """The logdir has event files but no HParams session data."""


class UnknownMetricError(HParamsToolsError):
    """A metric or hyperparameter name that the experiment does not have."""


class InsufficientDataError(HParamsToolsError):
    """Too few usable sessions or varying hyperparameters for an analysis."""


class SpaceFileError(HParamsToolsError):
    """A search-space file is missing, malformed or inconsistent."""


class OutputError(HParamsToolsError):
    """An output file or directory cannot be written."""


class MissingDependencyError(HParamsToolsError, ImportError):
    """An optional dependency is not installed; the message names the extra."""


class DamagedFileWarning(UserWarning):
    """A record in an event file was truncated or failed its CRC check and was skipped."""


class ExperimentConflictWarning(UserWarning):
    """Runs of one logdir declare different experiments; the message says which one was used."""


def require(module: str, extra: str = "analysis"):
    """Import an optional dependency or raise :class:`MissingDependencyError`.

    Args:
        module: Dotted module name, e.g. ``"statsmodels.api"``.
        extra: The pip extra that installs it.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: if the module cannot be imported.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        top = module.split(".")[0]
        raise MissingDependencyError(
            f"{top} is required for this feature: pip install 'hparams-tools[{extra}]'"
        ) from exc
