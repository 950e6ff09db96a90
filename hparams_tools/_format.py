"""How values are shown: the one number formatter, the one JSON-safe converter, safe quoting in messages.

Every module of :mod:`hparams_tools` that turns a value into text or JSON uses
these, so that a number looks the same in the CLI, the report and the plots,
and an untrusted string (a path with a newline, a 300 MB value from a space
file) can never break a one-line error message.
"""

from __future__ import annotations

import math
import os
import reprlib
from typing import Any

__all__ = ["quote", "show_path", "one_line", "is_missing", "format_number", "json_safe"]

QUOTE_LIMIT = 80

# reprlib stops walking a value early, so quoting a huge list or string costs little
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTE_LIMIT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxlevel = 3


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A short ``repr`` of ``value`` for an error message: at most ``limit`` characters, one line.

    Args:
        value: Anything, possibly huge or deeply nested (from an untrusted file).
        limit: Longest result; longer reprs end with ``...``.

    Returns:
        The (cut) repr; control characters appear escaped, as ``repr`` writes them.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # a hostile __repr__ must not turn an error message into another error
        text = f"<{type(value).__name__}>"
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_path(path: str | os.PathLike[str]) -> str:
    """A path as written when it is plain, else quoted like ``repr`` (newlines and control characters escaped)."""
    text = os.fsdecode(path)
    if text.isprintable() and text.strip() == text and text:
        return text
    return repr(text)


def one_line(text: str) -> str:
    """``text`` with every control character escaped, so that it prints as exactly one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the values not equal to themselves
    except (TypeError, ValueError):  # pd.NA and array-likes refuse a truth value
        return type(value).__name__ in ("NAType", "NaTType")


def format_number(value: Any, digits: int = 4, *, missing: str = "") -> str:
    """The compact text of a table cell, axis tick or note value: numbers to ``digits`` significant digits.

    Args:
        value: A number (Python or numpy), a category, or a missing value.
        digits: Significant digits of non-integer numbers.
        missing: Text of ``None``, NaN and infinities.

    Returns:
        ``f"{value:.{digits}g}"`` for floats, the integer for integers, ``str()`` for anything else.
    """
    if is_missing(value):
        return missing
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()  # numpy scalar -> Python
        except (TypeError, ValueError):
            pass
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else missing
    return str(value)


def json_safe(value: Any, *, digits: int | None = None) -> Any:
    """``value`` as plain, strict JSON data: numpy and pandas to Python, NaN/inf/NA/NaT to ``None``.

    Mappings become dicts with string keys, sequences and arrays become lists,
    timestamps ISO 8601 strings; anything else unknown becomes its ``str``.

    Args:
        value: A scalar, mapping, sequence, numpy array or pandas object.
        digits: Round floats to this many significant digits (``None``: full precision).

    Returns:
        Data that ``json.dumps(..., allow_nan=False)`` accepts.
    """
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v, digits=digits) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v, digits=digits) for v in value]
    if hasattr(value, "tolist") and not hasattr(value, "isoformat"):  # numpy arrays/scalars, pandas Series/Index
        return json_safe(value.tolist(), digits=digits)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}") if digits else value
    if is_missing(value):
        return None
    if hasattr(value, "isoformat"):  # datetime, pandas Timestamp
        return value.isoformat()
    return str(value)
