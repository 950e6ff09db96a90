"""Shared synthetic sweeps (written with the project's writer, read with the reader) and their analyses."""

from __future__ import annotations

import os

import pytest

from analysis_synthetic import write_ground_truth_sweep
from hparams_tools import read_experiment
from hparams_tools.analysis import analyze


@pytest.fixture(scope="session")
def gt_logdir(tmp_path_factory):
    """400 sessions of the ground-truth sweep (see analysis_synthetic)."""
    seed = int(os.environ.get("HPT_ANALYSIS_DATA_SEED", "0"))  # to check robustness by hand
    return write_ground_truth_sweep(tmp_path_factory.mktemp("gt") / "sweep", n=400, seed=seed)


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
