"""Space file -> keras-tuner ``HyperParameters`` and TensorBoard HParams domains (``HParamInfo``).

Parsing and validation live in :mod:`hparams_tools.space` (the one parser the
analysis' ``suggest`` also writes with); this module only converts.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hparams_tools.io.experiment import Discrete, HParamInfo, Interval
from hparams_tools.space import Parameter, SearchSpace, load_space

__all__ = [
    "DEFAULT_SPACE",
    "default_space_path",
    "load_default_space",
    "grid_values",
    "grid_combinations",
    "to_keras_tuner",
    "to_hparams",
    "hyperband_epochs",
    "python_value",
    "conditional_name",
    "resolve_values",
    "trial_values",
]

DEFAULT_SPACE = "default_space.yaml"
# TensorBoard's DataType of a discrete domain, by the Python type of its values (ints are FLOAT64 there too).
_TYPE_NAMES = {bool: "bool", int: "float", float: "float", str: "string"}


def default_space_path() -> Path:
    """Path of the space file shipped with the package."""
    return Path(str(resources.files("training") / DEFAULT_SPACE))


def load_default_space() -> SearchSpace:
    """The shipped default space (learning rate, epochs, batch size)."""
    return load_space(default_space_path())


def grid_values(param: Parameter, points: int) -> list[Any]:
    """The values a grid tries for ``param``: its list, or ``points`` values spread over its range.

    Log distributions are spread evenly in log space, integers are rounded and de-duplicated.
    """
    if param.kind in ("values", "value"):
        return list(param.values)
    lo, hi = param.min, param.max
    if points <= 1 or lo == hi:
        return [lo if param.kind == "int_uniform" else float(lo)]
    if param.kind == "log_uniform_values":
        vals = np.geomspace(lo, hi, points)
        return [float(f"{v:.6g}") for v in vals]
    vals = np.linspace(lo, hi, points)
    if param.kind == "int_uniform":
        return sorted({int(round(v)) for v in vals})
    return [float(f"{v:.6g}") for v in vals]


def to_keras_tuner(space: SearchSpace, *, method: str, grid_points: int = 3, exclude: tuple[str, ...] = ()):
    """Build keras-tuner ``HyperParameters`` for ``space`` under ``method``.

    ``grid`` turns every distribution into a ``Choice`` of :func:`grid_values`;
    the other methods keep distributions as ``Float``/``Int`` (log sampling for
    ``log_uniform_values``) and lists as ``Choice``. Fixed values become ``Fixed``.
    A conditional range (``conditional_on``/``by_value``) becomes one parameter of the same
    name per value of its parent, each in keras-tuner's ``conditional_scope``.

    Args:
        space: The parsed space.
        method: The strategy.
        grid_points: Values per distribution for ``grid``.
        exclude: Parameter names left out (Hyperband owns ``epochs``).
    """
    import keras_tuner as kt

    hps = kt.HyperParameters()
    # a conditional range is registered after the parameter it depends on (keras-tuner needs the parent first)
    ordered = sorted(space.parameters.values(), key=lambda p: p.conditional_on is not None)
    for p in ordered:
        if p.name in exclude:
            continue
        if p.conditional_on is None:
            _add_hparam(hps, p, method, grid_points)
            continue
        for value in space.parameters[p.conditional_on].values:
            lo, hi = p.range_for(value)
            # one name per category: keras-tuner 1.4.8 drops a value whose name another, inactive
            # parameter shares (HyperParameters.ensure_active_values); resolve_values maps it back
            copy = replace(p, name=conditional_name(p.name, p.conditional_on, value), min=lo, max=hi,
                           conditional_on=None, by_value=())
            with hps.conditional_scope(p.conditional_on, [value]):
                _add_hparam(hps, copy, method, grid_points)
    return hps


def grid_combinations(hps: Any) -> int:
    """The trials keras-tuner's grid runs over ``hps``: every combination of its ``Choice`` values.

    A choice made under a condition (a conditional range's copy for one parent value) only
    multiplies the combinations in which its parent takes that value, as keras-tuner's grid
    enumerates active values only: ``optimizer`` [adam, sgd] with three learning rates for each
    is 6 trials, not 2 x 3 x 3. Non-choice parameters (sampled at random) do not count.
    """
    by_parent: dict[str, dict[Any, int]] = {}   # parent name -> its value -> combinations under it
    for h in hps.space:
        if h.conditions and type(h).__name__ == "Choice":
            for cond in h.conditions:
                under = by_parent.setdefault(cond.name, {})
                for v in cond.values:
                    under[v] = under.get(v, 1) * len(h.values)
    total = 1
    for h in hps.space:
        if h.conditions:
            continue
        under = by_parent.get(h.name, {})
        kind = type(h).__name__
        if kind == "Choice":
            total *= sum(under.get(v, 1) for v in h.values)
        elif kind == "Fixed":  # a one-value parent: only its own value's children
            total *= under.get(h.value, 1)
    return total


def conditional_name(name: str, parent: str, value: Any) -> str:
    """keras-tuner's name for the copy of conditional range ``name`` used when ``parent`` is ``value``."""
    return f"{name}[{parent}={value}]"


_CONDITIONAL = re.compile(r"^(?P<name>.+)\[(?P<parent>[^=\[\]]+)=[^\]]*\]$")


def resolve_values(values: dict[str, Any]) -> dict[str, Any]:
    """A trial's keras-tuner values under the space's names (the active copy of a conditional range
    becomes its parameter; keras-tuner only keeps active values)."""
    out = {}
    for key, value in values.items():
        m = _CONDITIONAL.match(key)
        out[m["name"] if m else key] = value
    return out


def trial_values(trial: Any) -> dict[str, Any]:
    """A keras-tuner trial's hyperparameter values under the space's names (for lines, tables, logs)."""
    return resolve_values(dict(trial.hyperparameters.values))


def _add_hparam(hps: Any, p: Parameter, method: str, grid_points: int) -> None:
    """Register one (unconditional) parameter in keras-tuner ``HyperParameters``."""
    name = p.name
    if p.kind == "value":
        hps.Fixed(name, p.values[0])
    elif p.kind == "values" or method == "grid":
        values = grid_values(p, grid_points)
        if len(values) == 1:
            hps.Fixed(name, values[0])
        else:
            hps.Choice(name, values, ordered=all(isinstance(v, (int, float)) for v in values))
    elif p.kind == "int_uniform":
        hps.Int(name, int(p.min), int(p.max))
    else:
        hps.Float(name, float(p.min), float(p.max), sampling="log" if p.is_log else "linear")


def hyperband_epochs(max_epochs: int, factor: int) -> list[int]:
    """Every epoch count keras-tuner's Hyperband can give a trial (its ``_get_epochs`` formula)."""
    max_epochs = int(max_epochs)
    s_max = int(math.log(max_epochs) / math.log(factor) + 1e-9) if max_epochs > 1 else 0
    return sorted({math.ceil(max_epochs / factor**k) for k in range(s_max + 1)})


def to_hparams(space: SearchSpace, *, overrides: dict[str, list[Any]] | None = None) -> list[HParamInfo]:
    """The experiment's hparam infos for every parameter, with their domains and types.

    Types and domains follow TensorBoard's ``hp.HParam`` (whose module imports
    TensorFlow, so it is not used): intervals and numeric value lists are
    ``float``, discrete values are sorted. A distribution's description says
    "(sampled on a log scale)" or "(sampled on a linear scale)": the analysis' one
    scale rule, :mod:`hparams_tools.analysis.scale`, reads it as the declared scale.
    A conditional distribution's interval is the envelope of its per-category ranges.

    Args:
        space: The parsed space.
        overrides: Parameter name -> discrete values replacing its domain
            (Hyperband's epoch counts).
    """
    out = []
    for name, p in space.parameters.items():
        desc = p.description or ""
        if overrides and name in overrides:
            values = list(overrides[name])
        elif p.kind in ("values", "value"):
            values = list(p.values)
            if len({type(v) for v in values}) > 1:
                if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                    values = [float(v) for v in values]
                else:
                    values = [str(v) for v in values]
        else:
            # the declared scale, read back by hparams_tools.analysis.scale
            desc = (desc + " " if desc else "") + ("(sampled on a log scale)" if p.is_log else "(sampled on a linear scale)")
            out.append(HParamInfo(name, "float", "", desc, Interval(*_envelope(p, float))))
            continue
        out.append(HParamInfo(name, _TYPE_NAMES[type(values[0])], "", desc, Discrete(tuple(sorted(values)))))
    return out


def _envelope(p: Parameter, kind: type) -> tuple[Any, Any]:
    """The range covering a parameter's plain range and every conditional one."""
    lows = [p.min] + [lo for _, lo, _ in p.by_value]
    highs = [p.max] + [hi for _, _, hi in p.by_value]
    return kind(min(lows)), kind(max(highs))


def python_value(value: Any) -> int | float | str | bool:
    """A keras-tuner value as a plain Python scalar for the HParams summary."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
