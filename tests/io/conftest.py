"""Fixtures shared by the io tests (and usable by others): TensorBoard's view of a logdir vs ours."""

from __future__ import annotations

import pytest

from tensorboard_reference import assert_matches_tensorboard, reader_view, tensorboard_view


@pytest.fixture
def matches_tensorboard():
    """:func:`tensorboard_reference.assert_matches_tensorboard`: assert the reader agrees with TensorBoard."""
    return assert_matches_tensorboard


@pytest.fixture
def tb_view():
    """:func:`tensorboard_reference.tensorboard_view`: TensorBoard's HParams backend view as plain data."""
    return tensorboard_view


@pytest.fixture
def our_view():
    """:func:`tensorboard_reference.reader_view`: the reader's view in the same shape."""
    return reader_view
