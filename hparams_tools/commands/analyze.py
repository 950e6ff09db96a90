"""``hparams-tools analyze``: which hyperparameters matter, how sure we are, where to search next."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .._format import format_number
from ._analysis_args import add_common, run_analysis

DESCRIPTION = """\
Explain a target metric by the hyperparameters of a TensorBoard HParams sweep (no TensorFlow needed).

Preparation (each step reported with counts): drop failed sessions and sessions without a target value,
average repeats / CV folds (sessions of one group), impute missing hyperparameters (numbers: the
arithmetic mean, or the geometric mean for log-scaled ones; categories: the most frequent value), log10
for log-scaled ones, one-hot categories, drop constants. A number is log-scaled when its scale is
declared (description "log scale", keras-tuner sampling="log", a log_uniform_values space file), else
when a Kolmogorov-Smirnov test finds its values sampled log-uniform rather than uniform; never from
the max/min ratio alone.

Methods: Pearson and Spearman correlation; OLS (statsmodels) with p-values, 95% intervals and effects
per standard deviation; ExtraTrees impurity importance with its held-out R²; permutation importance with
its spread; fANOVA and PED-ANOVA (optuna's evaluators); pairwise interactions (Friedman's H-statistic).
Then plain-language findings, ranked by what to do: runs that collapse or fail and where, edges of the
searched space, the few hyperparameters that matter and how sure we are (a method whose fit is too weak
for the data is named and left out), interactions, and one closing "Try next" sentence that matches the
next search space (write it with `hparams-tools suggest`). Every number says where it came from.
`hparams-tools analyse` is the same command.

--json prints one strict-JSON object with the keys target, goal, n_sessions_used, notes, correlation,
ols (with r_squared), importance (forest, permutation, fanova, ped_anova, ...), findings, next_space
and more. Exit status: 0 ok, 2 unusable input (unknown target, too little data).
"""

EPILOG = """\
examples:
  hparams-tools analyze logs/flowers
  hparams-tools analyze logs/flowers --target validation/epoch_loss --value mean-last-3
  hparams-tools analyze logs/flowers --json | jq .importance.forest
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``analyze`` subcommand."""
    parser = subparsers.add_parser(
        "analyze", aliases=["analyse"], help="which hyperparameters matter (correlation, OLS, forests, fANOVA) and where to search next",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.set_defaults(func=run)


def _table(frame: pd.DataFrame, digits: int = 4) -> str:
    if frame.empty:
        return "  (none)"
    text = frame.to_string(float_format=lambda v: format_number(v, digits, missing="-"), na_rep="-")
    return "\n".join("  " + line for line in text.splitlines())


def render(result) -> str:
    """The human-readable report of an :class:`~hparams_tools.analysis.AnalysisResult`."""
    out = [f"Target: {result.target} ({result.goal}, value {result.value}); "
           f"{result.n_sessions_used} of {result.n_sessions} sessions used; seed {result.seed}", "",
           "Preparation:"]
    out += [f"  - {n}" for n in result.notes]
    r2 = "-" if result.forest_r2 is None else f"{result.forest_r2:.3f}"
    out += ["", f"Importance (forest: impurity share; permutation: drop of held-out R², ± std over shuffles; "
                f"fanova: variance share of the main effect; ped_anova: share for reaching the top {result.top:.0%}; "
                f"consensus: median share). Forest out-of-sample R²: {r2}",
            _table(result.importance), ""]
    ols_r2 = "-" if result.ols_r_squared is None else f"{result.ols_r_squared:.3f}"
    cols = [c for c in ("coef", "std_err", "t", "p_value", "ci_low", "ci_high", "std_coef") if c in result.ols.columns]
    out += [f"OLS (R² = {ols_r2}; std_coef = effect of one standard deviation):", _table(result.ols[cols]), ""]
    out += ["Correlation with the target:", _table(result.correlation), ""]
    out += ["Interactions among the top hyperparameters (Friedman's H²; strength = share of the forest's "
            "predicted variation):", _table(result.interactions.set_index(["a", "b"]) if len(result.interactions)
                                          else result.interactions), ""]
    out += ["Findings:"] + [f"  - {f}" for f in result.findings] + [""]
    out += ["Suggested next search space (write it with `hparams-tools suggest LOGDIR -o next_space.yaml`):", ""]
    out += [result.space_yaml()]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools analyze``; returns the exit status (errors are raised)."""
    result = run_analysis(args, "analyze")
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(render(result))
    sys.stdout.flush()
    return 0
