"""Ordinary least squares with statsmodels: effects, uncertainty and R²."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import require

__all__ = ["ols", "OLS_COLUMNS"]

OLS_COLUMNS = ["coef", "std_err", "t", "p_value", "ci_low", "ci_high", "std_coef"]


def ols(design: pd.DataFrame, y: pd.Series) -> tuple[pd.DataFrame, float | None, str | None]:
    """Fit ``y ~ intercept + design`` by OLS.

    ``design`` must already have one level of each category dropped (no dummy trap).
    ``std_coef`` is the effect of one standard deviation of the column (the coefficient
    on standardized inputs), so effects of different hyperparameters are comparable;
    its t and p-value are those of ``coef``.

    Args:
        design: OLS design matrix.
        y: Target values.

    Returns:
        ``(table, r_squared, reason)``: the table has index ``term`` (``intercept`` first) and
        :data:`OLS_COLUMNS`; when there are too few rows for the terms the table is empty,
        R² is ``None`` and ``reason`` says why.
    """
    sm = require("statsmodels.api")
    n, p = design.shape
    if n < p + 3:
        return (pd.DataFrame(columns=OLS_COLUMNS, index=pd.Index([], name="term")), None,
                f"OLS skipped: {n} rows for {p} terms plus an intercept (needs at least {p + 3})")
    x = sm.add_constant(design.to_numpy(dtype=float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rank deficiency is reported in the notes instead
        fit = sm.OLS(y.to_numpy(dtype=float), x).fit()
    ci = np.asarray(fit.conf_int(alpha=0.05))
    sd = np.concatenate([[0.0], design.std(ddof=1).to_numpy(dtype=float)])
    table = pd.DataFrame(
        {
            "coef": fit.params, "std_err": fit.bse, "t": fit.tvalues, "p_value": fit.pvalues,
            "ci_low": ci[:, 0], "ci_high": ci[:, 1], "std_coef": np.asarray(fit.params) * sd,
        },
        index=pd.Index(["intercept", *design.columns], name="term"),
    )
    table.loc["intercept", "std_coef"] = np.nan
    reason = None
    if np.linalg.matrix_rank(x) < x.shape[1]:
        reason = "OLS design is rank deficient (collinear columns): some coefficients are not identifiable"
    return table, float(fit.rsquared), reason
