"""Structured notes of a plot: what kind of statement each is, so that readers never match English words.

A plot's info carries ``notes: list[Note]``. The renderers print their text
(caption, subtitle); the report moves the kinds that concern data quality
(a sample was drawn, only the top hyperparameters are shown, a plot was
skipped) into its data-quality section by ``kind``.
"""

from __future__ import annotations

from typing import NamedTuple


class Note(NamedTuple):
    """One statement about a plot.

    Attributes:
        kind: One of :data:`KINDS`.
        text: The sentence shown to the reader.
    """

    kind: str
    text: str


METHOD = "method"
"""How the drawn values were computed (a model's prediction, scaling)."""
SAMPLE = "sample"
"""Only a seeded sample of the sessions is drawn."""
TOP_K = "top_k"
"""Only the most important hyperparameters are shown."""
MARKS = "marks"
"""What a marker, colour or error bar means."""
SKIPPED = "skipped"
"""A plot was not drawn (and why)."""
KINDS = (METHOD, SAMPLE, TOP_K, MARKS, SKIPPED)
DATA_QUALITY = frozenset({SAMPLE, TOP_K, SKIPPED})
"""Kinds the report repeats in its data-quality section."""


def texts(notes: list[Note]) -> list[str]:
    """The sentences of ``notes`` in order (what a caption prints)."""
    return [n.text for n in notes]
