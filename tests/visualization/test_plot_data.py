"""The plots' data (not pixels): the right sessions, axes, scales, best session and notes.

The sweeps here have a known ground truth: the target peaks at learning_rate
1e-3 and dropout 0.2 and does not depend on the "noise" hyperparameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hparams_tools.errors import InsufficientDataError, UnknownMetricError
from hparams_tools.visualization import _common as c
from hparams_tools.visualization import contour, groups, history, importance, parallel, scatter, slices


def sweep(n: int = 200, *, seed: int = 0, noise_hparams: int = 0, failed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "learning_rate": 10 ** rng.uniform(-5, -1, n),
            "dropout": rng.uniform(0, 0.5, n),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"], n),
            "epochs": rng.choice([2.0, 4.0, 8.0], n),
        },
        index=[f"run-{i:04d}" for i in range(n)],
    )
    for k in range(noise_hparams):
        df[f"noise_{k}"] = rng.uniform(0, 1, n)
    df["accuracy"] = 1 - 0.05 * (np.log10(df.learning_rate) + 3) ** 2 - (df.dropout - 0.2) ** 2 + rng.normal(0, 0.005, n)
    df["status"] = "SUCCESS"
    if failed:
        df.iloc[:failed, df.columns.get_loc("status")] = "FAILURE"
        df.iloc[: failed // 2, df.columns.get_loc("accuracy")] = np.nan  # half of them logged nothing
    df["group"] = ""
    return df


def test_plot_data_scales_categories_and_best():
    df = sweep()
    d = c.plot_data(df, target="accuracy")
    assert d.log_scaled == {"learning_rate"}  # spans 4 decades -> log; dropout (0..0.5) and epochs (2..8) linear
    assert d.categorical == {"optimizer"}
    assert d.goal == "maximize"
    assert d.best_session() == df["accuracy"].idxmax()
    # the two hyperparameters that drive the target are ranked first
    assert set(d.hparams[:2]) == {"learning_rate", "dropout"}
    assert d.color_range() == (df.accuracy.min(), df.accuracy.max())


def test_plot_data_goal_and_errors():
    df = sweep().rename(columns={"accuracy": "val_loss"})
    d = c.plot_data(df, target="val_loss")
    assert d.goal == "minimize" and d.best_session() == df["val_loss"].idxmin()
    assert d.cmap == "viridis_r"  # brighter is better for either goal
    with pytest.raises(UnknownMetricError, match="nope"):
        c.plot_data(df, target="nope")


def test_declared_log_scale_is_honoured_when_positive():
    df = sweep()
    assert "dropout" not in c.plot_data(df, target="accuracy").log_scaled
    assert "dropout" in c.plot_data(df, target="accuracy", log_scaled=["dropout"]).log_scaled
    df.iloc[0, df.columns.get_loc("dropout")] = 0.0  # a log axis cannot show 0
    assert "dropout" not in c.plot_data(df, target="accuracy", log_scaled=["dropout"]).log_scaled


def test_parallel_axes_log_categories_and_best():
    df = sweep(failed=10)
    d = c.plot_data(df, target="accuracy")
    info = parallel._get_parallel_info(d)
    ok = df[(df.status != "FAILURE") & df.accuracy.notna()]
    assert info.sessions == list(ok.index)  # failed sessions are not drawn
    names = [a.name for a in info.axes]
    assert names[:-1] == d.hparams and names[-1] == d.target_label
    lr = info.axes[names.index("learning_rate")]
    assert lr.log and np.allclose(lr.values, np.log10(ok.learning_rate))
    assert all(10 ** v / float(t) == pytest.approx(1, rel=0.01) for v, t in zip(lr.tickvals, lr.ticktext))
    opt = info.axes[names.index("optimizer")]
    assert opt.categories == ("adam", "rmsprop", "sgd")
    assert [opt.categories[int(k)] for k in opt.values] == list(ok.optimizer)
    epochs = info.axes[names.index("epochs")]
    assert not epochs.log and epochs.tickvals == [2.0, 4.0, 8.0]  # a few discrete values: ticked exactly
    assert info.sessions[info.best] == ok.accuracy.idxmax()
    assert np.allclose(info.color, ok.accuracy)
    assert info.notes == []


def test_top_k_hparams_note_keeps_the_informative_ones():
    d = c.plot_data(sweep(noise_hparams=10), target="accuracy")
    info = parallel._get_parallel_info(d, max_hparams=3)
    assert len(info.axes) == 4
    assert {"learning_rate", "dropout"} <= {a.name for a in info.axes}
    assert any("3 most important of 14" in n.text for n in info.notes)


def test_downsampling_keeps_best_is_seeded_and_said():
    df = sweep(3000)
    d = c.plot_data(df, target="accuracy")
    a = parallel._get_parallel_info(d, max_points=500, seed=1)
    b = parallel._get_parallel_info(d, max_points=500, seed=1)
    other = parallel._get_parallel_info(d, max_points=500, seed=2)
    assert len(a.sessions) == 500 and a.sessions == b.sessions and a.sessions != other.sessions
    assert df.accuracy.idxmax() in a.sessions and a.sessions[a.best] == df.accuracy.idxmax()
    assert any("500 of 3,000" in n.text for n in a.notes)


def test_slices_mark_failed_sessions_and_use_log_x():
    df = sweep(100, failed=6)
    d = c.plot_data(df, target="accuracy")
    info = slices._get_slices_info(d)
    by = {s.name: s for s in info.slices}
    assert by["learning_rate"].log and not by["dropout"].log
    failed = df[df.status == "FAILURE"]
    assert np.allclose(by["learning_rate"].failed_x, failed.learning_rate)
    bottom = df.accuracy.min()
    expected_y = failed.accuracy.fillna(bottom).to_numpy()
    assert np.allclose(by["dropout"].failed_y, expected_y)  # no value -> drawn at the bottom
    assert info.n_failed == 6 and any("6 failed" in n.text for n in info.notes)
    best = df[df.status != "FAILURE"].accuracy.idxmax()
    assert info.best == best and by["learning_rate"].best_x == pytest.approx(df.at[best, "learning_rate"])
    fig = slices._render_matplotlib(info)
    lr_axis = next(ax for ax in fig.axes if ax.get_xlabel().startswith("learning_rate"))
    assert lr_axis.get_xscale() == "log" and lr_axis.get_xlabel() == "learning_rate (log scale)"


def test_contour_finds_the_known_optimum():
    d = c.plot_data(sweep(400), target="accuracy")
    info = contour._get_contour_info(d)
    assert (info.x_name, info.y_name, info.x_log, info.y_log) in {
        ("learning_rate", "dropout", True, False), ("dropout", "learning_rate", False, True)}
    iy, ix = np.unravel_index(np.argmax(info.z), info.z.shape)
    x, y = info.grid_x[ix], info.grid_y[iy]
    lr_log, drop = (x, y) if info.x_name == "learning_rate" else (y, x)
    assert abs(lr_log - (-3)) < 0.5 and abs(drop - 0.2) < 0.1
    assert "random-forest" in info.method
    assert info.sessions[info.best] == d.best_session()


def test_contour_needs_two_numeric_hparams():
    df = sweep(50)[["optimizer", "dropout", "accuracy"]]
    with pytest.raises(InsufficientDataError, match="two numeric"):
        contour._get_contour_info(c.plot_data(df, target="accuracy"))


def test_scatter_3d_prefers_numeric_hparams():
    d = c.plot_data(sweep(), target="accuracy")
    info = scatter._get_scatter_info(d, k=2, numeric_first=True)
    assert {a.name for a in info.axes} == {"learning_rate", "dropout"}
    fig = scatter._render_plotly_3d(info)
    assert fig.data[0].z is not None and len(fig.data[0].z) == 200


def test_group_means_match_numpy():
    df = sweep(60)
    df["group"] = [f"cfg{i // 3}" for i in range(60)]
    df.loc[df.index[-1], "group"] = "lonely"  # a single-session group is not averaged
    d = c.plot_data(df, target="accuracy")
    info = groups._get_groups_info(d, max_groups=100)
    assert "lonely" not in info.groups
    for g, m, s, n in zip(info.groups, info.mean, info.std, info.count):
        vals = df.loc[df.group == g, "accuracy"].to_numpy()
        assert n == len(vals) and m == pytest.approx(vals.mean()) and s == pytest.approx(vals.std(ddof=1))
    assert list(info.mean) == sorted(info.mean, reverse=True)  # best first
    with pytest.raises(InsufficientDataError, match="no group"):
        groups._get_groups_info(c.plot_data(sweep(10), target="accuracy"))


def test_best_so_far_in_start_order_ignores_failures():
    df = sweep(50, failed=4)
    df["start_time"] = np.arange(50)[::-1].astype(float)  # the last row started first
    d = c.plot_data(df, target="accuracy")
    line = history._get_history_info([d]).lines[0]
    order = df.sort_values("start_time")
    vals = order.accuracy.where(order.status != "FAILURE")
    assert line.sessions == list(order.index)
    assert np.allclose(line.best_so_far, vals.cummax().ffill().to_numpy(), equal_nan=True)
    assert line.epochs is None  # no per-step data in a plain table


def test_importance_info_normalises_methods_and_drops_intercept():
    class Result:  # the AnalysisResult fields the plot reads
        target = "accuracy"
        ols_r_squared = 0.8
        importance = pd.DataFrame(
            {"forest": [0.6, 0.3, 0.1], "permutation": [0.02, 0.01, 0.0], "permutation_std": [0.004, 0.002, 0.001],
             "fanova": [0.7, 0.2, 0.1], "ped_anova": [np.nan, np.nan, np.nan]},
            index=pd.Index(["learning_rate", "dropout", "epochs"], name="hyperparameter"))
        ols = pd.DataFrame({"coef": [0.5, -0.2, 0.01], "std_err": [0.1, 0.05, 0.02], "t": [5, -4, 0.5],
                            "ci_low": [0.3, -0.3, -0.03], "ci_high": [0.7, -0.1, 0.05]},
                           index=["const", "dropout", "epochs"])

    info = importance._get_importance_info(Result())
    assert info.methods == ["random forest (impurity)", "permutation", "fANOVA"]  # PED-ANOVA all NaN: left out
    assert np.allclose(info.values.sum(axis=1), 1)
    assert info.hparams == ["learning_rate", "dropout", "epochs"]
    assert np.allclose(info.spread[1], np.array([0.004, 0.002, 0.001]) / 0.03)
    assert info.terms == ["dropout", "epochs"]
    fig = importance.plot_importance(Result())
    assert "95%" in fig.axes[1].get_title() and "R² = 0.80" in fig.axes[1].get_title()


def test_plotly_twins_escape_markup():
    df = sweep(30)
    df = df.rename(columns={"optimizer": "<script>alert(1)</script>"})
    df.iloc[0, df.columns.get_loc("<script>alert(1)</script>")] = '"><img src=x onerror=alert(1)>'
    d = c.plot_data(df, target="accuracy")
    fig = parallel._render_plotly(parallel._get_parallel_info(d))
    text = fig.to_json()
    assert "<script>" not in text and "<img" not in text
    labels = [dim.label for dim in fig.data[0].dimensions]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels


def test_best_so_far_plotly_keeps_only_the_corners():
    df = sweep(3000)
    df["start_time"] = np.arange(3000, dtype=float)
    info = history._get_history_info([c.plot_data(df, target="accuracy")])
    fig = history._render_plotly(info)
    x, y = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    line = info.lines[0]
    assert len(x) < 100 and x[0] == 1 and x[-1] == 3000
    # the step function through the corners equals the full line at every trial
    idx = np.searchsorted(x, line.trial, side="right") - 1
    assert np.allclose(y[idx], line.best_so_far)


def test_missing_values_in_a_categorical_hparam():
    df = sweep(30)
    df["optimizer"] = df["optimizer"].astype(object)
    df.iloc[0, df.columns.get_loc("optimizer")] = None  # a session that did not log this hyperparameter
    d = c.plot_data(df, target="accuracy")
    info = parallel._get_parallel_info(d)
    opt = info.axes[[a.name for a in info.axes].index("optimizer")]
    assert opt.categories == ("adam", "rmsprop", "sgd") and np.isnan(opt.values[0])
    assert np.isfinite(opt.values[1:]).all()
