"""write_report and the report/plot commands on real logdirs: content, bad input, exit codes, atomic writes."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from hparams_tools.cli import main
from hparams_tools.errors import DamagedFileWarning, OutputError, UnknownMetricError
from hparams_tools.io.writer import EventWriter
from hparams_tools.report import write_report


def test_report_is_self_contained(sweep_dir, tmp_path):
    out = write_report(sweep_dir, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    for section in ("overview", "leaderboard", "findings", "importance", "plots", "next-space", "data-quality"):
        assert f'data-section="{section}"' in html
    # nothing loaded from elsewhere: no external script/style/image reference
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(?!data:)", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<script>") == 1  # the page script; it runs plotly.js, inline as inert text, once needed
    assert html.count('<script type="text/plain" id="plotly-js">') == 1
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs()[:2000] in html
    assert not list(tmp_path.glob(".r.html.*.tmp"))  # the temporary file was moved into place


def test_unknown_target_exits_2_and_keeps_the_old_report(sweep_dir, tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("previous report")
    assert main(["report", str(sweep_dir), "-o", str(out), "--target", "validation/nope", "-q"]) == 2
    err = capsys.readouterr().err
    assert "validation/nope" in err and "validation/epoch_accuracy" in err and "Traceback" not in err
    assert out.read_text() == "previous report"
    with pytest.raises(UnknownMetricError):
        write_report(sweep_dir, out, target="nope")


def test_unwritable_output_exits_2_before_reading(sweep_dir, tmp_path, capsys):
    assert main(["report", str(sweep_dir), "-o", str(tmp_path / "missing" / "r.html"), "-q"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(sweep_dir), "-o", str(tmp_path), "-q"]) == 2  # a directory
    assert "is a directory" in capsys.readouterr().err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(OutputError, match="not writable"):
            write_report(sweep_dir, ro / "r.html")


def test_missing_logdir_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html"), "-q"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_logdir_without_sessions_is_reported(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    scalars_only = tmp_path / "scalars-only"  # event files, but no HParams data
    with EventWriter(scalars_only / "run") as w:
        w.add_scalar("loss", 1.0, 0)
    out = write_report([empty, scalars_only], tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert html.count('data-section="empty"') == 2
    assert "No sessions to report" in html


def test_no_space_file_when_asked(sweep_dir, tmp_path):
    write_report(sweep_dir, tmp_path / "r.html", write_space=False)
    assert not list(tmp_path.glob("*.yaml"))


def test_single_session(tmp_path):
    from hparams_tools.testing import write_sweep

    logdir = write_sweep(tmp_path / "one", 1)
    out = write_report(logdir, tmp_path / "one.html")
    html = out.read_text(encoding="utf-8")
    assert 'data-section="leaderboard"' in html and "trial_00000" in html
    assert "contour not drawn" in html  # said in the data-quality notes instead of failing


def test_several_logdirs_side_by_side_and_space_files(sweep_dir, other_sweep_dir, tmp_path):
    out = write_report([sweep_dir, other_sweep_dir], tmp_path / "cmp.html", write_space=True)
    html = out.read_text(encoding="utf-8")
    assert html.count('class="experiment"') == 2
    assert 'alt="best so far against trials and epochs"' in html  # the comparison, one line per logdir
    spaces = sorted(p.name for p in tmp_path.glob("cmp_next_space*.yaml"))
    assert spaces == ["cmp_next_space_1.yaml", "cmp_next_space_2.yaml"]
    from hparams_tools.space import load_space

    space = load_space(tmp_path / spaces[0])  # the file the command runs is a valid space file
    assert set(space.parameters) == {"learning_rate", "dropout", "epochs", "optimizer"}
    assert f"python -m training.sweep --space {tmp_path / spaces[0]} --logdir {sweep_dir.parent / 'random-next'}" in html


@pytest.mark.parametrize("kind", ["parallel", "slices", "scatter-matrix", "scatter3d", "contour", "surface", "importance",
                                  "curves", "groups", "history"])
def test_plot_command_writes_each_kind(kind, sweep_dir, tmp_path):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, str(sweep_dir), "-o", str(out), "-q", "--dpi", "50"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_command_formats_and_errors(sweep_dir, tmp_path, capsys):
    assert main(["plot", "slices", str(sweep_dir), "-o", str(tmp_path / "s.svg"), "-q"]) == 0
    assert b"<svg" in (tmp_path / "s.svg").read_bytes()[:500]
    assert main(["plot", "slices", str(sweep_dir), "-o", str(tmp_path / "s.pdf"), "-q"]) == 0
    assert (tmp_path / "s.pdf").read_bytes()[:5] == b"%PDF-"
    assert main(["plot", "slices", str(sweep_dir), "-o", str(tmp_path / "s.gif"), "-q"]) == 2
    assert ".png, .svg or .pdf" in capsys.readouterr().err
    assert main(["plot", "contour", str(sweep_dir), "-o", str(tmp_path / "c.png"), "--target", "x", "-q"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["plot", "nonsense", str(sweep_dir), "-o", str(tmp_path / "c.png")])
    assert exc.value.code == 2


def test_importance_plot_from_the_real_analysis(tmp_path):
    """The synthetic target depends mostly on learning_rate: the plot puts it first."""
    from hparams_tools import read_experiment
    from hparams_tools.analysis import analyze
    from hparams_tools.visualization import importance
    from hparams_tools.testing import write_sweep

    result = analyze(read_experiment(write_sweep(tmp_path / "big", 150, seed=3)), seed=0)
    info = importance._get_importance_info(result)
    assert info.hparams[0] == "learning_rate"
    assert np.allclose(info.values.sum(axis=1), 1)
    assert "intercept" not in info.terms and len(info.terms) == len(result.ols) - 1
    fig = importance.plot_importance(result)
    assert fig.axes[0].get_title() == f"Importance for {result.target} by method"


def test_damaged_event_file_is_listed_in_data_quality(tmp_path):
    from hparams_tools.testing import write_sweep

    logdir = write_sweep(tmp_path / "damaged", 8, seed=4)
    victim = sorted((logdir / "trial_00003" / "validation").glob("events.out.tfevents.*"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[:-7])  # a writer killed mid-record: the last record is truncated
    with pytest.warns(DamagedFileWarning):
        out = write_report(logdir, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    quality = html[html.index('data-section="data-quality"'):]
    assert "Damaged records skipped (1)" in quality and victim.name in quality


def test_space_file_goes_beside_the_report_and_is_said(sweep_dir, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "out" / "r.html"
    assert main(["report", str(sweep_dir), "-o", str(out)]) == 0
    space = tmp_path / "out" / "r_next_space.yaml"
    assert space.is_file() and list(elsewhere.iterdir()) == []  # nothing written into the current directory
    err = capsys.readouterr().err
    assert f"wrote the suggested next space to {space}" in err and f"--space {space}" in err
    assert str(space.resolve()) in out.read_text(encoding="utf-8")  # the page says where too
