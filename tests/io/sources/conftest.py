"""Fixtures of the sources tests: real sources made once per session by the real tools."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import sources_helpers as h

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def reference():
    """tests/io/tensorboard_reference.py (TensorBoard's HParams backend's view vs the reader's)."""
    if "tensorboard_reference" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tensorboard_reference", ROOT / "tests/io/tensorboard_reference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["tensorboard_reference"] = module
        spec.loader.exec_module(module)
    return sys.modules["tensorboard_reference"]


@pytest.fixture(scope="session")
def optuna_sqlite(tmp_path_factory):
    """``(url, optuna.Study)``: the study in a SQLite storage, plus a second study in the same file."""
    pytest.importorskip("optuna")
    path = tmp_path_factory.mktemp("optuna") / "study.db"
    url = f"sqlite:///{path}"
    study = h.make_study(url)
    h.make_study(url, name="other", n_trials=3, seed=1)
    return url, study


@pytest.fixture(scope="session")
def optuna_journal(tmp_path_factory):
    """``(path, optuna.Study)``: the same study in a journal file (one study)."""
    pytest.importorskip("optuna")
    path = tmp_path_factory.mktemp("optuna-journal") / "journal.log"
    study = h.make_study(h.journal_storage(path))
    return path, study


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    pytest.importorskip("mlflow")
    return h.make_mlflow_store(tmp_path_factory.mktemp("mlflow"))
