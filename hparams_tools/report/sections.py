"""The report's sections, each built from public results (Experiment, AnalysisResult, plot infos)."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .._format import json_safe
from ..errors import HParamsToolsError
from ..visualization import _common as c
from ..visualization import contour, curves, groups, history, importance, parallel, scatter, slices, surface
from . import page
from .page import e

if TYPE_CHECKING:  # pragma: no cover
    from .build import _Item

SECTIONS = ("leaderboard", "findings", "importance", "plots", "next-space", "data-quality")
MAX_OTHER_METRICS = 6


def _anchor(item: "_Item", name: str) -> str:
    return f"e{item.index + 1}-{name}"


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "unknown"
    return str(_dt.timedelta(seconds=int(round(seconds))))


def _status_counts(item: "_Item") -> str:
    counts = item.experiment.sessions["status"].value_counts()
    return ", ".join(f"{k}: {v:,}" for k, v in counts.items())


def overview(items: list["_Item"], value: str) -> str:
    """One column per logdir: what was run, how it went, the best configuration and score."""
    rows: dict[str, list[str]] = {k: [] for k in (
        "logdir", "description", "target", "sessions", "by status", "with a target value", "groups",
        "hyperparameters", "best score", "best session", "best configuration", "sweep time (first start to last end)",
        "compute time (sum of sessions)", "damaged records skipped")}
    for it in items:
        cells: dict[str, str] = {k: "" for k in rows}
        cells["logdir"] = e(it.logdir)
        if it.empty_reason is not None:
            cells["sessions"] = "0"
            cells["description"] = f'<span class="empty-note">No sessions: {e(it.empty_reason)}</span>'
        else:
            exp, d = it.experiment, it.data
            s = exp.sessions
            cells["description"] = e(exp.description)
            cells["target"] = e(f"{d.target} ({d.goal}, value {value})")
            cells["sessions"] = f"{len(s):,}"
            cells["by status"] = e(_status_counts(it))
            cells["with a target value"] = f"{len(d.scored):,}"
            grp = s["group"].astype(str)
            cells["groups"] = f"{grp[grp != ''].nunique():,}"
            cells["hyperparameters"] = f"{len(d.hparams)}"
            best = d.best_session()
            if best is not None:
                cells["best score"] = f"<b>{e(c.fmt(float(d.frame.at[best, c.TARGET])))}</b>"
                cells["best session"] = e(best)
                cells["best configuration"] = "<br>".join(
                    f"{e(h)} = {e(c.fmt(d.frame.at[best, h]))}" for h in exp.hparams.columns)
            start, end = s["start_time"].astype(float), s["end_time"].astype(float)
            if start.notna().any():
                cells["sweep time (first start to last end)"] = _duration(float(np.nanmax(np.r_[end, start]) - np.nanmin(start)))
                cells["compute time (sum of sessions)"] = _duration(float(np.nansum(end - start)))
            cells["damaged records skipped"] = f"{len(exp.damage):,}"
        for k in rows:
            rows[k].append(cells[k])
    head = "".join(f'<th><a href="#e{it.index + 1}">{e(it.label)}</a></th>' for it in items)
    body = "".join(f"<tr><th scope=row>{e(k)}</th>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>"
                   for k, vals in rows.items())
    return (f'<section id="overview" data-section="overview"><h2>Overview</h2><div class="scroll">'
            f'<table class="compare"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div></section>')


def comparison(items: list["_Item"]) -> str:
    """Best so far against trials and epochs, one line per logdir."""
    live = [it for it in items if it.data is not None]
    if not live:
        return ""
    info = history._get_history_info([it.data for it in live])
    title = "Comparison: best so far" if len(live) > 1 else "Progress: best so far"
    return (f'<section id="comparison" data-section="comparison"><h2>{title}</h2>'
            + page.plotly_figure("fig-history", history._render_plotly(info), " ".join(info.notes), wide=True)
            + "</section>")


def leaderboard(it: "_Item") -> str:
    """All sessions, best first; sortable and filterable in the page."""
    d, exp = it.data, it.experiment
    f = d.frame
    metrics = it.metrics
    others = [m for m in metrics.columns if m != d.target][:MAX_OTHER_METRICS]
    y = f[c.TARGET].to_numpy(dtype=float)
    failed = f[c.STATUS].astype(str).eq("FAILURE").to_numpy()
    key = np.where(np.isfinite(y) & ~failed, -y if d.goal == "maximize" else y, np.inf)
    order = np.argsort(key, kind="stable")
    rank = np.full(len(f), None, dtype=object)
    n_ranked = int(np.isfinite(key).sum())
    rank[order[:n_ranked]] = np.arange(1, n_ranked + 1)
    hp_names = [str(h) for h in exp.hparams.columns]
    cols = ["rank", "session", d.target] + hp_names + ["status", "group"] + others + ["duration (s)"]
    duration = (f[c.END].astype(float) - f[c.START].astype(float)).to_numpy()
    hp = exp.hparams.reindex(index=f.index, columns=hp_names)
    om = metrics.reindex(index=f.index, columns=others)
    parts = [rank.tolist(), list(f.index), y.tolist()] + [hp[h].tolist() for h in hp.columns]
    parts += [f[c.STATUS].tolist(), f[c.GROUP].tolist()] + [om[m].tolist() for m in others] + [duration.tolist()]
    rows = [[json_safe(v, digits=6) for v in row] for row in zip(*parts)]
    rows = [rows[i] for i in order]
    return page.leaderboard(f"lb-{it.index + 1}", cols, rows, best=d.best_session(), status_col=3 + len(hp_names))


def findings(it: "_Item") -> str:
    """The analysis' plain-language findings."""
    if it.analysis is None:
        return f'<p class="note">No analysis: {e(it.analysis_error or "not run")}</p>'
    a = it.analysis
    head = (f'<p class="note">Target {e(a.target)} ({e(a.goal)}), {a.n_sessions_used:,} of {a.n_sessions:,} sessions used, '
            f"seed {a.seed}.</p>")
    return head + (page.notes_list(a.findings, "findings") or '<p class="note">No notable findings.</p>')


def importance_section(it: "_Item") -> str:
    """The importance figure (every method side by side; OLS with 95% intervals) and the numbers."""
    if it.analysis is None:
        return f'<p class="note">No importances: {e(it.analysis_error or "no analysis")}</p>'
    a = it.analysis
    out: list[str] = []
    tables: list[str] = []
    try:
        fig = importance._render_matplotlib(importance._get_importance_info(a))
        out.append(page.image_figure(fig, "importance by method and OLS coefficients", wide=True))
    except HParamsToolsError as exc:
        out.append(f'<p class="note">Importance plot not drawn: {e(exc)}</p>')
    if getattr(a, "importance", None) is not None and len(a.importance):
        tables.append("<h3>Importance by method</h3>" + page.table(a.importance, index_name="hyperparameter"))
    inter = getattr(a, "interactions", None)
    if inter is not None and len(inter) and {"a", "b"} <= set(inter.columns):
        top = inter.head(10).set_index(["a", "b"])
        top.index = [f"{x} × {y}" for x, y in top.index]
        tables.append("<h3>Strongest interactions (Friedman's H)</h3>" + page.table(top, index_name="pair"))
    if getattr(a, "correlation", None) is not None and len(a.correlation):
        tables.append("<h3>Correlation with the target</h3>" + page.table(a.correlation, index_name="column"))
    out.append('<div class="tables">' + "".join(f"<div>{t}</div>" for t in tables) + "</div>")
    return "".join(out)


def _try(it: "_Item", name: str, fn: Callable[[], tuple[str, list[str]]]) -> str:
    try:
        html, notes = fn()
    except HParamsToolsError as exc:
        it.notes.append(f"{name} not drawn: {exc}")
        return ""
    it.notes.extend(f"{name}: {n}" for n in notes if n.startswith(("Drawing a random sample", "Showing")))
    return html


def plots(it: "_Item", *, seed: int, max_points: int) -> str:
    """Every plot of one logdir: interactive (plotly) where interaction helps, images otherwise."""
    d = it.data
    n = it.index + 1
    out: list[str] = []

    def plotly(fid: str, info: Any, render: Callable[[Any], Any], wide: bool = False) -> tuple[str, list[str]]:
        return page.plotly_figure(f"fig-{n}-{fid}", render(info), " ".join(info.notes), wide=wide), list(info.notes)

    def image(info: Any, render: Callable[[Any], Any], alt: str, wide: bool = False) -> tuple[str, list[str]]:
        # the image already carries its notes under the plot: no caption repeating them
        return page.image_figure(render(info), alt, wide=wide), list(info.notes)

    out.append(_try(it, "parallel coordinates", lambda: plotly(
        "parallel", parallel._get_parallel_info(d, max_points=max_points, seed=seed), parallel._render_plotly, True)))
    cinfo: list[Any] = []

    def contour_info():
        if not cinfo:
            cinfo.append(contour._get_contour_info(d, max_points=max_points, seed=seed))
        return cinfo[0]

    out.append(_try(it, "contour", lambda: plotly("contour", contour_info(), contour._render_plotly)))
    out.append(_try(it, "surface", lambda: plotly("surface", contour_info(), surface._render_plotly)))
    out.append(_try(it, "3D scatter", lambda: plotly(
        "scatter3d", scatter._get_scatter_info(d, k=2, max_points=max_points, seed=seed, numeric_first=True),
        scatter._render_plotly_3d)))
    out.append(_try(it, "slice plots", lambda: image(
        slices._get_slices_info(d, max_points=max_points, seed=seed), slices._render_matplotlib,
        "target against each hyperparameter", True)))
    out.append(_try(it, "scatter matrix", lambda: image(
        scatter._get_scatter_info(d, k=4, max_points=max_points, seed=seed), scatter._render_matrix, "scatter matrix")))
    out.append(_try(it, "learning curves", lambda: plotly(
        "curves", curves._get_curves_info(d, seed=seed), curves._render_plotly, True)))
    out.append(_try(it, "group means", lambda: image(groups._get_groups_info(d), groups._render_matplotlib, "group means")))
    return '<div class="plots">' + "".join(out) + "</div>"


def space_text(it: "_Item") -> str:
    """The suggested space file: the analysis' own YAML (with its comments), else rendered here."""
    a = it.analysis
    if hasattr(a, "space_yaml"):
        return a.space_yaml()
    from ..space import dump_space

    header = (f"Suggested next search space for {it.logdir}\n"
              f"from {len(it.experiment.sessions):,} sessions (target {it.data.target}, {it.data.goal}).")
    return dump_space(a.next_space, comments=getattr(a, "next_space_comments", None), header=header)


def next_space(it: "_Item") -> str:
    """The suggested space file's content and the exact command to run it."""
    from .build import next_space_command

    a = it.analysis
    if a is None or getattr(a, "next_space", None) is None:
        return f'<p class="note">No suggestion: {e(it.analysis_error or "the analysis made none")}</p>'
    text = space_text(it)
    where = str(it.space_file) if it.space_file else "next_space.yaml"
    saved = (f'<p class="note">Saved as {e(it.space_file)}.</p>' if it.space_file
             else '<p class="note">Save the text below as next_space.yaml.</p>')
    return (saved + f'<pre class="yaml">{e(text)}</pre><p>Run it:</p>'
            f'<code class="cmd">{e(next_space_command(where, it.logdir))}</code>')


def data_quality(it: "_Item") -> str:
    """What was dropped, imputed, sampled or skipped, and damaged files."""
    if it.empty_reason is not None:
        return page.notes_list([it.empty_reason])
    exp, d = it.experiment, it.data
    notes: list[str] = []
    missing = int((~np.isfinite(d.frame[c.TARGET].to_numpy(dtype=float))).sum())
    if missing:
        notes.append(f"{missing:,} session(s) have no value for {d.target} (failed, still running, or never logged it).")
    if it.analysis is not None:
        notes += [f"Analysis: {n}" for n in it.analysis.notes]
    elif it.analysis_error:
        notes.append(f"Analysis not run: {it.analysis_error}")
    notes += it.notes
    out = page.notes_list(notes) or '<p class="note">Nothing was dropped, imputed or skipped.</p>'
    if exp.damage:
        dmg = pd.DataFrame([{"file": x.path, "offset": x.offset, "reason": x.reason} for x in exp.damage[:200]])
        out += f"<h3>Damaged records skipped ({len(exp.damage):,})</h3>" + page.table(dmg.set_index("file"), index_name="file")
    return out


def experiment_section(it: "_Item") -> str:
    """Every per-logdir section."""
    head = f'<section class="experiment" id="e{it.index + 1}"><h2>{e(it.label)} <span class="muted">({e(it.logdir)})</span></h2>'
    if it.empty_reason is not None:
        return (head + f'<div class="empty" data-section="empty">No sessions to report: {e(it.empty_reason)}</div>'
                + _sub(it, "data-quality", "Data quality", data_quality(it)) + "</section>")
    parts = [
        _sub(it, "leaderboard", "Leaderboard", leaderboard(it)),
        _sub(it, "findings", "Findings", findings(it)),
        _sub(it, "importance", "Importance", importance_section(it)),
        _sub(it, "plots", "Plots", it.plots_html),
        _sub(it, "next-space", "Suggested next search space", next_space(it)),
        _sub(it, "data-quality", "Data quality", data_quality(it)),
    ]
    return head + "".join(parts) + "</section>"


def _sub(it: "_Item", name: str, title: str, content: str) -> str:
    return f'<section id="{_anchor(it, name)}" data-section="{name}"><h3>{e(title)}</h3>{content}</section>'


def body(items: list["_Item"], *, value: str, seed: int, max_points: int) -> tuple[str, list[tuple[str, str]]]:
    """The page body and its table of contents."""
    for it in items:
        if it.data is not None:
            it.metrics = it.experiment.metrics(value)
    toc = [("overview", "Overview"), ("comparison", "Best so far")]
    for it in items:
        toc.append((f"e{it.index + 1}", it.label))
        if it.empty_reason is None:
            toc += [(_anchor(it, s), s.replace("-", " ")) for s in SECTIONS] if len(items) == 1 else []
    top = overview(items, value) + comparison(items)
    if len(items) == 1:  # one logdir: the overview table and the progress plot side by side
        top = f'<div class="top-row">{top}</div>'
    html = top + "".join(experiment_section(it) for it in items)
    return html, toc
