"""The CLI's edges: one-line usage errors, odd paths, and a report killed at random moments (real processes)."""

from __future__ import annotations

import html
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import assert_one_line_error, run_cli
from hparams_tools.cli import COMMANDS as MODULES
from hparams_tools.cli import main

COMMANDS = [m.rstrip("_") for m in MODULES]  # the module import_ is the command import

# arguments each command accepts, so that only the option added to them is wrong
VALID = {"export": ["L"], "analyze": ["L"], "suggest": ["L", "-o", "x.yaml"], "plot": ["slices", "L", "-o", "x.png"],
         "report": ["L"], "import": ["L", "-o", "out"]}
USAGE_ERRORS = [
    # (argv, the prog the line must start with, a word it must hold)
    ([], "hparams-tools", "COMMAND"),
    (["bogus"], "hparams-tools", "invalid choice"),
    (["--bogus"], "hparams-tools", "COMMAND"),
    *[([cmd], f"hparams-tools {cmd}", "required") for cmd in COMMANDS],
    *[([cmd, *VALID[cmd], "--bogus-option"], f"hparams-tools {cmd}", "--bogus-option") for cmd in COMMANDS],
    (["export", "LOGDIR", "--valeu", "max"], "hparams-tools export", "--valeu"),  # a typo names the subcommand
    (["report", "LOGDIR", "--max-points", "abc"], "hparams-tools report", "invalid int value"),
    (["analyze", "LOGDIR", "--top", "2"], "hparams-tools analyze", "between 0 and 1"),
    (["plot", "nope", "LOGDIR", "-o", "x.png"], "hparams-tools plot", "invalid choice"),
    (["suggest", "LOGDIR"], "hparams-tools suggest", "--output"),
    (["export", "LOGDIR", "--value"], "hparams-tools export", "expected one argument"),
    (["plot", "slices", "L", "-o", "x.png", "--dpi", "x\ny"], "hparams-tools plot", "'x\\ny'"),
]


@pytest.mark.parametrize("argv,prog,needle", USAGE_ERRORS, ids=[" ".join(a) or "(none)" for a, _, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line(argv, prog, needle, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    assert needle in lines[0] and lines[0].endswith(f"(see '{prog} --help')")


def test_usage_error_of_the_console_entry_is_one_line():
    proc = run_cli("export", "LOGDIR", "--valeu", "max")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == ["hparams-tools export: error: unrecognized arguments: --valeu max "
                                        "(see 'hparams-tools export --help')"]


def test_sweep_usage_errors_are_one_line():
    for argv in (["--bogus"], ["--max-trials", "x"], ["--strategy"]):
        proc = subprocess.run([sys.executable, "-m", "training.sweep", *argv], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("python -m training.sweep: error: ")


@pytest.mark.parametrize("command", ["export", "analyze", "report", "plot"])
def test_path_with_newline_or_control_characters_is_one_line(command, small_logdir, tmp_path):
    bad_logdir = str(tmp_path / "no\nsuch\x1b[31mdir")
    argv = [command, bad_logdir] if command != "plot" else [command, "slices", bad_logdir, "-o", tmp_path / "p.png"]
    line = assert_one_line_error(run_cli(*argv), command)
    assert "\\n" in line and "\x1b" not in line
    bad_out = tmp_path / "no\ndir" / ("x.png" if command == "plot" else "x.csv")
    if command == "export":
        line = assert_one_line_error(run_cli(command, small_logdir, "-o", bad_out), command, "does not exist")
        assert "'" + str(bad_out).replace("\n", "\\n") + "'" in line  # quoted like repr, newline escaped


def _kill_at(argv, delay):
    proc = subprocess.Popen([sys.executable, "-m", "hparams_tools", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode


def _assert_consistent(html_path, yaml_path):
    if yaml_path.exists():  # a space file beside the report is always the one that report shows
        assert html_path.exists()
        page = html_path.read_text(encoding="utf-8")
        assert html.escape(yaml_path.read_text(encoding="utf-8")) in page
    if html_path.exists():
        assert html_path.read_text(encoding="utf-8").rstrip().endswith("</html>")


@pytest.mark.slow
def test_report_killed_at_random_moments_keeps_html_and_space_file_consistent(small_logdir, tmp_path):
    html_path, yaml_path = tmp_path / "out" / "r.html", tmp_path / "out" / "r_next_space.yaml"
    html_path.parent.mkdir()
    # two logdirs give two different space files (their header names the logdir), so old and new differ
    logdirs = [small_logdir, shutil.copytree(small_logdir, tmp_path / "copy")]
    durations = []
    for logdir in logdirs[::-1]:  # two complete runs: the shorter one sets the kill moments (warm caches)
        start = time.perf_counter()
        assert _kill_at(["report", logdir, "-o", html_path, "-q"], None) == 0
        durations.append(time.perf_counter() - start)
    first_yaml = yaml_path.read_text()
    rng = random.Random(0)
    kills = 0
    for i in range(8):  # a full report is slow; the test below kills the writing step 40 times
        argv = ["report", logdirs[(i + 1) % 2], "-o", html_path, "-q"]
        rc = _kill_at(argv, min(durations) * rng.uniform(0.3, 1.0))  # up to the moment the files are written
        kills += rc == -signal.SIGKILL
        _assert_consistent(html_path, yaml_path)
    assert kills >= 2  # the loop really killed processes, not only ran them
    assert _kill_at(["report", logdirs[1], "-o", html_path, "-q"], None) == 0
    _assert_consistent(html_path, yaml_path)
    assert yaml_path.read_text() != first_yaml  # the two logdirs' spaces differ: the check has teeth
    # whatever the kills left behind, the next run removed it
    assert sorted(os.listdir(html_path.parent)) == ["r.html", "r_next_space.yaml"]


WRITER = """
import sys
from hparams_tools._files import replace_together
out, n = sys.argv[1], sys.argv[2]
for i in range(1000):
    version = f"{n}.{i}"
    # a large page (several write calls) and its small companion, like a report and its space file
    replace_together([(out + "/r.html", ("<p>" + version + "</p>\\n") * 200_000 + version),
                      (out + "/r_next_space.yaml", version)])
"""


@pytest.mark.slow
def test_pair_written_together_is_consistent_under_kill_9(tmp_path):
    rng = random.Random(1)
    kills = 0
    for n in range(40):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)])
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        kills += proc.wait() == -signal.SIGKILL
        html_file, yaml_file = tmp_path / "r.html", tmp_path / "r_next_space.yaml"
        if yaml_file.exists():
            assert html_file.read_text().endswith(yaml_file.read_text())
    assert kills >= 30
    subprocess.run([sys.executable, "-c", WRITER.replace("range(1000)", "range(1)"), str(tmp_path), "end"],
                   check=True, timeout=300)
    assert sorted(os.listdir(tmp_path)) == ["r.html", "r_next_space.yaml"]
