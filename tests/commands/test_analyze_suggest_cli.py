"""``hparams-tools analyze`` and ``suggest`` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli
from hparams_tools.io.experiment import HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session
from hparams_tools.space import load_space, parse_space

KEYS = {"target", "goal", "n_sessions_used", "notes", "correlation", "ols", "importance", "findings", "next_space"}


def _no_json_nan(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


def test_analyze_json_has_the_documented_keys_and_is_strict_json(gt_logdir):
    proc = run_cli("analyze", str(gt_logdir), "--json", "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    out = _no_json_nan(proc.stdout)
    assert KEYS <= set(out)
    assert out["target"] == "validation/epoch_accuracy" and out["goal"] == "maximize"
    assert set(out["importance"]) >= {"forest", "permutation", "fanova", "ped_anova"}
    assert max(out["importance"]["forest"], key=out["importance"]["forest"].get) == "learning_rate"
    assert set(out["correlation"]["log10(learning_rate)"]) == {"pearson", "spearman"}
    assert isinstance(out["ols"]["r_squared"], float)
    assert set(out["ols"]["decoy"]) >= {"coef", "std_err", "t", "p_value", "ci_low", "ci_high"}
    assert out["ols"]["intercept"]["std_coef"] is None                       # NaN -> null
    assert all(isinstance(n, str) for n in out["notes"] + out["findings"])
    parse_space(out["next_space"])                                           # the object is a valid space


def test_analyze_prints_readable_tables(gt_logdir):
    proc = run_cli("analyze", str(gt_logdir), "--quiet", "--top", "0.1")
    assert proc.returncode == 0, proc.stderr
    for heading in ("Preparation:", "Importance", "OLS (R² =", "Correlation with the target:", "Interactions",
                    "Findings:", "method: "):
        assert heading in proc.stdout
    assert "learning_rate" in proc.stdout and proc.stderr == ""


@pytest.mark.parametrize("args, fragment", [
    (["--target", "validation/acc"], "unknown target metric 'validation/acc'; the experiment has: "
                                     "validation/epoch_accuracy, train/epoch_loss"),
    (["--value", "best-of-3"], "unknown value mode"),
])
def test_analyze_bad_options_exit_2(gt_logdir, args, fragment):
    assert_one_line_error(run_cli("analyze", str(gt_logdir), *args), "analyze", fragment)


def test_analyze_missing_logdir_exit_2(tmp_path):
    assert_one_line_error(run_cli("analyze", str(tmp_path / "nope")), "analyze", "does not exist")


def _logdir(root: Path, value, lr) -> Path:
    write_experiment(root, [HParamInfo("lr", "float", "", "", Interval(0.0, 1.0))],
                     [MetricInfo("validation", "epoch_accuracy", "", "")])
    for i in range(8):
        write_session(root / f"r{i}", {"lr": lr(i)}, scalars={"validation": {"epoch_accuracy": [0.5, value(i)]}})
    return root


@pytest.mark.parametrize("value, lr, fragment", [
    (lambda i: float("nan"), lambda i: i / 10, "none of the 8 sessions has a usable validation/epoch_accuracy"),
    (lambda i: i / 10, lambda i: 0.5, "every hyperparameter is constant"),
])
def test_nothing_to_analyse_exit_2(tmp_path, value, lr, fragment):
    assert_one_line_error(run_cli("analyze", str(_logdir(tmp_path / "x", value, lr))), "analyze", fragment)


def test_suggest_writes_a_space_the_parser_reads(gt_logdir, tmp_path):
    out = tmp_path / "next_space.yaml"
    out.write_text("old content\n")
    proc = run_cli("suggest", str(gt_logdir), "-o", str(out), "--top", "0.2", "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr and "training.sweep --space" in proc.stderr
    text = out.read_text()
    space = load_space(out)
    assert space.metric == "validation/epoch_accuracy"
    lr = space.parameters["learning_rate"]
    assert lr.min < 1e-3 < lr.max
    assert text.count("  # ") >= len(space.parameters)                    # a comment per parameter
    assert [p.name for p in tmp_path.iterdir()] == ["next_space.yaml"]   # no temp file left behind


def test_suggest_bad_output_exit_2_and_keeps_existing_file(gt_logdir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(run_cli("suggest", str(gt_logdir), "-o", str(blocker / "next.yaml")), "suggest",
                        "does not exist")
    assert_one_line_error(run_cli("suggest", str(gt_logdir), "-o", str(tmp_path)), "suggest", "is a directory")
    keep = tmp_path / "keep.yaml"
    keep.write_text("precious\n")
    assert_one_line_error(run_cli("suggest", str(gt_logdir), "-o", str(keep), "--target", "nope"), "suggest",
                        "unknown target")
    assert keep.read_text() == "precious\n"


def test_help_explains():
    proc = run_cli("suggest", "--help")
    assert proc.returncode == 0 and "--top" in proc.stdout and "training.sweep" in proc.stdout
    proc = run_cli("analyze", "--help")
    assert proc.returncode == 0 and "--json" in proc.stdout and "fANOVA" in proc.stdout


def test_analyse_is_the_same_command_and_help_says_geometric_mean(tmp_path):
    from hparams_tools.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["analyse", "x"]).func is parser.parse_args(["analyze", "x"]).func
    proc = run_cli("analyse", str(tmp_path / "missing"))
    assert_one_line_error(proc, "analyse", "missing")
    help_text = run_cli("analyze", "--help").stdout
    assert "geometric mean for log-scaled" in " ".join(help_text.split())
