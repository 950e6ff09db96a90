"""write_report: read each logdir, analyse it, draw the plots and assemble one self-contained HTML file.

The report never parses event files itself: it calls the public API
(:func:`hparams_tools.read_experiment`, :func:`hparams_tools.analysis.analyze`,
the plot registry of :mod:`hparams_tools.visualization`) and only arranges
their results. :func:`write_report` reads as its steps, like TensorBoard's
``list_session_groups.Handler.run()``: check the output, load, resolve the
targets, analyse, write the space files, build the sections, write the page.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import __version__
from .._files import check_writable, is_stream, replace_together, safe_join
from ..errors import HParamsToolsError, LogdirError
from ..space import next_space_command  # re-exported by hparams_tools.report
from ..visualization import MAX_POINTS, plot_data
from . import page, sections
from .item import ReportItem

SpaceFileCallback = Callable[[Path, str], None]
"""Called with (space file written, the command that runs it)."""


def _run_command(space_file: Path | None, logdir: str) -> str:
    # the one place the report asks for the next-space command (its text belongs to the space format)
    return next_space_command(space_file or "next_space.yaml", logdir)


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
    max_points: int = MAX_POINTS,
    on_space_file: SpaceFileCallback | None = None,
) -> Path:
    """Write one self-contained, offline HTML report of one or several sweeps.

    Sections: overview (sessions by status, best configuration and score,
    sweep time; several logdirs side by side), best-so-far comparison, and
    per logdir a sortable leaderboard, findings, importances, plots, the
    suggested next space (YAML and the command to run it) and data-quality
    notes. Scripts (plotly.js from the installed plotly), styles and images
    are inline; the page makes no network request. Figures are drawn when
    they scroll near the viewport, so the first screen is ready quickly.

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
            in the output's directory (beside the report, wherever the current directory is).
        max_points: Sessions drawn at most per plot (a seeded sample beyond, said in the plot).
        on_space_file: Called with each space file written and the command that runs it
            (the CLI prints them; the page says them too).

    Returns:
        The path of the written report.

    Raises:
        OutputError: when ``output`` cannot be written (checked before any work).
        LogdirError: when a logdir does not exist.
        UnknownMetricError: when ``target`` is not a metric of an experiment.
    """
    _check_max_points(max_points)
    output = check_writable(Path(output))
    _check_value_mode(value)
    items = _unique_labels([_load(i, s, progress) for i, s in enumerate(_as_list(logdirs_or_experiments))])
    # resolve (and validate) every target before any long work
    items = [_with_plot_data(it, target, goal, value) for it in items]
    items = _analysed(items, value, seed, progress)
    # nothing is written "beside" /dev/null or a FIFO
    space_files = _plan_spaces(items, output, several=len(items) > 1) if write_space and not is_stream(output) else {}
    body, toc = _body(items, space_files, value=value, seed=seed, max_points=max_points)
    _write_page(output, title, items, value, seed, body, toc, space_files)
    _announce_spaces(items, space_files, on_space_file)
    return output


def _check_max_points(max_points: int) -> None:
    if not isinstance(max_points, int) or max_points < 10:
        raise HParamsToolsError(f"max_points must be an integer of at least 10, not {max_points!r}")


def _check_value_mode(value: str) -> None:
    if value != "last":
        from ..io.experiment import parse_value_mode

        parse_value_mode(value)


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, (str, os.PathLike)) or not isinstance(x, Sequence):
        out = [x]
    else:
        out = list(x)
    if not out:
        raise LogdirError("no logdir given")
    return out


def _load(index: int, source: Any, progress: bool) -> ReportItem:
    from ..io.experiment import Experiment
    from ..io.read import read_experiment

    if isinstance(source, Experiment):
        exp = source
    else:
        path = Path(source)
        if not path.is_dir():
            raise LogdirError(f"logdir {path} does not exist or is not a directory")
        try:
            exp = read_experiment(path, progress=progress)
        except LogdirError as exc:  # an existing directory with no sessions: the report says so
            return ReportItem(index, path.name or str(path), str(path), empty_reason=str(exc))
    empty = f"{exp.logdir} holds no HParams sessions" if len(exp.sessions) == 0 else None
    return ReportItem(index, exp.logdir.name or str(exp.logdir), str(exp.logdir), experiment=exp, empty_reason=empty)


def _unique_labels(items: list[ReportItem]) -> list[ReportItem]:
    seen: dict[str, int] = {}
    out = []
    for it in items:
        n = seen.get(it.label, 0)
        seen[it.label] = n + 1
        out.append(replace(it, label=f"{it.label} ({n + 1})") if n else it)
    return out


def _with_plot_data(it: ReportItem, target: str | None, goal: str | None, value: str) -> ReportItem:
    if not it.has_sessions:
        return it
    data = plot_data(it.experiment, target=target, goal=goal, value=value, label=it.label)
    return replace(it, plot_data=data, metrics=it.experiment.metrics(value))


def _analysed(items: list[ReportItem], value: str, seed: int, progress: bool) -> list[ReportItem]:
    from tqdm.auto import tqdm

    live = [it for it in items if it.has_sessions]
    out = []
    with tqdm(total=len(live), desc="report: analysis", unit="logdir", disable=not progress) as bar:
        for it in items:
            if it.has_sessions:
                it = _analyse(it, value, seed, progress)
                bar.update()
            out.append(it)
    return out


def _analyse(it: ReportItem, value: str, seed: int, progress: bool) -> ReportItem:
    from ..analysis import analyze

    d = it.plot_data
    try:
        result = analyze(it.experiment, target=d.target, goal=d.goal, value=value, seed=seed, progress=progress)
    except HParamsToolsError as exc:
        return replace(it, analysis_error=str(exc))
    # re-rank the hyperparameters by the analysis' importance
    data = plot_data(it.experiment, target=d.target, goal=d.goal, value=value, analysis=result, label=it.label)
    return replace(it, analysis=result, plot_data=data)


def space_file_name(output: Path, index: int, several: bool) -> Path:
    """Where the report writes a logdir's suggested space: beside the report, named after it."""
    return safe_join(output.parent, f"{output.stem}_next_space{f'_{index + 1}' if several else ''}.yaml")


def _plan_spaces(items: list[ReportItem], output: Path, *, several: bool) -> dict[int, Path]:
    """Where each analysed logdir's next space goes (written with the page, so that the two always agree)."""
    return {it.index: space_file_name(output, it.index, several) for it in items
            if it.analysis is not None and getattr(it.analysis, "next_space", None) is not None}


def _announce_spaces(items: list[ReportItem], space_files: dict[int, Path],
                     on_space_file: SpaceFileCallback | None) -> None:
    if on_space_file is None:
        return
    for it in items:
        if it.index in space_files:
            on_space_file(space_files[it.index], _run_command(space_files[it.index], it.logdir))


def _experiment_html(it: ReportItem, space_file: Path | None, *, seed: int, max_points: int) -> str:
    """One logdir's sections; the notes every section returns end up in its data-quality section."""
    if not it.has_sessions:
        return sections.experiment(it, [sections.data_quality(it, [])])
    parts = [
        sections.leaderboard(it),
        sections.findings(it),
        sections.importance(it),
        sections.plots(it, seed=seed, max_points=max_points),
        sections.next_space(it, space_file, _run_command(space_file, it.logdir)),
    ]
    notes = [n for p in parts for n in p.notes]
    return sections.experiment(it, parts + [sections.data_quality(it, notes)])


def _body(items: list[ReportItem], space_files: dict[int, Path], *, value: str, seed: int,
          max_points: int) -> tuple[str, list[tuple[str, str]]]:
    top = sections.overview(items, value) + sections.comparison(items).html
    if len(items) == 1:  # one logdir: the overview table and the progress plot side by side
        top = f'<div class="top-row">{top}</div>'
    html = top + "".join(_experiment_html(it, space_files.get(it.index), seed=seed, max_points=max_points)
                         for it in items)
    return html, sections.toc(items)


def _write_page(output: Path, title: str | None, items: list[ReportItem], value: str, seed: int, body: str,
                toc: list[tuple[str, str]], space_files: dict[int, Path]) -> None:
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = title or "HParams report: " + ", ".join(it.label for it in items)
    subtitle = f"{len(items)} logdir(s) · generated {when} by hparams-tools {__version__} · value mode {value!r}, seed {seed}"
    text = page.page(title, subtitle, toc, body, with_plotly=True)
    spaces = [(path, sections.space_text(it)) for it in items if (path := space_files.get(it.index)) is not None]
    replace_together([(output, text), *spaces])
