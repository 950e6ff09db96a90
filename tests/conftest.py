"""Synthetic sweeps shared by several test folders (analysis, report, commands), from hparams_tools.testing.

Session-scoped: each is written once per test run, as real event files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hparams_tools.testing import XSS_IMG, XSS_SCRIPT, write_ground_truth_sweep, write_sweep


@pytest.fixture(scope="session")
def gt_logdir(tmp_path_factory):
    """400 sessions of the ground-truth sweep (see hparams_tools.testing)."""
    seed = int(os.environ.get("HPT_ANALYSIS_DATA_SEED", "0"))  # to check robustness by hand
    return write_ground_truth_sweep(tmp_path_factory.mktemp("gt") / "sweep", n=400, seed=seed)


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    """36 sessions: 12 configurations x 3 repeats (groups), every 9th failed."""
    return write_sweep(tmp_path_factory.mktemp("sweeps") / "random", 36, repeats=3, failed_every=9, seed=0)


@pytest.fixture(scope="session")
def other_sweep_dir(tmp_path_factory) -> Path:
    """A second, smaller sweep (no repeats) to compare side by side."""
    return write_sweep(tmp_path_factory.mktemp("sweeps") / "second", 20, seed=1, start=1_700_100_000.0)


@pytest.fixture(scope="session")
def xss_dir(tmp_path_factory) -> Path:
    """Markup in hyperparameter names, values and a run path."""
    root = tmp_path_factory.mktemp("xss") / "xss"
    write_sweep(root, 12, seed=2, names={"optimizer": XSS_SCRIPT, "dropout": XSS_IMG},
                optimizers=(XSS_SCRIPT, XSS_IMG, "adam"))
    # a run path that is itself markup: "<script>alert(1)<" / "script>"
    from hparams_tools.io.writer import write_session

    write_session(root / "<script>alert(1)<" / "script>", {"learning_rate": 0.001, XSS_IMG: 0.1, "epochs": 2,
                                                         XSS_SCRIPT: XSS_IMG},
                  start_time=1_700_000_000.0 + 10_000, end_time=1_700_000_000.0 + 10_010,
                  scalars={"validation": {"epoch_accuracy": [0.5, 0.6], "epoch_loss": [1.0, 0.9]}})
    return root
