"""Errors of the training sweep, all in the :class:`hparams_tools.errors.HParamsToolsError` family."""

from __future__ import annotations

from hparams_tools.errors import HParamsToolsError, OutputError, SpaceFileError

__all__ = ["TrainingError", "DataError", "StrategyError", "SpaceFileError", "OutputError"]


class TrainingError(HParamsToolsError):
    """Base class of the sweep's deliberate errors."""


class DataError(TrainingError):
    """The training data is missing, empty, has a single class or cannot be read."""


class StrategyError(TrainingError):
    """An unknown search strategy or an option the strategy cannot honour."""
