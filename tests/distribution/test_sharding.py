"""FSDP's pieces that run in one process: the config, whole values, layer hooks."""

import pytest
import torch

import plait
from plait.distribution import FSDP, DataParallel, sharding


def test_fsdp_is_a_distribution():
    config = FSDP(reshard_after_forward=False)
    assert isinstance(config, DataParallel)
    assert config.reshard_after_forward is False
    plait.distribution.set_distribution(config)
    try:
        assert plait.distribution.distribution() is config
    finally:
        plait.distribution.set_distribution(None)


def test_fsdp_rejects_unknown_arguments():
    with pytest.raises(
        TypeError, match=r"FSDP\(\): unexpected argument\(s\) \['mesh'\]"
    ):
        FSDP(mesh=2)


def test_set_distribution_names_fsdp():
    with pytest.raises(TypeError, match="DataParallel, FSDP or None, got str"):
        plait.distribution.set_distribution("fsdp")


def test_plain_tensors_are_their_own_whole_values():
    t = torch.arange(4.0)
    with sharding.gathered([t]):
        assert sharding.full(t) is t
    sharding.assign(t, torch.ones(4, dtype=torch.float64))
    assert t.tolist() == [1.0] * 4
    assert t.dtype == torch.float32
    assert not sharding.is_sharded(t)


def test_graph_programs_run_layer_forward_hooks():
    # FSDP gathers a layer's weights in its forward pre-hook: the generated
    # program, which calls `layer.call` directly, must run the torch hooks.
    x = plait.layers.Input(shape=(3,))
    dense = plait.layers.Dense(2)
    model = plait.Model(x, dense(x))
    seen = []
    dense.register_forward_pre_hook(lambda m, args: seen.append("pre"))
    dense.register_forward_hook(lambda m, args, out: out * 0 + 7)
    out = model(torch.ones(1, 3))
    assert seen == ["pre"]
    assert out.tolist() == [[7.0, 7.0]]
