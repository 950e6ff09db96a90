"""The one number formatter, the one JSON-safe converter and message quoting."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from hparams_tools._format import format_number, is_missing, json_safe, one_line, quote, show_path


@pytest.mark.parametrize("value,text", [
    (0.123456, "0.1235"), (np.float32(2.5), "2.5"), (np.float64(1e-7), "1e-07"), (3, "3"), (np.int64(12345), "12345"),
    (True, "True"), (np.bool_(False), "False"), ("adam", "adam"), (None, ""), (float("nan"), ""),
    (float("inf"), ""), (pd.NA, ""), (pd.NaT, ""),
])
def test_format_number(value, text):
    assert format_number(value) == text


def test_format_number_digits_and_missing_text():
    assert format_number(math.pi, 3) == "3.14"
    assert format_number(float("-inf"), missing="n/a") == "n/a"


def test_json_safe_is_strict_json():
    data = {
        "f": np.float32(0.5), "nan": float("nan"), "inf": np.inf, "i": np.int64(7), "b": np.bool_(True),
        "arr": np.array([1.0, np.nan]), "series": pd.Series([1, 2]), "ts": pd.Timestamp("2024-01-02T03:04:05"),
        "dt": dt.datetime(2024, 1, 2), "nat": pd.NaT, "na": pd.NA, 3: ("a", None), "set": {1},
        "obj": object,
    }
    out = json_safe(data)
    json.dumps(out, allow_nan=False)  # raises on NaN/inf or an unknown type
    assert out["f"] == 0.5 and out["nan"] is None and out["inf"] is None and out["i"] == 7 and out["b"] is True
    assert out["arr"] == [1.0, None] and out["series"] == [1, 2] and out["3"] == ["a", None]
    assert out["ts"] == "2024-01-02T03:04:05" and out["dt"] == "2024-01-02T00:00:00"
    assert out["nat"] is None and out["na"] is None and out["set"] == [1] and isinstance(out["obj"], str)
    assert type(out["i"]) is int and type(out["f"]) is float


def test_json_safe_rounds_on_request():
    assert json_safe(0.123456789, digits=6) == 0.123457
    assert json_safe([np.float64(1 / 3)], digits=3) == [0.333]


def test_quote_is_short_and_one_line():
    assert quote("a\nb") == "'a\\nb'"
    huge = ["x" * 10_000] * 10_000
    text = quote(huge)
    assert len(text) <= 80 and "\n" not in text
    assert len(quote(10**30)) <= 80 and len(quote({"k": [[[[1]]]]})) <= 80


def test_show_path_and_one_line():
    assert show_path("logs/run-1") == "logs/run-1"
    assert show_path("a\nb") == "'a\\nb'" and show_path(" lead") == "' lead'"
    assert one_line("bad\x1b[31m\nname") == "bad\\x1b[31m\\nname"
    assert is_missing(None) and is_missing(float("nan")) and not is_missing(0) and not is_missing("")
