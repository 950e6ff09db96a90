"""ReportItem: what the report knows about one logdir, built step by step by the writer.

Each step of :func:`~hparams_tools.report.write_report` returns a new item
(``dataclasses.replace``) instead of mutating a shared one, so a section can
rely on what it is given: ``plot_data`` is set for every logdir with
sessions; ``analysis`` or ``analysis_error`` once the analysis ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - types only
    import pandas as pd

    from ..analysis import AnalysisResult
    from ..io.experiment import Experiment
    from ..visualization import PlotData


@dataclass(frozen=True)
class ReportItem:
    """One logdir's contribution to the report.

    Attributes:
        index: Position of the logdir on the command line (0-based; anchors are ``e<index+1>``).
        label: Unique short name (the logdir's name, numbered when two share it).
        logdir: The logdir as given.
        experiment: The read experiment (``None`` when the directory held no sessions).
        analysis: The analysis result, when it ran.
        plot_data: The plots' normalised input (targets resolved), for logdirs with sessions.
        empty_reason: Why the logdir has nothing to report, or ``None``.
        analysis_error: Why the analysis did not run, or ``None``.
        metrics: ``experiment.metrics(value)`` (the leaderboard's other columns).
    """

    index: int
    label: str
    logdir: str
    experiment: "Experiment | None" = None
    analysis: "AnalysisResult | None" = None
    plot_data: "PlotData | None" = None
    empty_reason: str | None = None
    analysis_error: str | None = None
    metrics: "pd.DataFrame | None" = None

    @property
    def anchor(self) -> str:
        """The id of the item's section in the page."""
        return f"e{self.index + 1}"

    @property
    def has_sessions(self) -> bool:
        """True when the logdir has sessions to report."""
        return self.empty_reason is None
