"""Helpers for the sweep tests: tiny sweeps (in-process or as a subprocess) and TensorBoard's view of a logdir."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _reference():
    """tests/io/tensorboard_reference.py: TensorBoard's HParams backend view vs the reader's."""
    if "tensorboard_reference" in sys.modules:
        return sys.modules["tensorboard_reference"]
    spec = importlib.util.spec_from_file_location("tensorboard_reference", ROOT / "tests/io/tensorboard_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["tensorboard_reference"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reference():
    return _reference()


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture
def tiny(data_cache):
    """Arguments for a tiny, fast sweep (8 images per class, 16 px) into ``logdir``."""

    def args(logdir, *extra) -> list[str]:
        return ["--logdir", str(logdir), "--samples-per-class", "8", "--image-size", "16", "--cache-dir",
                str(data_cache), "--no-report", "--quiet", *map(str, extra)]

    return args


