"""Safe output writing."""

from __future__ import annotations

import pytest

from hparams_tools._files import atomic_write, safe_join
from hparams_tools.errors import OutputError


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target, "wb") as fh:
        fh.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_atomic_write_missing_dir_is_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_write(tmp_path / "no" / "out.csv"):
            pass


def test_safe_join_refuses_escape(tmp_path):
    assert safe_join(tmp_path, "a", "b.png") == (tmp_path / "a" / "b.png").resolve()
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(OutputError, match="refusing to write outside"):
            safe_join(tmp_path, bad)
