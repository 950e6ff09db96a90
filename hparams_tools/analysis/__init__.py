"""Which hyperparameters matter, how sure we are, and where to search next.

Example::

    from hparams_tools import read_experiment
    from hparams_tools.analysis import analyze

    result = analyze(read_experiment("logs/flowers"), target="validation/epoch_accuracy", seed=0)
    result.importance        # forest, permutation (+std), fanova, ped_anova, consensus per hparam
    result.ols               # coef, std_err, t, p_value, ci_low, ci_high, std_coef per term
    print("\\n".join(result.findings))
    print(result.space_yaml())   # the next search space, runnable by python -m training.sweep

Heavy dependencies (scikit-learn, statsmodels, optuna, scipy) are imported when an analysis runs.
"""

from __future__ import annotations

from .core import analyze
from .result import AnalysisResult

__all__ = ["analyze", "AnalysisResult"]
