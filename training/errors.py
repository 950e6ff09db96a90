"""Errors of the training sweep, all in the :class:`hparams_tools.errors.HParamsToolsError` family."""

from __future__ import annotations

from hparams_tools.errors import HParamsToolsError, OutputError, SpaceFileError

__all__ = ["TrainingError", "DataError", "StrategyError", "ConfigError", "BackendError", "ChiefGoneError",
           "SpaceFileError", "OutputError"]


class TrainingError(HParamsToolsError):
    """Base class of the sweep's deliberate errors."""


class DataError(TrainingError):
    """The training data is missing, empty, has a single class or cannot be read."""


class StrategyError(TrainingError):
    """An unknown search strategy or a search setting it cannot honour (trials, grid points, Hyperband)."""


class ConfigError(TrainingError):
    """A training or validation option, or the distributed environment, has a value the sweep cannot use."""


class BackendError(ConfigError):
    """The Keras backend is unknown, not installed, or another one is already loaded in this process."""


class ChiefGoneError(TrainingError):
    """A worker's chief stopped answering for good (the sweep ended while it was away, or the chief died).

    Not bad input: ``python -m training.sweep`` exits with status 1 for it, not 2.
    """
