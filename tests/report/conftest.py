"""Fixtures of the report tests: headless Chromium (the synthetic sweeps are in tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.cdp import Browser, find_chromium  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


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
