"""Fixtures of the report tests: synthetic sweeps written as real event files, and headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.cdp import Browser, find_chromium  # noqa: E402
from tools.synthetic import XSS_IMG, XSS_SCRIPT, write_sweep  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


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


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven over the DevTools protocol (skipped when chromium is absent)."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    pytest.importorskip("websocket", reason="websocket-client is needed to drive chromium (the dev extra)")
    with Browser(width=1400, height=1000) as b:
        yield b


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ (gitignored): screenshots kept from the browser tests."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
