"""The page's building blocks: one number format per column, reasons said in place."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hparams_tools.report import page


def test_one_format_per_column():
    assert page.column_format([1, 2, 16.0]) == {"t": "int"}
    spec = page.column_format([0.35, 0.0012, np.nan, None])
    assert spec == {"t": "fixed", "d": 5}
    assert [page.format_cell(v, spec) for v in (0.35, 0.0012, np.nan)] == ["0.35000", "0.00120", ""]
    wide = page.column_format([1e-5, 0.3])  # four decades or more: scientific for every number
    assert [page.format_cell(v, wide) for v in (1e-5, 0.3)] == ["1.00e-05", "3.00e-01"]
    assert page.column_format(["adam", None]) is None


def test_table_says_why_a_column_is_empty_in_the_column():
    frame = pd.DataFrame({"forest": [0.5, 0.3], "permutation": [np.nan, np.nan]}, index=["lr", "dropout"])
    html = page.table(frame, skipped={"permutation": "not computed: 15 rows <20>"})
    assert html.count('class="skipped"') == 1 and 'rowspan="2"' in html
    assert "not computed: 15 rows &lt;20&gt;" in html
    assert "0.500" in html and "0.300" in html  # one format in the forest column


def test_leaderboard_carries_the_column_formats():
    html = page.leaderboard("lb", ["rank", "lr"], [[1, 0.001], [2, 0.0005]], best=None, status_col=9)
    assert '"formats":[{"t":"int"},{"t":"fixed","d":6}]' in html  # 0.000500: three significant digits
