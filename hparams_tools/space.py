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

from ._format import quote, show_path
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


# Limits of a space file. A sweep needs far less; the limits keep a hostile or
# broken file from exhausting memory or time before it is refused.
MAX_FILE_BYTES = 1 << 20  # 1 MiB, checked before parsing
MAX_DEPTH = 20  # nesting of YAML collections (a space file needs 4)
MAX_TRIALS = 100_000
MAX_PARAMETERS = 1_000
MAX_VALUES = 10_000  # entries of one 'values' list
MAX_NAME = 200  # characters of a name (experiment, parameter, metric)
MAX_TEXT = 10_000  # characters of a description or a string value
MAX_FOLDS = 100
MAX_EXECUTIONS = 100
MAX_SEED = 2**32 - 1  # numpy's and keras' seeds
MAX_INT = 2**63 - 1  # numbers must fit TensorBoard's 64-bit fields
HYPERBAND_LIMITS = {"factor": (2, 100), "iterations": (1, 100), "max_epochs": (1, 100_000)}


def _is_number(x: Any) -> bool:
    """A finite int or float that fits 64 bits (bools are not numbers here)."""
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return -MAX_INT <= x <= MAX_INT
    return isinstance(x, float) and math.isfinite(x)


def _keys(keys: Any) -> str:
    return "[" + ", ".join(quote(k, 40) for k in sorted(keys, key=repr)[:10]) + "]"


def _integer(value: Any, what: str, where: str, lo: int, hi: int, note: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        kind = "a positive integer" if lo == 1 else "an integer"
        raise SpaceFileError(f"{where}: {what} must be {kind} from {lo} to {hi}{note}, got {quote(value)}")
    return value


def _text(value: Any, what: str, where: str, limit: int, *, name: bool = False) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or (name and not value.isprintable()):
        rule = "printable text" if name else "text"
        raise SpaceFileError(f"{where}: {what} must be {rule} of 1 to {limit} characters, got {quote(value)}")
    return value


def _experiment_name(value: Any, where: str) -> str:
    # the sweep writes to logs/flowers/<name>: the name must be one safe directory name
    name = _text(value, "name", where, 100, name=True)
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("-"):
        raise SpaceFileError(f"{where}: name must be one directory name (no '/', '\\', '..' or leading '-'), "
                             f"got {quote(name)}")
    return name


def _scalar(v: Any) -> bool:
    return _is_number(v) or isinstance(v, bool) or (isinstance(v, str) and len(v) <= MAX_TEXT)


def _parse_parameter(name: str, spec: Any, where: str) -> Parameter:
    what = f"parameter {quote(name)}"
    if not isinstance(spec, Mapping):
        raise SpaceFileError(f"{where}: {what} must be a mapping such as "
                             f"{{values: [...]}} or {{distribution: uniform, min: 0, max: 1}}, got {quote(spec)}")
    unknown = set(spec) - _PARAM_KEYS
    if unknown:
        raise SpaceFileError(f"{where}: {what} has unknown key(s) {_keys(unknown)}; allowed: {sorted(_PARAM_KEYS)}")
    desc = "" if spec.get("description") is None else _text(spec["description"], f"{what}: description", where,
                                                             MAX_TEXT)
    dist = spec.get("distribution")
    if ("conditional_on" in spec or "by_value" in spec) and dist not in ("uniform", "log_uniform_values", "int_uniform"):
        raise SpaceFileError(f"{where}: {what}: conditional_on/by_value need a distribution "
                             "(uniform, log_uniform_values or int_uniform) with min and max")
    if dist is not None and dist not in DISTRIBUTIONS:
        raise SpaceFileError(f"{where}: {what} has unknown distribution {quote(dist)}; "
                             f"use one of {', '.join(DISTRIBUTIONS)}")
    if "value" in spec or dist == "constant":
        if "value" not in spec or "values" in spec or "min" in spec or "max" in spec:
            raise SpaceFileError(f"{where}: {what}: a fixed parameter takes exactly one 'value'")
        value = spec["value"]
        if not _scalar(value):
            raise SpaceFileError(f"{where}: {what}: value must be a finite number, bool or string of at most "
                                 f"{MAX_TEXT} characters, got {quote(value)}")
        return Parameter(name, "value", (value,), description=desc)
    if "values" in spec or dist == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not 0 < len(values) <= MAX_VALUES:
            raise SpaceFileError(f"{where}: {what}: 'values' must be a non-empty list of at most {MAX_VALUES} "
                                 f"entries, got {quote(values)}")
        for v in values:
            if not _scalar(v):
                raise SpaceFileError(f"{where}: {what}: value {quote(v)} is not a finite number, bool or string of "
                                     f"at most {MAX_TEXT} characters")
        if "min" in spec or "max" in spec:
            raise SpaceFileError(f"{where}: {what}: give either 'values' or 'min'/'max', not both")
        if len(set(map(repr, values))) != len(values):
            raise SpaceFileError(f"{where}: {what}: 'values' has duplicates: {quote(values)}")
        return Parameter(name, "values", tuple(values), description=desc)
    if dist is None:
        raise SpaceFileError(f"{where}: {what} needs 'values', 'value' or a 'distribution' with 'min' and 'max'")
    lo, hi = _parse_range(name, dist, spec, where)
    return Parameter(name, dist, min=lo, max=hi, description=desc)


def _parse_range(name: str, dist: str, spec: Mapping[str, Any], where: str) -> tuple[float | int, float | int]:
    """``min``/``max`` of a distribution, validated and typed (ints for ``int_uniform``)."""
    what = f"parameter {quote(name)}"
    for key in ("min", "max"):
        if key not in spec:
            raise SpaceFileError(f"{where}: {what} ({dist}) is missing '{key}'")
        if not _is_number(spec[key]):
            raise SpaceFileError(f"{where}: {what}: '{key}' must be a finite number (integers within 64 bits), "
                                 f"got {quote(spec[key])}")
    lo, hi = spec["min"], spec["max"]
    if lo > hi:
        raise SpaceFileError(f"{where}: {what}: min {lo} is greater than max {hi}")
    if dist == "log_uniform_values" and lo <= 0:
        raise SpaceFileError(f"{where}: {what}: log_uniform_values needs min > 0, got min {lo}")
    if dist == "int_uniform":
        if not (float(lo).is_integer() and float(hi).is_integer()):
            raise SpaceFileError(f"{where}: {what}: int_uniform needs integer min and max, got {lo} and {hi}")
        return int(lo), int(hi)
    return float(lo), float(hi)


def _parse_parameters(params: Any, source: str) -> dict[str, Parameter]:
    if not isinstance(params, Mapping) or not params:
        raise SpaceFileError(f"{source}: 'parameters' must be a non-empty mapping of name -> spec")
    if len(params) > MAX_PARAMETERS:
        raise SpaceFileError(f"{source}: {len(params)} parameters; a space file holds at most {MAX_PARAMETERS}")
    parsed = {}
    for name, spec in params.items():
        _text(name, "parameter names", source, MAX_NAME, name=True)
        parsed[name] = _parse_parameter(name, spec, source)
    return parsed


def _parse_metric(m: Any, source: str) -> tuple[str, str]:
    if isinstance(m, Mapping) and set(m) <= {"name", "goal"} and "name" in m:
        name, goal = m["name"], m.get("goal", "maximize")
    elif isinstance(m, str):
        name, goal = m, "maximize"
    else:
        raise SpaceFileError(f"{source}: 'metric' must be {{name: <metric>, goal: maximize|minimize}}, got {quote(m)}")
    _text(name, "the metric name", source, MAX_NAME, name=True)
    if goal not in GOALS:
        raise SpaceFileError(f"{source}: metric goal must be 'maximize' or 'minimize', got {quote(goal)}")
    return name, goal


def _parse_options(data: Mapping, source: str) -> dict[str, Any]:
    """``folds``, ``executions_per_trial`` and ``hyperband``, type- and range-checked."""
    options: dict[str, Any] = {}
    if "folds" in data:
        folds = data["folds"]
        if type(folds) is not int or folds != 0:
            _integer(folds, "folds", source, 2, MAX_FOLDS, " (or 0 for a hold-out split)")
        options["folds"] = folds
    if "executions_per_trial" in data:
        options["executions_per_trial"] = _integer(data["executions_per_trial"], "executions_per_trial", source, 1,
                                                   MAX_EXECUTIONS)
    if "hyperband" in data:
        hb = data["hyperband"]
        if not isinstance(hb, Mapping) or set(hb) - set(HYPERBAND_LIMITS):
            raise SpaceFileError(f"{source}: 'hyperband' must be a mapping with any of {sorted(HYPERBAND_LIMITS)}, "
                                 f"e.g. {{factor: 3, iterations: 1}}; got {quote(hb)}")
        options["hyperband"] = {k: _integer(v, f"hyperband {k}", source, *HYPERBAND_LIMITS[k]) for k, v in hb.items()}
    return options


def parse_space(data: Any, *, source: str = "<space>") -> SearchSpace:
    """Validate a space mapping (as loaded from YAML) and return a :class:`SearchSpace`.

    Every field is type- and range-checked (see the ``MAX_*`` limits); a
    message quotes at most ~80 characters of a bad value.

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
        raise SpaceFileError(f"{source}: unknown key(s) {_keys(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    method = data.get("method", "random")
    if method not in METHODS:
        raise SpaceFileError(f"{source}: unknown method {quote(method)}; use one of {', '.join(METHODS)}")
    parsed = _parse_parameters(data.get("parameters"), source)
    for name, spec in data["parameters"].items():
        if "conditional_on" in spec or "by_value" in spec:
            parsed[name] = _parse_conditional(parsed[name], spec, parsed, source)
    metric, goal = _parse_metric(data["metric"], source) if "metric" in data else (None, "maximize")
    max_trials = data.get("max_trials")
    if max_trials is not None:
        _integer(max_trials, "max_trials", source, 1, MAX_TRIALS, " (the cap on one sweep's trials)")
    seed = data.get("seed")
    if seed is not None:
        _integer(seed, "seed", source, 0, MAX_SEED)
    name = data.get("name")
    if name is not None:
        _experiment_name(name, source)
    description = data.get("description")
    if description is not None:
        _text(description, "description", source, MAX_TEXT)
    return SearchSpace(
        parameters=parsed, method=method, metric=metric, goal=goal, max_trials=max_trials,
        name=name, description=description, seed=seed, options=_parse_options(data, source),
    )


def _space_loader():
    """A :class:`yaml.SafeLoader` that refuses aliases and deep nesting while composing, before any expansion."""
    import yaml

    class SpaceLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):  # noqa: D102 - yaml's, with two checks
            event = self.peek_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                # aliases can expand a small file into gigabytes ("billion laughs"); a space file needs none
                raise SpaceFileError(f"YAML aliases (*{quote(event.anchor, 40)[1:-1]}) are not allowed in a space "
                                     f"file (line {line}); write the value out")
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise SpaceFileError(f"YAML nested deeper than {MAX_DEPTH} levels (line {line}); "
                                         f"a space file needs 4")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return SpaceLoader


def _read_limited(path: Path) -> str:
    shown = show_path(path)
    try:
        if path.is_dir():
            raise SpaceFileError(f"space file {shown} is a directory; give a YAML file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpaceFileError(f"space file {shown} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MiB)")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # a device or FIFO has no size: read no more than the limit
    except FileNotFoundError:
        raise SpaceFileError(f"space file {shown} does not exist") from None
    except OSError as exc:
        raise SpaceFileError(f"cannot read space file {shown}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpaceFileError(f"space file {shown} is larger than the limit of {MAX_FILE_BYTES:,} bytes (1 MiB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpaceFileError(f"space file {shown} is not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str, source: str) -> Any:
    """Parse space-file YAML safely: no tags beyond YAML's plain ones, no aliases, bounded nesting.

    Raises:
        SpaceFileError: for invalid YAML or one of the refused constructs.
    """
    import yaml

    loader = _space_loader()(text)
    try:
        return loader.get_single_data()
    except SpaceFileError as exc:
        raise SpaceFileError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise SpaceFileError(f"{source}: not valid YAML{at}: {quote(str(problem), 120)[1:-1]}") from None
    except ValueError as exc:  # Python refuses integers of more than 4,300 digits
        raise SpaceFileError(f"{source}: unusable value in the YAML (a number too long?): "
                             f"{quote(str(exc), 80)[1:-1]}") from None
    finally:
        loader.dispose()


def load_space(path: str | os.PathLike[str]) -> SearchSpace:
    """Read and validate a YAML space file (at most :data:`MAX_FILE_BYTES`).

    Raises:
        SpaceFileError: if the file is missing, too large, not YAML, or not a valid space.
    """
    path = Path(path)
    text = _read_limited(path)
    return parse_space(load_yaml(text, show_path(path)), source=show_path(path))


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
    parse_space(load_yaml(text, show_path(path)), source=show_path(path))  # never write what we cannot read back
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
        raise SpaceFileError(f"{where}: parameter {quote(name)}: conditional_on must name another parameter of the "
                             f"space, got {quote(parent)}")
    choices = parsed[parent]
    if choices.kind != "values" or choices.conditional_on is not None:
        raise SpaceFileError(f"{where}: parameter {quote(name)}: conditional_on {quote(parent)} must be a parameter given as "
                             "'values' (a list to choose from)")
    by_value = spec.get("by_value")
    if not isinstance(by_value, Mapping) or not by_value:
        raise SpaceFileError(f"{where}: parameter {quote(name)}: by_value must map values of {quote(parent)} to "
                             "{min: .., max: ..}")
    ranges = []
    for value, sub in by_value.items():
        match = [v for v in choices.values if _same_value(v, value)]
        if not match:
            raise SpaceFileError(f"{where}: parameter {quote(name)}: by_value key {quote(value)} is not one of the values of "
                                 f"{quote(parent)} ({', '.join(map(str, choices.values))})")
        if not isinstance(sub, Mapping) or set(sub) != {"min", "max"}:
            raise SpaceFileError(f"{where}: parameter {quote(name)}: by_value[{quote(value)}] must be {{min: .., max: ..}}, "
                                 f"got {quote(sub)}")
        lo, hi = _parse_range(f"{name}[{parent}={value}]", param.kind, sub, where)
        ranges.append((match[0], lo, hi))
    return replace(param, conditional_on=parent, by_value=tuple(ranges))
