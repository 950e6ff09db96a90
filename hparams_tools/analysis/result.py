"""The analysis result: one DataFrame per method, notes, findings and the suggested space."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._format import json_safe
from ..space import SearchSpace, dump_space

__all__ = ["AnalysisResult", "IMPORTANCE_METHODS", "consensus_shares", "importance_ranking"]

IMPORTANCE_METHODS = ("forest", "permutation", "fanova", "ped_anova")


def consensus_shares(table: pd.DataFrame) -> pd.Series:
    """Median over the available methods of each method's scores normalised to sum 1 (negatives as 0).

    The median keeps one method's outlier (e.g. PED-ANOVA on a coarse grid) from deciding the ranking.
    """
    shares = []
    for method in IMPORTANCE_METHODS:
        if method in table.columns and table[method].notna().all():
            s = table[method].clip(lower=0.0)
            total = float(s.sum())
            if total > 0:
                shares.append(s / total)
    if not shares:
        return pd.Series(0.0, index=table.index)
    return pd.concat(shares, axis=1).median(axis=1)


def importance_ranking(table: pd.DataFrame) -> list[str]:
    """The one importance ranking (analysis, findings, suggest and plots): consensus share, largest first."""
    shares = table["consensus"] if "consensus" in table.columns else consensus_shares(table)
    return [str(n) for n in shares.astype(float).fillna(0.0).sort_values(ascending=False, kind="stable").index]


@dataclass
class AnalysisResult:
    """Everything :func:`~hparams_tools.analysis.analyze` found.

    Attributes:
        target: Metric analysed (as the export names it).
        goal: ``"maximize"`` or ``"minimize"``.
        value: Value mode (``last``, ``max``, ``min``, ``mean-last-K``).
        seed: Seed used.
        top: Fraction of best rows used for PED-ANOVA and the suggested region.
        n_sessions: Sessions in the experiment.
        n_sessions_used: Rows analysed (sessions, or groups of repeats when averaged).
        notes: Preparation and method notes with counts.
        data: The prepared rows: raw hyperparameter values (after imputation) and the target.
        design: The design matrix fitted by the forest (numbers, log10, 0/1, one-hot).
        correlation: Index ``column``; ``pearson``, ``spearman``.
        ols: Index ``term``; ``coef``, ``std_err``, ``t``, ``p_value``, ``ci_low``, ``ci_high``,
            ``std_coef`` (effect of one standard deviation); empty when skipped.
        ols_r_squared: OLS R², or ``None``.
        importance: Index ``hyperparameter``; ``forest``, ``permutation``, ``permutation_std``,
            ``fanova``, ``ped_anova`` and ``consensus`` (median over methods of their shares), sorted
            by ``consensus``; NaN where a method was skipped.
        forest_r2: The forest's out-of-sample R² (held-out split), or ``None``.
        interactions: Columns ``a``, ``b``, ``h2``, ``strength`` (Friedman's H-statistic).
        findings: Plain-language statements.
        next_space: The suggested :class:`~hparams_tools.space.SearchSpace`.
        next_space_comments: Why, per parameter.
        next_space_header: The header comment of the space file.
        log_scaled: Hyperparameters analysed on a log10 scale.
        groups: Per group of repeats: ``count``, ``mean``, ``std`` of the target (``None`` if none).
        timings: Seconds per step.
        provenance: Per hyperparameter: ``scale`` and ``scale_reason`` (the one scale rule's
            decision and why), ``imputed`` (how many rows were filled in) and ``imputation`` (how).
    """

    target: str
    goal: str
    value: str
    seed: int
    top: float
    n_sessions: int
    n_sessions_used: int
    notes: list[str]
    data: pd.DataFrame
    design: pd.DataFrame
    correlation: pd.DataFrame
    ols: pd.DataFrame
    ols_r_squared: float | None
    importance: pd.DataFrame
    forest_r2: float | None
    interactions: pd.DataFrame
    findings: list[str]
    next_space: SearchSpace
    next_space_comments: dict[str, str]
    next_space_header: str = ""
    log_scaled: list[str] = field(default_factory=list)
    groups: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)

    def space_yaml(self) -> str:
        """The suggested space as the YAML text ``suggest`` writes (with comments)."""
        return dump_space(self.next_space, comments=self.next_space_comments, header=self.next_space_header)

    def to_json(self) -> dict[str, Any]:
        """The ``analyze --json`` object (strict JSON: NaN becomes ``None``)."""
        ols: dict[str, Any] = {
            str(term): {k: json_safe(row[k]) for k in self.ols.columns} for term, row in self.ols.iterrows()
        }
        ols["r_squared"] = json_safe(self.ols_r_squared)
        importance = {
            method: {str(h): json_safe(v) for h, v in self.importance[method].items()}
            for method in (*IMPORTANCE_METHODS, "permutation_std", "consensus")
            if method in self.importance.columns
        }
        return {
            "target": self.target,
            "goal": self.goal,
            "value": self.value,
            "seed": self.seed,
            "top": self.top,
            "n_sessions": self.n_sessions,
            "n_sessions_used": self.n_sessions_used,
            "notes": list(self.notes),
            "correlation": {
                str(c): {"pearson": json_safe(r["pearson"]), "spearman": json_safe(r["spearman"])}
                for c, r in self.correlation.iterrows()
            },
            "ols": ols,
            "importance": importance,
            "forest_r2": json_safe(self.forest_r2),
            "interactions": [
                {"a": r["a"], "b": r["b"], "h2": json_safe(r["h2"]), "strength": json_safe(r["strength"])}
                for _, r in self.interactions.iterrows()
            ],
            "log_scaled": list(self.log_scaled),
            "provenance": json_safe(self.provenance),
            "findings": list(self.findings),
            "next_space": json_safe(self.next_space.to_dict()),
            "next_space_comments": dict(self.next_space_comments),
        }
