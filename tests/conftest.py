"""Shared fixtures: one seed for every test, fresh auto names where names matter."""

import pytest
import torch

from plait.mixed_precision import set_global_policy
from plait.utils import clear_session, set_random_seed


@pytest.fixture(autouse=True)
def seed():
    """Seed Python, NumPy and torch identically before every test."""
    set_random_seed(0)
    return 0


@pytest.fixture(autouse=True)
def _float32_policy():
    """Each test starts and ends with the default (float32) global dtype policy."""
    set_global_policy(None)
    yield
    set_global_policy(None)


@pytest.fixture(autouse=True, scope="session")
def _no_tf32():
    """Full float32 matmuls on GPU, so parity tolerances hold there too."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@pytest.fixture
def fresh_names():
    """Forget handed-out auto names, so the next layers are `dense`, `dense_1`, ..."""
    clear_session()
    yield
    clear_session()


@pytest.fixture
def clean_registry():
    """Objects a test registers for saving are forgotten after it."""
    import plait

    before = dict(plait.saving.get_custom_objects())
    yield
    plait.saving.get_custom_objects().clear()
    plait.saving.get_custom_objects().update(before)


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need CUDA: skipped on machines without it."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
