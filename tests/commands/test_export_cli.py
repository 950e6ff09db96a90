"""The real console entry (``python -m hparams_tools export``) in a subprocess: outputs, exit codes, messages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from cli_helpers import assert_one_line_error, run_cli
from hparams_tools.io.writer import write_session


def cli(*args, cwd=None):
    return run_cli("export", *args, cwd=cwd)


def assert_clean_error(result, *needles):
    assert_one_line_error(result, "export", *needles)
    assert result.stdout == ""


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    write_session(root / "run-0", {"lr": 0.1, "opt": "adam"}, group="g", start_time=10.0, end_time=20.0,
                  scalars={"validation": {"epoch_accuracy": [0.25, 0.75]}})
    write_session(root / "run-1", {"lr": 0.01, "opt": "sgd"}, group="g", status="FAILURE", start_time=11.0,
                  end_time=21.0, scalars={"validation": {"epoch_accuracy": [0.5, float("nan")]}})
    return root


def test_json_to_stdout(logdir):
    result = cli(logdir, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert [d["session"] for d in data] == ["run-0", "run-1"]
    assert data[0] == {"session": "run-0", "group": "g", "status": "SUCCESS", "start_time": 10.0, "end_time": 20.0,
                       "hparams": {"lr": 0.1, "opt": "adam"}, "metrics": {"validation/epoch_accuracy": 0.75}}
    assert data[1]["metrics"] == {"validation/epoch_accuracy": None} and data[1]["status"] == "FAILURE"


def test_json_value_mode_to_file(logdir, tmp_path):
    out = tmp_path / "r.json"
    result = cli(logdir, "-o", out, "--value", "max", "--quiet")
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""
    data = json.loads(out.read_text())
    assert [d["metrics"]["validation/epoch_accuracy"] for d in data] == [0.75, 0.5]


def test_csv_default_on_stdout(logdir):
    result = cli(logdir, "--value", "mean-last-2")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:5] == ["session", "group", "status", "start_time", "end_time"]
    assert [r["session"] for r in rows] == ["run-0", "run-1"]
    assert float(rows[0]["validation/epoch_accuracy"]) == 0.5
    assert rows[1]["opt"] == "sgd"


def test_parquet_file(logdir, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "r.parquet"
    result = cli(logdir, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "wrote 2 sessions" in result.stderr
    table = pd.read_parquet(out)
    assert list(table["session"]) == ["run-0", "run-1"]
    assert table.loc[0, "validation/epoch_accuracy"] == 0.75


def test_parquet_to_stdout_refused(logdir):
    assert_clean_error(cli(logdir, "--format", "parquet"), "-o")


def test_nonexistent_path(tmp_path):
    assert_clean_error(cli(tmp_path / "missing"), "missing")


def test_logdir_is_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert_clean_error(cli(tmp_path / "notes.txt"), "notes.txt")


def test_empty_directory(tmp_path):
    assert_clean_error(cli(tmp_path))


def test_scalars_but_no_hparams(tmp_path):
    from hparams_tools.io.writer import EventWriter

    with EventWriter(tmp_path / "run") as w:
        w.add_scalar("loss", 1.0, 0)
    assert_clean_error(cli(tmp_path))


def test_unwritable_output(logdir, tmp_path):
    assert_clean_error(cli(logdir, "-o", tmp_path / "no" / "such" / "dir.csv"), "does not exist")


def test_output_is_a_directory(logdir, tmp_path):
    assert_clean_error(cli(logdir, "-o", tmp_path, "--format", "csv"), "directory")


def test_bad_value_mode(logdir):
    assert_clean_error(cli(logdir, "--value", "best"), "best")


def test_unknown_format(logdir):
    assert_clean_error(cli(logdir, "--format", "xml"), "xml")
    assert_clean_error(cli(logdir, "-o", "results.txt"), "results.txt")


def test_existing_output_not_clobbered_on_error(logdir, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("keep me")
    assert_clean_error(cli(logdir, "-o", out, "--value", "mean-last-0"))
    assert out.read_text() == "keep me"


def test_damage_is_one_warning_line_each_and_exit_0(logdir, tmp_path):
    import shutil

    logs = tmp_path / "logs"
    shutil.copytree(logdir, logs)
    (logs / "run-0" / "events.out.tfevents.9.garbage").write_bytes(b"\x07" * 300)
    (logs / "run-1" / "events.out.tfevents.9.junk").write_bytes(b"not an event file at all" * 10)
    result = cli(logs, "--format", "json")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("hparams-tools export: warning: ") for line in lines)
    assert any("events.out.tfevents.9.garbage" in line and "byte 0" in line for line in lines)
    assert len(json.loads(result.stdout)) == 2


def test_only_damaged_files_exit_2(tmp_path):
    (tmp_path / "events.out.tfevents.1.bad").write_bytes(b"\x01" * 64)
    result = cli(tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("hparams-tools export: error: ")


def test_help_explains():
    result = subprocess.run([sys.executable, "-m", "hparams_tools", "export", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0
    for word in ("--format", "--value", "mean-last-K", "parquet", "stdout", "--quiet"):
        assert word in result.stdout
