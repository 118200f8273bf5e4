"""Shared fixtures: one seed for every test, fresh auto names where names matter."""

import pytest

from plait.utils import clear_session, set_random_seed


@pytest.fixture(autouse=True)
def seed():
    """Seed Python, NumPy and torch identically before every test."""
    set_random_seed(0)
    return 0


@pytest.fixture
def fresh_names():
    """Forget handed-out auto names, so the next layers are `dense`, `dense_1`, ..."""
    clear_session()
    yield
    clear_session()
