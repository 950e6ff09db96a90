"""The report's sections, each built from public results (Experiment, AnalysisResult, the plot registry).

Every section function takes a :class:`~hparams_tools.report.item.ReportItem`
and returns a :class:`Section`: its HTML and its notes. Sections never
collect each other's notes; the writer (:mod:`hparams_tools.report.build`)
hands the notes of all sections to :func:`data_quality`.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._format import json_safe
from ..errors import HParamsToolsError
from ..visualization import END, GROUP, PLOTS, START, STATUS, TARGET, Note
from ..visualization import notes as N
from . import page
from .item import ReportItem
from .page import e

SECTIONS = ("leaderboard", "findings", "importance", "plots", "next-space", "data-quality")
TITLES = {"leaderboard": "Leaderboard", "findings": "Findings", "importance": "Importance", "plots": "Plots",
          "next-space": "Suggested next search space", "data-quality": "Data quality"}
MAX_OTHER_METRICS = 6


class Section(NamedTuple):
    """One section of a logdir: its name (anchor and ``data-section``), its HTML and the notes it made."""

    name: str
    html: str
    notes: list[Note]


class ReportPlot(NamedTuple):
    """How the report shows one plot kind of :data:`~hparams_tools.visualization.PLOTS`."""

    kind: str
    title: str  # names the plot in notes ("contour not drawn: ...")
    interactive: bool  # plotly (drawn lazily in the page) or a matplotlib image
    wide: bool  # spans the whole row of the plot grid


# interactive where interaction helps (brushing, rotating, hovering), an image otherwise
REPORT_PLOTS = (
    ReportPlot("parallel", "parallel coordinates", True, True),
    ReportPlot("contour", "contour", True, False),
    ReportPlot("surface", "surface", True, False),
    ReportPlot("scatter3d", "3D scatter", True, False),
    ReportPlot("slices", "target against each hyperparameter", False, True),
    ReportPlot("scatter-matrix", "scatter matrix", False, True),
    ReportPlot("curves", "learning curves", True, True),
    ReportPlot("groups", "group means", False, False),
)


def _fmt(value: Any) -> str:
    # the report's one cell formatter (tables format per column, see page.column_format)
    return page.fmt(value)


def _anchor(item: ReportItem, name: str) -> str:
    return f"{item.anchor}-{name}"


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "unknown"
    return str(_dt.timedelta(seconds=int(round(seconds))))


def toc(items: list[ReportItem]) -> list[tuple[str, str]]:
    """The table of contents: the overview, then each logdir (and its sections when there is one)."""
    out = [("overview", "Overview"), ("comparison", "Best so far")]
    for it in items:
        out.append((it.anchor, it.label))
        if it.has_sessions and len(items) == 1:
            out += [(_anchor(it, s), s.replace("-", " ")) for s in SECTIONS]
    return out


def overview(items: list[ReportItem], value: str) -> str:
    """One column per logdir: what was run, how it went, the best configuration and score."""
    rows: dict[str, list[str]] = {k: [] for k in (
        "logdir", "description", "target", "sessions", "by status", "with a target value", "groups",
        "hyperparameters", "best score", "best session", "best configuration", "sweep time (first start to last end)",
        "compute time (sum of sessions)", "damaged records skipped")}
    for it in items:
        cells = _overview_cells(it, value) if it.has_sessions else {
            "logdir": e(it.logdir), "sessions": "0",
            "description": f'<span class="empty-note">No sessions: {e(it.empty_reason)}</span>'}
        for k in rows:
            rows[k].append(cells.get(k, ""))
    head = "".join(f'<th><a href="#{it.anchor}">{e(it.label)}</a></th>' for it in items)
    body = "".join(f"<tr><th scope=row>{e(k)}</th>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>"
                   for k, vals in rows.items())
    return (f'<section id="overview" data-section="overview"><h2>Overview</h2><div class="scroll">'
            f'<table class="compare"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div></section>')


def _overview_cells(it: ReportItem, value: str) -> dict[str, str]:
    exp, d = it.experiment, it.plot_data
    s = exp.sessions
    grp = s["group"].astype(str)
    cells = {
        "logdir": e(it.logdir), "description": e(exp.description), "target": e(f"{d.target} ({d.goal}, value {value})"),
        "sessions": f"{len(s):,}", "by status": e(", ".join(f"{k}: {v:,}" for k, v in s["status"].value_counts().items())),
        "with a target value": f"{len(d.scored):,}", "groups": f"{grp[grp != ''].nunique():,}",
        "hyperparameters": f"{len(d.hparams)}", "damaged records skipped": f"{len(exp.damage):,}",
    }
    best = d.best_session()
    if best is not None:
        cells["best score"] = f"<b>{e(_fmt(float(d.frame.at[best, TARGET])))}</b>"
        cells["best session"] = e(best)
        cells["best configuration"] = "<br>".join(f"{e(h)} = {e(_fmt(d.frame.at[best, h]))}" for h in exp.hparams.columns)
    start, end = s["start_time"].astype(float), s["end_time"].astype(float)
    if start.notna().any():
        cells["sweep time (first start to last end)"] = _duration(float(np.nanmax(np.r_[end, start]) - np.nanmin(start)))
        cells["compute time (sum of sessions)"] = _duration(float(np.nansum(end - start)))
    return cells


def comparison(items: list[ReportItem]) -> Section:
    """Best so far against trials and epochs, one line per logdir."""
    datas = [it.plot_data for it in items if it.plot_data is not None]
    if not datas:
        return Section("comparison", "", [])
    kind = PLOTS["history"]
    info = kind.info(datas)
    title = "Comparison: best so far" if len(datas) > 1 else "Progress: best so far"
    # an image: the first screen then needs no plotly.js, which the page evaluates only after drawing it
    html = (f'<section id="comparison" data-section="comparison"><h2>{title}</h2>'
            + page.image_figure(kind.matplotlib(info), "best so far against trials and epochs", wide=True)
            + "</section>")
    return Section("comparison", html, list(info.notes))


def leaderboard(it: ReportItem) -> Section:
    """All sessions, best first; sortable and filterable in the page."""
    d, exp = it.plot_data, it.experiment
    f = d.frame
    metrics = it.metrics if it.metrics is not None else pd.DataFrame(index=f.index)
    others = [m for m in metrics.columns if m != d.target][:MAX_OTHER_METRICS]
    y = f[TARGET].to_numpy(dtype=float)
    failed = f[STATUS].astype(str).eq("FAILURE").to_numpy()
    key = np.where(np.isfinite(y) & ~failed, -y if d.goal == "maximize" else y, np.inf)
    order = np.argsort(key, kind="stable")
    rank = np.full(len(f), None, dtype=object)
    n_ranked = int(np.isfinite(key).sum())
    rank[order[:n_ranked]] = np.arange(1, n_ranked + 1)
    hp_names = [str(h) for h in exp.hparams.columns]
    cols = ["rank", "session", d.target] + hp_names + ["status", "group"] + others + ["duration (s)"]
    duration = (f[END].astype(float) - f[START].astype(float)).to_numpy()
    hp = exp.hparams.reindex(index=f.index, columns=hp_names)
    om = metrics.reindex(index=f.index, columns=others)
    parts = [rank.tolist(), list(f.index), y.tolist()] + [hp[h].tolist() for h in hp.columns]
    parts += [f[STATUS].tolist(), f[GROUP].tolist()] + [om[m].tolist() for m in others] + [duration.tolist()]
    rows = [[json_safe(v, digits=6) for v in row] for row in zip(*parts)]
    rows = [rows[i] for i in order]
    html = page.leaderboard(f"lb-{it.index + 1}", cols, rows, best=d.best_session(), status_col=3 + len(hp_names))
    return Section("leaderboard", html, [])


def findings(it: ReportItem) -> Section:
    """The analysis' plain-language findings."""
    if it.analysis is None:
        return Section("findings", f'<p class="note">No analysis: {e(it.analysis_error or "not run")}</p>', [])
    a = it.analysis
    head = (f'<p class="note">Target {e(a.target)} ({e(a.goal)}), {a.n_sessions_used:,} of {a.n_sessions:,} sessions used, '
            f"seed {a.seed}.</p>")
    body = page.notes_list(a.findings, "findings") or '<p class="note">No notable findings.</p>'
    return Section("findings", head + body, [])


def _skipped_methods(a: Any) -> dict[str, str]:
    """Importance columns the analysis left empty, with the reason said where the numbers would be."""
    from ..analysis.importance import MIN_HOLDOUT

    imp = a.importance
    reasons: dict[str, str] = {}
    for col in imp.columns:
        if imp[col].notna().any():
            continue
        if col.startswith("permutation") and a.n_sessions_used < MIN_HOLDOUT:
            reasons[col] = (f"not computed: {a.n_sessions_used} rows, and a held-out split for permutation "
                            f"importance needs {MIN_HOLDOUT}")
        else:
            reasons[col] = "not computed (too few rows or a method unavailable; see the data-quality notes)"
    return reasons


def importance(it: ReportItem) -> Section:
    """The importance figure (every method side by side; OLS with 95% intervals) and the numbers."""
    if it.analysis is None:
        return Section("importance", f'<p class="note">No importances: {e(it.analysis_error or "no analysis")}</p>', [])
    a = it.analysis
    out: list[str] = []
    notes: list[Note] = []
    kind = PLOTS["importance"]
    try:
        out.append(page.image_figure(kind.matplotlib(kind.info(a)), "importance by method and OLS coefficients",
                                     wide=True))
    except HParamsToolsError as exc:
        out.append(f'<p class="note">Importance plot not drawn: {e(exc)}</p>')
        notes.append(Note(N.SKIPPED, f"importance plot not drawn: {exc}"))
    tables: list[str] = []
    if getattr(a, "importance", None) is not None and len(a.importance):
        tables.append("<h3>Importance by method</h3>"
                      + page.table(a.importance, index_name="hyperparameter", skipped=_skipped_methods(a)))
    inter = getattr(a, "interactions", None)
    if inter is not None and len(inter) and {"a", "b"} <= set(inter.columns):
        top = inter.head(10).set_index(["a", "b"])
        top.index = [f"{x} × {y}" for x, y in top.index]
        tables.append("<h3>Strongest interactions (Friedman's H)</h3>" + page.table(top, index_name="pair"))
    if getattr(a, "correlation", None) is not None and len(a.correlation):
        tables.append("<h3>Correlation with the target</h3>" + page.table(a.correlation, index_name="column"))
    out.append('<div class="tables">' + "".join(f"<div>{t}</div>" for t in tables) + "</div>")
    return Section("importance", "".join(out), notes)


def _plot_html(it: ReportItem, rp: ReportPlot, info: Any) -> str:
    kind = PLOTS[rp.kind]
    if rp.interactive:
        caption = " ".join(N.texts(info.notes))
        return page.plotly_figure(f"fig-{it.index + 1}-{rp.kind}", kind.plotly(info), caption, wide=rp.wide)
    # the image already carries its notes under the plot: no caption repeating them
    return page.image_figure(kind.matplotlib(info), rp.title, wide=rp.wide)


def plots(it: ReportItem, *, seed: int, max_points: int) -> Section:
    """Every plot of one logdir, in :data:`REPORT_PLOTS` order; a plot that cannot be drawn is a note."""
    out: list[str] = []
    notes: list[Note] = []
    infos: dict[Any, Any] = {}  # info function -> info or its error: contour and surface share one forest fit
    for rp in REPORT_PLOTS:
        kind = PLOTS[rp.kind]
        try:
            if kind.info not in infos:
                try:
                    infos[kind.info] = kind.info(it.plot_data, seed=seed, max_points=max_points)
                except HParamsToolsError as exc:
                    infos[kind.info] = exc
            info = infos[kind.info]
            if isinstance(info, HParamsToolsError):
                raise info
            out.append(_plot_html(it, rp, info))
        except HParamsToolsError as exc:
            notes.append(Note(N.SKIPPED, f"{rp.title} not drawn: {exc}"))
            continue
        notes += [Note(n.kind, f"{rp.title}: {n.text}") for n in info.notes if n.kind in N.DATA_QUALITY]
    return Section("plots", '<div class="plots">' + "".join(out) + "</div>", notes)


def space_text(it: ReportItem) -> str:
    """The suggested space file: the analysis' own YAML (with its comments), else rendered here."""
    a = it.analysis
    if hasattr(a, "space_yaml"):
        return a.space_yaml()
    from ..space import dump_space

    header = (f"Suggested next search space for {it.logdir}\n"
              f"from {len(it.experiment.sessions):,} sessions (target {it.plot_data.target}, {it.plot_data.goal}).")
    return dump_space(a.next_space, comments=getattr(a, "next_space_comments", None), header=header)


def next_space(it: ReportItem, space_file: Path | None, command: str) -> Section:
    """The suggested space file's content, where it was written, and the exact command that runs it."""
    a = it.analysis
    if a is None or getattr(a, "next_space", None) is None:
        reason = it.analysis_error or "the analysis made none"
        return Section("next-space", f'<p class="note">No suggestion: {e(reason)}</p>', [])
    if space_file is not None:
        saved = f'<p class="note">Written beside this report as <code>{e(space_file.resolve())}</code>.</p>'
    else:
        saved = '<p class="note">Not written to a file: save the text below as next_space.yaml.</p>'
    html = (saved + f'<pre class="yaml">{e(space_text(it))}</pre><p>Run it:</p>'
            f'<code class="cmd">{e(command)}</code>')
    return Section("next-space", html, [])


def data_quality(it: ReportItem, notes: list[Note]) -> Section:
    """What was dropped, imputed, sampled or skipped, and damaged files; ``notes`` are the other sections'."""
    if not it.has_sessions:
        return Section("data-quality", page.notes_list([it.empty_reason]), [])
    exp, d = it.experiment, it.plot_data
    lines: list[str] = []
    missing = int((~np.isfinite(d.frame[TARGET].to_numpy(dtype=float))).sum())
    if missing:
        lines.append(f"{missing:,} session(s) have no value for {d.target} (failed, still running, or never logged it).")
    if it.analysis is not None:
        lines += [f"Analysis: {n}" for n in it.analysis.notes]
    elif it.analysis_error:
        lines.append(f"Analysis not run: {it.analysis_error}")
    lines += [n.text for n in notes if n.kind in N.DATA_QUALITY]
    out = page.notes_list(lines) or '<p class="note">Nothing was dropped, imputed or skipped.</p>'
    if exp.damage:
        dmg = pd.DataFrame([{"file": x.path, "offset": x.offset, "reason": x.reason} for x in exp.damage[:200]])
        out += f"<h3>Damaged records skipped ({len(exp.damage):,})</h3>" + page.table(dmg.set_index("file"), index_name="file")
    return Section("data-quality", out, [])


def experiment(it: ReportItem, parts: list[Section]) -> str:
    """One logdir's section around its sub-sections (in the order given)."""
    head = f'<section class="experiment" id="{it.anchor}"><h2>{e(it.label)} <span class="muted">({e(it.logdir)})</span></h2>'
    empty = "" if it.has_sessions else (
        f'<div class="empty" data-section="empty">No sessions to report: {e(it.empty_reason)}</div>')
    subs = "".join(f'<section id="{_anchor(it, p.name)}" data-section="{p.name}"><h3>{e(TITLES[p.name])}</h3>{p.html}</section>'
                   for p in parts)
    return head + empty + subs + "</section>"
