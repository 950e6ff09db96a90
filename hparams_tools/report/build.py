"""write_report: read each logdir, analyse it, draw the plots and assemble one self-contained HTML file.

The report never parses event files itself: it calls the public API
(:func:`hparams_tools.read_experiment`, :func:`hparams_tools.analysis.analyze`,
the plot modules) and only arranges their results.
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from .._files import check_writable, is_stream, replace_together, safe_join
from ..errors import HParamsToolsError, LogdirError
from ..visualization import _common as c
from . import page, sections


@dataclass
class _Item:
    """One logdir's contribution to the report."""

    index: int
    label: str
    logdir: str
    experiment: Any = None
    empty_reason: str | None = None  # set when the logdir has no sessions
    data: c.PlotData | None = None
    analysis: Any = None
    analysis_error: str | None = None
    space_file: Path | None = None
    notes: list[str] = field(default_factory=list)  # plot notes (top-K, sampling, skipped plots)
    plots_html: str = ""
    metrics: Any = None  # experiment.metrics(value), for the leaderboard


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, (str, os.PathLike)) or not isinstance(x, Sequence):
        return [x]
    return list(x)


def _load(index: int, source: Any, progress: bool) -> _Item:
    from ..io.experiment import Experiment, read_experiment

    if isinstance(source, Experiment):
        exp = source
    else:
        path = Path(source)
        if not path.is_dir():
            raise LogdirError(f"logdir {path} does not exist or is not a directory")
        try:
            exp = read_experiment(path, progress=progress)
        except LogdirError as exc:  # an existing directory with no sessions: the report says so
            return _Item(index, path.name or str(path), str(path), empty_reason=str(exc))
    item = _Item(index, exp.logdir.name or str(exp.logdir), str(exp.logdir), experiment=exp)
    if len(exp.sessions) == 0:
        item.empty_reason = f"{exp.logdir} holds no HParams sessions"
    return item


def _analyze(item: _Item, target: str, goal: str, value: str, seed: int, progress: bool) -> None:
    try:
        from ..analysis import analyze
    except ImportError:  # pragma: no cover - the analysis package is part of the install
        item.analysis_error = "the analysis is not available in this installation"
        return
    try:
        item.analysis = analyze(item.experiment, target=target, goal=goal, value=value, seed=seed, progress=progress)
    except HParamsToolsError as exc:
        item.analysis_error = str(exc)


def _unique_labels(items: list[_Item]) -> None:
    seen: dict[str, int] = {}
    for it in items:
        n = seen.get(it.label, 0)
        seen[it.label] = n + 1
        if n:
            it.label = f"{it.label} ({n + 1})"


def _plan_space(item: _Item, output: Path, several: bool) -> None:
    if item.analysis is None or getattr(item.analysis, "next_space", None) is None:
        return
    name = f"{output.stem}_next_space{f'_{item.index + 1}' if several else ''}.yaml"
    path = safe_join(output.parent, name)
    item.space_file = path  # written with the HTML by replace_together, so that the two always agree


def next_space_command(space_file: str | Path, logdir: str) -> str:
    """The exact command that runs the suggested space into a new logdir beside the analysed one."""
    logdir_path = Path(logdir)
    new = logdir_path.parent / f"{logdir_path.name}-next"
    return f"python -m training.sweep --space {shlex.quote(str(space_file))} --logdir {shlex.quote(str(new))}"


def write_report(
    logdirs_or_experiments: Any,
    output: str | os.PathLike[str],
    *,
    target: str | None = None,
    goal: str | None = None,
    value: str = "last",
    seed: int = 0,
    title: str | None = None,
    progress: bool = False,
    write_space: bool = True,
    max_points: int = c.MAX_POINTS,
) -> Path:
    """Write one self-contained, offline HTML report of one or several sweeps.

    Sections: overview (sessions by status, best configuration and score,
    sweep time; several logdirs side by side), best-so-far comparison, and
    per logdir a sortable leaderboard, findings, importances, plots, the
    suggested next space (YAML and the command to run it) and data-quality
    notes. Scripts (plotly.js from the installed plotly), styles and images
    are inline; the page makes no network request.

    Args:
        logdirs_or_experiments: A logdir path or Experiment, or a list of them.
        output: The HTML file to write (atomically; nothing half-written on failure).
        target: Target metric (default: each experiment's declared objective,
            else its most plausible validation metric).
        goal: ``"maximize"`` or ``"minimize"`` (default: the objective's, else from the name).
        value: Metric value mode: ``last``, ``max``, ``min`` or ``mean-last-K``.
        seed: Seed of the analysis and of the plots' sampling.
        title: Page title (default: from the logdir names).
        progress: Show progress bars.
        write_space: Also write the suggested space as ``<output stem>_next_space.yaml``
            beside the report (inside the output's directory).
        max_points: Sessions drawn at most per plot (a seeded sample beyond, said in the plot).

    Returns:
        The path of the written report.

    Raises:
        OutputError: when ``output`` cannot be written (checked before any work).
        LogdirError: when a logdir does not exist.
        UnknownMetricError: when ``target`` is not a metric of an experiment.
    """
    if not isinstance(max_points, int) or max_points < 10:
        raise HParamsToolsError(f"max_points must be an integer of at least 10, not {max_points!r}")
    output = Path(output)
    check_writable(output)
    from tqdm.auto import tqdm

    sources = _as_list(logdirs_or_experiments)
    if not sources:
        raise LogdirError("no logdir given")
    if value != "last":
        from ..io.experiment import parse_value_mode

        parse_value_mode(value)
    items = [_load(i, s, progress) for i, s in enumerate(sources)]
    _unique_labels(items)
    live = [it for it in items if it.empty_reason is None]
    for it in live:  # resolve (and validate) every target before any long work
        it.data = c.plot_data(it.experiment, target=target, goal=goal, value=value, label=it.label)
    bar = tqdm(total=len(live) * 2, desc="report", unit="step", disable=not progress)
    for it in live:
        _analyze(it, it.data.target, it.data.goal, value, seed, progress)
        if it.analysis is not None:  # re-rank the hyperparameters by the analysis' importance
            it.data = c.plot_data(it.experiment, target=it.data.target, goal=it.data.goal, value=value,
                                  analysis=it.analysis, label=it.label)
        bar.update()
        if write_space and not is_stream(output):  # nothing is written "beside" /dev/null or a FIFO
            _plan_space(it, output, len(items) > 1)
        it.plots_html = sections.plots(it, seed=seed, max_points=max_points)
        bar.update()
    bar.close()
    body, toc = sections.body(items, value=value, seed=seed, max_points=max_points)
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = title or "HParams report: " + ", ".join(it.label for it in items)
    subtitle = f"{len(items)} logdir(s) · generated {when} by hparams-tools {__version__} · value mode {value!r}, seed {seed}"
    text = page.page(title, subtitle, toc, body, with_plotly=True)
    spaces = [(it.space_file, sections.space_text(it)) for it in items if it.space_file is not None]
    replace_together([(output, text), *spaces])
    return output
