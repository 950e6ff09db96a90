"""The plot registry: every kind draws the same info with matplotlib and plotly; titles, log ticks and notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hparams_tools.visualization import PLOT_KINDS, PLOTS, Note, plot_data
from hparams_tools.visualization import _common as c
from hparams_tools.visualization import notes as N


def _sweep(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"learning_rate": 10 ** rng.uniform(-5, -1, n), "dropout": rng.uniform(0, 0.5, n),
                       "optimizer": rng.choice(["adam", "sgd"], n)}, index=[f"run-{i:03d}" for i in range(n)])
    df["accuracy"] = 1 - 0.05 * (np.log10(df.learning_rate) + 3) ** 2 - (df.dropout - 0.2) ** 2
    df["group"] = [f"g{i // 2}" for i in range(n)]  # pairs of repeats: group means have something to average
    return df


def test_the_registry_lists_every_cli_kind_with_its_public_function():
    assert list(PLOT_KINDS) == list(PLOTS)
    for kind, spec in PLOTS.items():
        assert PLOT_KINDS[kind][0] is spec.plot and spec.description
        assert spec.input in {"data", "analysis", "datas"}
        assert not spec.plot.__name__.startswith("_") and spec.info.__name__.startswith("_")


@pytest.mark.parametrize("kind", [k for k, s in PLOTS.items() if s.input == "data" and k != "curves"])
def test_each_table_kind_renders_one_info_with_both_backends(kind):
    from matplotlib.figure import Figure
    import plotly.graph_objects as go

    spec = PLOTS[kind]
    info = spec.info(plot_data(_sweep(), target="accuracy"), seed=0, max_points=2000)
    assert all(isinstance(n, Note) and n.kind in N.KINDS and n.text for n in info.notes)
    assert isinstance(spec.matplotlib(info), Figure)
    fig = spec.plotly(info)
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1


def test_history_renders_one_info_with_both_backends():
    spec = PLOTS["history"]
    info = spec.info([plot_data(_sweep(), target="accuracy", label="a"), plot_data(_sweep(seed=1), target="accuracy", label="b")])
    assert [ln.label for ln in info.lines] == ["a", "b"]
    assert len(spec.plotly(info).data) >= 2 and spec.matplotlib(info).axes


def test_log_ticks_are_real_values_never_exponents():
    vals, text = c.log_ticks(math.log10(3e-5), math.log10(0.05))
    assert text == ["0.0001", "0.001", "0.01"] and vals == [-4.0, -3.0, -2.0]
    vals, text = c.log_ticks(math.log10(2e-3), math.log10(6e-3))  # less than a decade: 1-2-5 steps
    assert text == ["0.002", "0.005"]
    axis = c.plotly_log_axis([2e-5, 1e-3, 0.03])
    assert axis["type"] == "log" and axis["ticktext"] == ["0.0001", "0.001", "0.01"]
    assert axis["tickvals"] == pytest.approx([1e-4, 1e-3, 1e-2])


def test_3d_surface_and_scatter_label_log_axes_alike():
    """The surface once labelled log10 learning rate -3.5 where the scatter said 0.001 under the same name."""
    d = plot_data(_sweep(), target="accuracy")
    surface = PLOTS["surface"].plotly(PLOTS["surface"].info(d, seed=0))
    scatter = PLOTS["scatter3d"].plotly(PLOTS["scatter3d"].info(d, seed=0))
    lr_axis = [ax for ax in (surface.layout.scene.xaxis, surface.layout.scene.yaxis) if "learning_rate" in ax.title.text][0]
    sc_axis = [ax for ax in (scatter.layout.scene.xaxis, scatter.layout.scene.yaxis) if "learning_rate" in ax.title.text][0]
    assert lr_axis.title.text == sc_axis.title.text == "learning_rate (log scale)"
    assert list(lr_axis.ticktext) == list(sc_axis.ticktext) and "0.001" in lr_axis.ticktext


def test_plotly_titles_wrap_and_clear_the_toolbar():
    import plotly.graph_objects as go

    fig = go.Figure()
    c.set_plotly_title(fig, "validation/epoch_accuracy surface over learning_rate and dropout_rate_of_the_head",
                       "a subtitle")
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) == 3 and all(len(x) <= c.TITLE_CHARS for x in lines[:2])
    assert fig.layout.title.xanchor == "left" and fig.layout.title.pad.t == c.MODEBAR_PX
    assert fig.layout.margin.t > c.MODEBAR_PX + 2 * 21
    c.set_plotly_title(fig, "<b>x</b>")  # names from event files stay text
    assert "&lt;b&gt;" in fig.layout.title.text


def test_matplotlib_log_axes_show_real_values_too():
    from hparams_tools.visualization import plot_contour, plot_slices

    slices = plot_slices(_sweep(), target="accuracy")
    lr = next(ax for ax in slices.axes if ax.get_xlabel() == "learning_rate (log scale)")
    contour = plot_contour(_sweep(), target="accuracy")
    for axis in (lr.xaxis, contour.axes[0].xaxis):
        assert axis.get_scale() == "log"
        label = axis.get_major_formatter()
        assert [label(v, 0) for v in (1e-4, 1e-3, 0.01)] == ["0.0001", "0.001", "0.01"]  # not 10^-3
