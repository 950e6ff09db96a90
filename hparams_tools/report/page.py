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


def table(frame: pd.DataFrame, *, index_name: str | None = None, cls: str = "") -> str:
    """A small escaped HTML table of a DataFrame (index as the first column)."""
    head = [index_name if index_name is not None else (frame.index.name or "")] + [str(c) for c in frame.columns]
    out = [f'<div class="scroll"><table class="{e(cls)}"><thead><tr>']
    out += [f"<th>{e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for idx, row in frame.iterrows():
        out.append(f"<tr><th scope=row>{e(idx)}</th>")
        for v in row:
            num = isinstance(json_safe(v), (int, float)) and not isinstance(v, (bool, np.bool_))
            out.append(f'<td class="{"num" if num else ""}">{e(format_number(v))}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def leaderboard(block_id: str, columns: Sequence[str], rows: list[list[Any]], *, best: str | None, status_col: int,
                page: int = 50) -> str:
    """The sortable, filterable leaderboard: data inline as JSON, rows drawn by the page's script."""
    payload = {"columns": list(columns), "rows": rows, "best": best, "status_col": status_col, "page": page}
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

        # plotly.min.js never contains "</script" (it is served inline by plotly's own offline mode)
        plotly_js = f"<script>{get_plotlyjs()}</script>"
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
