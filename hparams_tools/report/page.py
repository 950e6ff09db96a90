"""HTML building blocks of the report: escaping, inline JSON, inline figures, tables, the page shell.

Everything that reaches the page from an event file (names, values, tags,
paths) goes through :func:`e` (``html.escape``) or into an inline JSON block
that the page's script writes with ``textContent``; JSON blocks escape ``<``,
``>`` and ``&`` so they can never close their ``<script>`` element.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from importlib import resources
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .._format import format_number, json_safe

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def e(text: Any) -> str:
    """HTML-escape any value (quotes too, so the result is safe in attributes)."""
    return html.escape(str(text), quote=True)


def json_block(block_id: str, payload: Any) -> str:
    """An inline ``<script type="application/json">`` block that cannot break out of its element."""
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return f'<script type="application/json" id="{e(block_id)}">{text.translate(_JSON_ESCAPES)}</script>'


def plotly_figure(fig_id: str, fig: Any, caption: str = "", *, wide: bool = False) -> str:
    """A figure box drawn in the browser by plotly from an inline JSON spec."""
    import plotly.io as pio

    fig.update_layout(template="plotly_white")
    spec = pio.to_json(fig, validate=False, engine="json")
    return (
        f'<figure class="{"wide" if wide else ""}"><div class="plotly-box" data-fig="{e(fig_id)}"></div>'
        f"{json_block(fig_id, spec)}{_caption(caption)}</figure>"
    )


def image_figure(fig: Any, alt: str, caption: str = "", *, dpi: int = 80, wide: bool = False) -> str:
    """A matplotlib figure inlined as a PNG data URI (no file beside the report)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure class="{"wide" if wide else ""}"><img alt="{e(alt)}" src="data:image/png;base64,{data}">'
        f"{_caption(caption)}</figure>"
    )


def _caption(text: str) -> str:
    return f"<figcaption>{e(text)}</figcaption>" if text else ""


def notes_list(items: Iterable[str], cls: str = "notes") -> str:
    """An escaped bullet list (or nothing)."""
    items = [i for i in items if i]
    if not items:
        return ""
    return f'<ul class="{cls}">' + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def fmt(value: Any) -> str:
    """Compact text of a single value (a cell outside a table column): the package's one number format."""
    return format_number(value)


def column_format(values: Iterable[Any]) -> dict[str, Any] | None:
    """ONE number format for a whole column, so that its numbers line up and compare at a glance.

    ``{"t": "int"}`` for whole numbers; ``{"t": "fixed", "d": n}`` when the
    column spans less than four decades and no value is tiny or huge (``n``
    decimals give its smallest non-zero value three significant digits, at
    most 6); else ``{"t": "exp", "d": 2}`` for every number. ``None`` when the
    column holds no number. The page's script applies the same spec
    (``report.js``: ``formatNumber``).
    """
    nums = [v for v in (json_safe(x) for x in values) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums:
        return None
    if all(isinstance(v, int) or float(v).is_integer() for v in nums) and max(abs(v) for v in nums) < 1e15:
        return {"t": "int"}
    nonzero = [abs(v) for v in nums if v != 0]
    lo, hi = min(nonzero), max(nonzero)
    if lo < 1e-4 or hi >= 1e6 or hi / lo >= 1e4:
        return {"t": "exp", "d": 2}
    return {"t": "fixed", "d": int(min(6, max(0, 2 - math.floor(math.log10(lo)))))}


def format_cell(value: Any, spec: dict[str, Any] | None) -> str:
    """A cell's text under its column's :func:`column_format` (non-numbers as text, missing as empty)."""
    v = json_safe(value)
    if v is None:
        return ""
    if spec is None or isinstance(v, (bool, str)):
        return str(v)
    if spec["t"] == "int":
        return f"{int(round(v)):,}"
    if spec["t"] == "fixed":
        return f"{v:,.{spec['d']}f}"
    return f"{v:.{spec['d']}e}"


def table(frame: pd.DataFrame, *, index_name: str | None = None, cls: str = "",
          skipped: dict[str, str] | None = None) -> str:
    """A small escaped HTML table of a DataFrame (index as the first column), one number format per column.

    ``skipped`` maps a column the producer left empty to why: the reason is
    said in the column itself (one cell spanning its rows), not only in a note
    far below.
    """
    skipped = {k: v for k, v in (skipped or {}).items() if k in frame.columns}
    head = [index_name if index_name is not None else (frame.index.name or "")] + [str(c) for c in frame.columns]
    specs = [column_format(frame[c_].tolist()) for c_ in frame.columns]
    out = [f'<div class="scroll"><table class="{e(cls)}"><thead><tr>']
    out += [f"<th>{e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for i, (idx, row) in enumerate(frame.iterrows()):
        out.append(f"<tr><th scope=row>{e(idx)}</th>")
        for col, v, spec in zip(frame.columns, row, specs):
            if col in skipped:
                if i == 0:
                    out.append(f'<td class="skipped" rowspan="{len(frame)}">{e(skipped[col])}</td>')
                continue
            num = isinstance(json_safe(v), (int, float)) and not isinstance(v, (bool, np.bool_))
            out.append(f'<td class="{"num" if num else ""}">{e(format_cell(v, spec))}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def leaderboard(block_id: str, columns: Sequence[str], rows: list[list[Any]], *, best: str | None, status_col: int,
                page: int = 50) -> str:
    """The sortable, filterable leaderboard: data inline as JSON, rows drawn by the page's script."""
    formats = [column_format(r[i] for r in rows) for i in range(len(columns))]
    payload = {"columns": list(columns), "rows": rows, "formats": formats, "best": best, "status_col": status_col,
               "page": page}
    return (
        f'<div class="leaderboard-box" data-source="{e(block_id)}">{json_block(block_id, payload)}'
        '<div class="lb-controls"><input class="lb-filter" type="search" placeholder="filter sessions (any column)"'
        ' aria-label="filter sessions"><span class="lb-info muted"></span></div>'
        '<div class="lb-scroll"><table class="leaderboard"><thead></thead><tbody></tbody></table></div>'
        '<div class="lb-controls"><button class="lb-more" type="button">show more</button>'
        '<span class="muted">Click a column header to sort; click again to reverse.</span></div></div>'
    )


def _asset(name: str) -> str:
    return resources.files("hparams_tools.report").joinpath(name).read_text(encoding="utf-8")


def page(title: str, subtitle: str, toc: Sequence[tuple[str, str]], body: str, *, with_plotly: bool) -> str:
    """The whole document: inline CSS, inline plotly.js (from the installed plotly package) and the page script."""
    plotly_js = ""
    if with_plotly:
        from plotly.offline import get_plotlyjs

        # Inert text, run by the page's script only after the first screen is drawn: evaluating plotly.js
        # (4.6 MB) is most of the cost of opening a page, and the first screen needs no plotly figure.
        # plotly.min.js never contains "</script" (plotly's own offline mode inlines it the same way).
        plotly_js = f'<script type="text/plain" id="plotly-js">{get_plotlyjs()}</script>'

    nav = "".join(f'<a href="#{e(anchor)}">{e(label)}</a>' for anchor, label in toc)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:\">"
        f"<title>{e(title)}</title><style>{_asset('report.css')}</style></head><body>"
        f'<header class="top"><h1>{e(title)}</h1><p>{e(subtitle)}</p></header>'
        f'<nav class="toc">{nav}</nav><main>{body}</main>'
        f"{plotly_js}<script>{_asset('report.js')}</script></body></html>\n"
    )
