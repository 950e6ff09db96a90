"""``hparams-tools import`` and the source options of the other commands, end to end through ``main``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "io" / "sources"))
import sources_helpers as h  # noqa: E402

from hparams_tools import read_experiment  # noqa: E402
from hparams_tools.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    pytest.importorskip("optuna")
    path = tmp_path_factory.mktemp("cli-optuna") / "journal.log"
    h.make_study(h.journal_storage(path), n_trials=12)
    return path


def _one_line_error(capsys, needle: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if ": warning: " not in line]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err, err
    assert lines[0].startswith("hparams-tools ") and ": error: " in lines[0]
    return lines[0]


def _only(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_import_writes_a_logdir_and_says_what_the_source_lacks(journal, tmp_path, capsys):
    out = tmp_path / "logs"
    assert main(["import", str(journal), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: Optuna records no wall time per intermediate value" in err
    assert f"wrote 12 sessions to {out}" in err
    exp = read_experiment(out)
    assert len(exp.sessions) == 12 and exp.objective == ("value", "maximize")
    assert _only(tmp_path) == ["logs"]  # no temporary directory left beside it


def test_import_refuses_a_non_empty_logdir_unless_overwrite(journal, tmp_path, capsys):
    out = tmp_path / "logs"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert main(["import", str(journal), "-o", str(out)]) == 2
    _one_line_error(capsys, "is not empty; pass --overwrite")
    assert _only(out) == ["precious.txt"]
    assert main(["import", str(journal), "-o", str(out), "--overwrite", "-q"]) == 0
    assert "precious.txt" not in _only(out) and len(read_experiment(out).sessions) == 12
    assert _only(tmp_path) == ["logs"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import", str(journal), "-o", str(empty), "-q"]) == 0  # an empty directory is fine


def _several_studies(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    h.make_study(url, name="a", n_trials=2)
    h.make_study(url, name="b", n_trials=2)
    return url


def _corrupt_sqlite(tmp_path) -> str:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\x13" * 5000)
    return str(path)


def _csv_without_metrics(tmp_path) -> str:
    path = tmp_path / "runs.csv"
    path.write_text("Name,State,config.lr\na,finished,0.1\n")
    return str(path)


def _half_written_trial(tmp_path) -> str:
    project = tmp_path / "kt" / "proj"
    (project / "trial_0").mkdir(parents=True)
    (project / "oracle.json").write_text(json.dumps({"hyperparameters": {"space": []}}))
    (project / "trial_0" / "trial.json").write_text('{"trial_id": "0", "status": "COMPL')
    return str(project)


@pytest.mark.parametrize("make, needle", [
    (_several_studies, "holds 2 studies (a, b); pick one with --study NAME"),
    (_corrupt_sqlite, "is not a readable Optuna SQLite storage"),
    (_csv_without_metrics, "has no metric column (no summary.* columns); name them with --metrics"),
    (_half_written_trial, "trial_0/trial.json is not valid JSON"),
])
def test_bad_sources_are_one_line_exit_2_and_nothing_written(make, needle, tmp_path, capsys):
    pytest.importorskip("optuna")
    source = make(tmp_path)
    capsys.readouterr()
    before = _only(tmp_path)
    out = tmp_path / "out"
    assert main(["import", source, "-o", str(out)]) == 2
    _one_line_error(capsys, needle)
    assert _only(tmp_path) == before  # no output, no temporary directory
    if needle.startswith("is not a readable"):
        assert Path(source).read_bytes() == b"SQLite format 3\x00" + b"\x13" * 5000  # never modified


def test_other_commands_read_sources_too(journal, tmp_path, capsys):
    assert main(["export", str(journal), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("session,group,status,start_time,end_time,")
    assert len(out.strip().splitlines()) == 13
    csv = tmp_path / "runs.txt"  # no telling suffix: --source-kind says what it is
    csv.write_text("run,lr,opt,val_acc\na,0.1,adam,0.7\nb,0.01,sgd,0.8\n")
    assert main(["export", str(csv), "--source-kind", "table", "--metrics", "val_acc"]) == 0
    captured = capsys.readouterr()
    assert "hparams-tools export: hyperparameters: lr, opt" in captured.err
    assert "hparams-tools export: metrics: val_acc" in captured.err
    assert main(["export", str(csv)]) == 2
    _one_line_error(capsys, "is not a directory (a TensorBoard logdir) nor a file hparams-tools reads")
    assert main(["export", str(tmp_path), "--study", "x"]) == 2
    _one_line_error(capsys, "apply to other sources")


@pytest.mark.slow
def test_analyze_and_report_on_an_optuna_journal(journal, tmp_path, capsys):
    assert main(["analyze", str(journal), "-q"]) == 0
    out = capsys.readouterr().out
    assert "lr" in out
    report = tmp_path / "r.html"
    assert main(["report", str(journal), "-o", str(report), "-q", "--no-space-file"]) == 0
    assert report.stat().st_size > 10_000


def test_a_failure_while_writing_leaves_the_old_logdir_whole(journal, tmp_path, capsys, monkeypatch):
    """The write fails half-way (disk full, say): the previous logdir is untouched, no temp dir is left."""
    from hparams_tools.errors import OutputError
    from hparams_tools.io import writer

    out = tmp_path / "logs"
    assert main(["import", str(journal), "-o", str(out), "-q"]) == 0
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    calls = []
    real = writer.EventWriter.add_session_end

    def fail_on_the_fourth(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OutputError("disk full (injected)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(writer.EventWriter, "add_session_end", fail_on_the_fourth)
    assert main(["import", str(journal), "-o", str(out), "--overwrite"]) == 2
    _one_line_error(capsys, "disk full (injected)")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert _only(tmp_path) == ["logs"] and len(calls) == 4
