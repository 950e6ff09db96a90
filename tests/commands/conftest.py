"""Fixtures of the CLI tests: small logdirs written with the project's writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from hparams_tools.io.writer import write_session


@pytest.fixture(scope="session")
def small_logdir(tmp_path_factory) -> Path:
    """Twelve finished sessions with two hyperparameters and a validation accuracy: enough for every plot."""
    root = tmp_path_factory.mktemp("small") / "logs"
    for i in range(12):
        write_session(root / f"run-{i}", {"lr": 10.0 ** -(1 + i % 4), "units": 8 * (1 + i % 3)},
                      start_time=100.0 + i, end_time=110.0 + i,
                      scalars={"validation": {"epoch_accuracy": [0.1, 0.2 + 0.05 * (i % 5) + 0.01 * i]}})
    return root
