"""Search-space files: the YAML format that ``python -m training.sweep --space`` runs.

The format uses the keys people know from W&B sweep configs::

    method: random            # grid | random | bayesian | hyperband | hybrid
    metric: {name: validation/epoch_accuracy, goal: maximize}
    max_trials: 16
    parameters:
      learning_rate: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-1}
      epochs: {values: [2, 4, 8, 12]}
      optimizer: {values: [adam, sgd, rmsprop]}
      dropout: {distribution: uniform, min: 0.0, max: 0.5}
      filters: {distribution: int_uniform, min: 8, max: 32}
      seed_layer: {value: 3}
      # a conditional range: one range per value of a categorical parameter (keras-tuner's
      # conditional_scope); min/max are the range for any value not listed in by_value
      momentum: {distribution: uniform, min: 0.0, max: 0.9, conditional_on: optimizer,
                 by_value: {sgd: {min: 0.8, max: 0.99}, rmsprop: {min: 0.0, max: 0.5}}}

The schema lives here, in ``hparams_tools`` rather than in ``training/``
(where ARCHITECTURE.md first placed it), because both sides need the one
parser: ``training`` reads space files and ``hparams_tools.analysis.suggest``
writes them. Keeping it TensorFlow-free lets ``suggest`` validate what it
writes with the very code the sweep uses to read it. ``training.space``
converts a :class:`SearchSpace` to keras-tuner and TensorBoard objects.

``hybrid`` means: a grid over every parameter given as ``values`` and random
sampling over every parameter given as a distribution.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SpaceFileError

__all__ = [
    "METHODS",
    "DISTRIBUTIONS",
    "Parameter",
    "SearchSpace",
    "parse_space",
    "load_space",
    "dump_space",
    "save_space",
    "next_experiment_name",
    "next_logdir",
    "next_space_command",
]

METHODS = ("grid", "random", "bayesian", "hyperband", "hybrid")
DISTRIBUTIONS = ("uniform", "log_uniform_values", "int_uniform", "categorical", "constant")
GOALS = ("maximize", "minimize")
_TOP_KEYS = {
    "method", "metric", "parameters", "max_trials", "name", "description", "seed",
    "folds", "executions_per_trial", "hyperband",
}
_PARAM_KEYS = {"distribution", "min", "max", "values", "value", "description", "conditional_on", "by_value"}

Scalar = int | float | str | bool


@dataclass(frozen=True)
class Parameter:
    """One hyperparameter of a search space.

    Attributes:
        name: Parameter name (also the HParams name).
        kind: ``"values"`` (a discrete set), ``"value"`` (fixed), ``"uniform"``,
            ``"log_uniform_values"`` or ``"int_uniform"``.
        values: The discrete values (``kind`` ``"values"``) or the one fixed value.
        min: Lower bound of a distribution.
        max: Upper bound of a distribution.
        description: Free text kept in the file as a comment.
        conditional_on: For a range that depends on a categorical parameter: that parameter's name.
        by_value: ``(value of conditional_on, min, max)`` per listed value; other values use
            ``min``/``max``.
    """

    name: str
    kind: str
    values: tuple[Scalar, ...] = ()
    min: float | int | None = None
    max: float | int | None = None
    description: str = ""
    conditional_on: str | None = None
    by_value: tuple[tuple[Scalar, float | int, float | int], ...] = ()

    def range_for(self, value: Scalar) -> tuple[float | int | None, float | int | None]:
        """``(min, max)`` when ``conditional_on`` takes ``value`` (the plain range if not listed)."""
        for v, lo, hi in self.by_value:
            if _same_value(v, value):
                return lo, hi
        return self.min, self.max

    @property
    def is_fixed(self) -> bool:
        """True for a single ``value``."""
        return self.kind == "value"

    @property
    def is_log(self) -> bool:
        """True for ``log_uniform_values``."""
        return self.kind == "log_uniform_values"

    @property
    def is_distribution(self) -> bool:
        """True for a continuous or integer range (not a list of values)."""
        return self.kind in ("uniform", "log_uniform_values", "int_uniform")

    def to_dict(self) -> dict[str, Any]:
        """The parameter's mapping as it appears in a space file."""
        if self.kind == "value":
            return {"value": self.values[0]}
        if self.kind == "values":
            return {"values": list(self.values)}
        out: dict[str, Any] = {"distribution": self.kind, "min": self.min, "max": self.max}
        if self.conditional_on is not None:
            out["conditional_on"] = self.conditional_on
            out["by_value"] = {v: {"min": lo, "max": hi} for v, lo, hi in self.by_value}
        return out


@dataclass(frozen=True)
class SearchSpace:
    """A parsed, validated search space.

    Attributes:
        parameters: Parameters by name, in file order.
        method: One of :data:`METHODS`.
        metric: Objective metric name as the export names it, or ``None``.
        goal: ``"maximize"`` or ``"minimize"``.
        max_trials: Trial budget, or ``None`` for the method's default.
        name: Optional experiment name.
        description: Optional free text.
        seed: Optional random seed.
        options: Other recognised top-level keys (``folds``, ``hyperband``...).
    """

    parameters: dict[str, Parameter]
    method: str = "random"
    metric: str | None = None
    goal: str = "maximize"
    max_trials: int | None = None
    name: str | None = None
    description: str | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The space as the mapping a space file holds."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["method"] = self.method
        if self.metric:
            out["metric"] = {"name": self.metric, "goal": self.goal}
        if self.max_trials is not None:
            out["max_trials"] = self.max_trials
        if self.seed is not None:
            out["seed"] = self.seed
        out.update(self.options)
        out["parameters"] = {n: p.to_dict() for n, p in self.parameters.items()}
        return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _parse_parameter(name: str, spec: Any, where: str) -> Parameter:
    if not isinstance(spec, Mapping):
        raise SpaceFileError(f"{where}: parameter {name!r} must be a mapping such as "
                             f"{{values: [...]}} or {{distribution: uniform, min: 0, max: 1}}, got {spec!r}")
    unknown = set(spec) - _PARAM_KEYS
    if unknown:
        raise SpaceFileError(f"{where}: parameter {name!r} has unknown key(s) {sorted(unknown)}; "
                             f"allowed: {sorted(_PARAM_KEYS)}")
    desc = str(spec.get("description", "") or "")
    dist = spec.get("distribution")
    if ("conditional_on" in spec or "by_value" in spec) and dist not in ("uniform", "log_uniform_values", "int_uniform"):
        raise SpaceFileError(f"{where}: parameter {name!r}: conditional_on/by_value need a distribution "
                             "(uniform, log_uniform_values or int_uniform) with min and max")
    if dist is not None and dist not in DISTRIBUTIONS:
        raise SpaceFileError(f"{where}: parameter {name!r} has unknown distribution {dist!r}; "
                             f"use one of {', '.join(DISTRIBUTIONS)}")
    if "value" in spec or dist == "constant":
        if "value" not in spec or "values" in spec or "min" in spec or "max" in spec:
            raise SpaceFileError(f"{where}: parameter {name!r}: a fixed parameter takes exactly one 'value'")
        value = spec["value"]
        if not isinstance(value, (int, float, str, bool)):
            raise SpaceFileError(f"{where}: parameter {name!r}: value must be a number, string or bool, got {value!r}")
        return Parameter(name, "value", (value,), description=desc)
    if "values" in spec or dist == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise SpaceFileError(f"{where}: parameter {name!r}: 'values' must be a non-empty list")
        for v in values:
            if not isinstance(v, (int, float, str, bool)) or (isinstance(v, float) and not math.isfinite(v)):
                raise SpaceFileError(f"{where}: parameter {name!r}: value {v!r} is not a finite number, string or bool")
        if "min" in spec or "max" in spec:
            raise SpaceFileError(f"{where}: parameter {name!r}: give either 'values' or 'min'/'max', not both")
        if len(set(map(repr, values))) != len(values):
            raise SpaceFileError(f"{where}: parameter {name!r}: 'values' has duplicates: {values}")
        return Parameter(name, "values", tuple(values), description=desc)
    if dist is None:
        raise SpaceFileError(f"{where}: parameter {name!r} needs 'values', 'value' or a 'distribution' with 'min' and 'max'")
    lo, hi = _parse_range(name, dist, spec, where)
    return Parameter(name, dist, min=lo, max=hi, description=desc)


def _parse_range(name: str, dist: str, spec: Mapping[str, Any], where: str) -> tuple[float | int, float | int]:
    """``min``/``max`` of a distribution, validated and typed (ints for ``int_uniform``)."""
    for key in ("min", "max"):
        if key not in spec:
            raise SpaceFileError(f"{where}: parameter {name!r} ({dist}) is missing '{key}'")
        if not _is_number(spec[key]) or not math.isfinite(spec[key]):
            raise SpaceFileError(f"{where}: parameter {name!r}: '{key}' must be a finite number, got {spec[key]!r}")
    lo, hi = spec["min"], spec["max"]
    if lo > hi:
        raise SpaceFileError(f"{where}: parameter {name!r}: min {lo} is greater than max {hi}")
    if dist == "log_uniform_values" and lo <= 0:
        raise SpaceFileError(f"{where}: parameter {name!r}: log_uniform_values needs min > 0, got min {lo}")
    if dist == "int_uniform":
        if not (float(lo).is_integer() and float(hi).is_integer()):
            raise SpaceFileError(f"{where}: parameter {name!r}: int_uniform needs integer min and max, got {lo} and {hi}")
        return int(lo), int(hi)
    return float(lo), float(hi)


def parse_space(data: Any, *, source: str = "<space>") -> SearchSpace:
    """Validate a space mapping (as loaded from YAML) and return a :class:`SearchSpace`.

    Args:
        data: The mapping.
        source: Name used in error messages (usually the file path).

    Returns:
        The parsed space.

    Raises:
        SpaceFileError: naming the first problem and how to fix it.
    """
    if not isinstance(data, Mapping):
        raise SpaceFileError(f"{source}: a space file must be a YAML mapping with a 'parameters' key")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpaceFileError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    method = data.get("method", "random")
    if method not in METHODS:
        raise SpaceFileError(f"{source}: unknown method {method!r}; use one of {', '.join(METHODS)}")
    params = data.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SpaceFileError(f"{source}: 'parameters' must be a non-empty mapping of name -> spec")
    parsed = {}
    for name, spec in params.items():
        if not isinstance(name, str) or not name:
            raise SpaceFileError(f"{source}: parameter names must be non-empty strings, got {name!r}")
        parsed[name] = _parse_parameter(name, spec, source)
    for name, spec in params.items():
        if "conditional_on" in spec or "by_value" in spec:
            parsed[name] = _parse_conditional(parsed[name], spec, parsed, source)
    metric, goal = None, "maximize"
    if "metric" in data:
        m = data["metric"]
        if isinstance(m, str):
            metric = m
        elif isinstance(m, Mapping) and isinstance(m.get("name"), str) and set(m) <= {"name", "goal"}:
            metric = m["name"]
            goal = m.get("goal", "maximize")
        else:
            raise SpaceFileError(f"{source}: 'metric' must be {{name: <metric>, goal: maximize|minimize}}, got {m!r}")
        if goal not in GOALS:
            raise SpaceFileError(f"{source}: metric goal must be 'maximize' or 'minimize', got {goal!r}")
    max_trials = data.get("max_trials")
    if max_trials is not None and (not isinstance(max_trials, int) or isinstance(max_trials, bool) or max_trials < 1):
        raise SpaceFileError(f"{source}: max_trials must be a positive integer, got {max_trials!r}")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise SpaceFileError(f"{source}: seed must be an integer, got {seed!r}")
    options = {k: data[k] for k in ("folds", "executions_per_trial", "hyperband") if k in data}
    return SearchSpace(
        parameters=parsed, method=method, metric=metric, goal=goal, max_trials=max_trials,
        name=data.get("name"), description=data.get("description"), seed=seed, options=options,
    )


def load_space(path: str | os.PathLike[str]) -> SearchSpace:
    """Read and validate a YAML space file.

    Raises:
        SpaceFileError: if the file is missing, not YAML, or not a valid space.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpaceFileError(f"space file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpaceFileError(f"cannot read space file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise SpaceFileError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    return parse_space(data, source=str(path))


def _yaml_scalar(v: Any) -> str:
    import yaml

    if isinstance(v, float):
        # repr keeps full precision and YAML 1.1 needs a dot or exponent sign to read a float back
        r = repr(v)
        if "e" in r and "." not in r.split("e")[0]:
            r = r.replace("e", ".0e", 1)
        return r if ("." in r or "e" in r or "inf" in r or "nan" in r) else r + ".0"
    return yaml.safe_dump(v, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_yaml_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _yaml_scalar(value)


def dump_space(space: SearchSpace, *, comments: Mapping[str, str] | None = None, header: str | None = None) -> str:
    """Render a space as YAML text, one flow mapping per parameter.

    Args:
        space: The space.
        comments: Optional comment per parameter name, written above it.
        header: Optional comment block at the top of the file.

    Returns:
        YAML text that :func:`load_space` reads back to an equal space.
    """
    lines: list[str] = []
    if header:
        lines += [f"# {line}".rstrip() for line in header.splitlines()]
    data = space.to_dict()
    params = data.pop("parameters")
    for key, value in data.items():
        lines.append(f"{key}: {_flow(value)}")
    lines.append("parameters:")
    for name, spec in params.items():
        for line in ((comments or {}).get(name) or "").splitlines():
            lines.append(f"  # {line}".rstrip())
        lines.append(f"  {_yaml_scalar(name)}: {_flow(spec)}")
    return "\n".join(lines) + "\n"


def save_space(space: SearchSpace, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`dump_space` output atomically to ``path`` and return the path."""
    from ._files import atomic_write

    text = dump_space(space, **kwargs)
    parse_space(__import__("yaml").safe_load(text), source=str(path))  # never write what we cannot read back
    with atomic_write(path) as fh:
        fh.write(text)
    return Path(path)


# --- the next experiment: one name rule and one command, used by suggest, the report and the README ---

_NEXT = re.compile(r"^(?P<stem>.*?)-next(?P<n>\d*)$")


def next_experiment_name(name: str) -> str:
    """The name of the experiment that runs a space suggested from experiment ``name``.

    ``default`` -> ``default-next`` -> ``default-next2`` -> ``default-next3``: always a new name, so
    the sweep starts a new logdir instead of refusing one that "holds a sweep with other settings".
    """
    m = _NEXT.match(name)
    if m is None:
        return f"{name or 'experiment'}-next"
    return f"{m['stem']}-next{int(m['n'] or 1) + 1}"


def next_logdir(analysed_logdir: str | os.PathLike[str]) -> Path:
    """The logdir of the next experiment: beside the analysed one, named by :func:`next_experiment_name`."""
    path = Path(analysed_logdir)
    return path.parent / next_experiment_name(path.name)


def next_space_command(space_file: str | os.PathLike[str], analysed_logdir: str | os.PathLike[str]) -> str:
    """The one command that runs a suggested space file into a new logdir beside the analysed one."""
    import shlex

    return (f"python -m training.sweep --space {shlex.quote(str(space_file))} "
            f"--logdir {shlex.quote(str(next_logdir(analysed_logdir)))}")


# --- conditional ranges (one range per value of a categorical parameter) ---


def _same_value(a: Any, b: Any) -> bool:
    """Values of a categorical parameter compare as YAML writes them (``true`` == True, ``8`` == 8.0)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool) or str(a).lower() == str(b).lower()


def _parse_conditional(param: Parameter, spec: Mapping[str, Any], parsed: Mapping[str, Parameter],
                       where: str) -> Parameter:
    """Attach ``conditional_on``/``by_value`` to a parsed distribution, checked against its parent."""
    from dataclasses import replace

    name, parent = param.name, spec.get("conditional_on")
    if not isinstance(parent, str) or parent not in parsed or parent == name:
        raise SpaceFileError(f"{where}: parameter {name!r}: conditional_on must name another parameter of the "
                             f"space, got {parent!r}")
    choices = parsed[parent]
    if choices.kind != "values" or choices.conditional_on is not None:
        raise SpaceFileError(f"{where}: parameter {name!r}: conditional_on {parent!r} must be a parameter given as "
                             "'values' (a list to choose from)")
    by_value = spec.get("by_value")
    if not isinstance(by_value, Mapping) or not by_value:
        raise SpaceFileError(f"{where}: parameter {name!r}: by_value must map values of {parent!r} to "
                             "{min: .., max: ..}")
    ranges = []
    for value, sub in by_value.items():
        match = [v for v in choices.values if _same_value(v, value)]
        if not match:
            raise SpaceFileError(f"{where}: parameter {name!r}: by_value key {value!r} is not one of the values of "
                                 f"{parent!r} ({', '.join(map(str, choices.values))})")
        if not isinstance(sub, Mapping) or set(sub) != {"min", "max"}:
            raise SpaceFileError(f"{where}: parameter {name!r}: by_value[{value!r}] must be {{min: .., max: ..}}, "
                                 f"got {sub!r}")
        lo, hi = _parse_range(f"{name}[{parent}={value}]", param.kind, sub, where)
        ranges.append((match[0], lo, hi))
    return replace(param, conditional_on=parent, by_value=tuple(ranges))
