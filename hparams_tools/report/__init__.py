"""The offline HTML report: one self-contained file (inline plotly.js, CSS, images; no network request).

Example::

    from hparams_tools.report import write_report
    write_report(["logs/flowers/random", "logs/flowers/bayesian"], "report.html", target="validation/epoch_accuracy")
"""

from __future__ import annotations

from .build import next_space_command, write_report

__all__ = ["write_report", "next_space_command"]
