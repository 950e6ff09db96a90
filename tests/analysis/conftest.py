"""Analyses of the shared synthetic sweeps (the sweeps themselves are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from hparams_tools import read_experiment
from hparams_tools.analysis import analyze
from hparams_tools.testing import write_ground_truth_sweep


@pytest.fixture(scope="session")
def gt_result(gt_logdir):
    """The analysis of :func:`gt_logdir` with seed 0."""
    return analyze(read_experiment(gt_logdir), seed=0)


@pytest.fixture(scope="session")
def edge_result(tmp_path_factory):
    """A sweep whose learning-rate range (1e-6..1e-4) stops below the optimum (1e-3)."""
    logdir = write_ground_truth_sweep(tmp_path_factory.mktemp("edge") / "sweep", n=200, seed=1,
                                      lr_range=(1e-6, 1e-4))
    return analyze(read_experiment(logdir), seed=0)
