"""Dtype policies: names, dtypes, the global policy, layers' dtype attributes."""

import pytest
import torch

import plait
from plait import mixed_precision
from plait.dtype_policies import policy as dtype_policies
from plait.layers import Dense


@pytest.mark.parametrize(
    ("name", "compute", "variable"),
    [
        ("float32", "float32", "float32"),
        ("mixed_float16", "float16", "float32"),
        ("mixed_bfloat16", "bfloat16", "float32"),
        ("float16", "float16", "float16"),
        ("bfloat16", "bfloat16", "bfloat16"),
    ],
)
def test_policy_dtypes(name, compute, variable):
    policy = mixed_precision.Policy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        name,
        compute,
        variable,
    )


def test_policy_aliases():
    assert plait.DTypePolicy is mixed_precision.Policy is mixed_precision.DTypePolicy
    assert plait.dtype_policies.DTypePolicy is plait.DTypePolicy


def test_policy_rejects_unknown_name_listing_valid_ones():
    with pytest.raises(
        ValueError, match=r"expected one of \['float32', 'mixed_float16'"
    ):
        mixed_precision.Policy("mixed_float32")


def test_set_global_policy_and_reset():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.global_policy() == mixed_precision.Policy("mixed_bfloat16")
    mixed_precision.set_global_policy(mixed_precision.Policy("float32"))
    assert mixed_precision.global_policy().name == "float32"


def test_set_global_policy_rejects_non_float_policy():
    with pytest.raises(ValueError, match="expected a floating-point policy"):
        mixed_precision.set_global_policy("int32")
    with pytest.raises(ValueError, match="expected one of"):
        mixed_precision.set_global_policy("fp16")


def test_layer_dtype_attributes_under_mixed_policy():
    layer = Dense(2, dtype="mixed_float16")
    assert layer.dtype_policy.name == "mixed_float16"
    assert layer.compute_dtype == torch.float16
    assert layer.variable_dtype == torch.float32
    assert layer.dtype == "float32"  # Keras: the variable dtype
    layer(torch.ones(1, 3))
    assert {p.dtype for p in layer.parameters()} == {torch.float32}


def test_layers_created_after_set_global_policy_take_it():
    before = Dense(2)
    mixed_precision.set_global_policy("mixed_bfloat16")
    after = Dense(2)
    assert before.dtype_policy.name == "float32"
    assert after.dtype_policy.name == "mixed_bfloat16"
    assert Dense(2, dtype="float32").compute_dtype == torch.float32


def test_layer_plain_dtype_keeps_its_behaviour():
    layer = Dense(2, dtype="float64")
    out = layer(torch.ones(1, 3, dtype=torch.float64))
    assert layer.kernel.dtype == out.dtype == torch.float64
    assert layer.get_config()["dtype"] == "float64"


def test_layer_bad_dtype_names_the_layer():
    with pytest.raises(ValueError, match="Dense layer 'd': DTypePolicy: expected one"):
        Dense(2, dtype="mixed_float32", name="d")


def test_keras_policy_config_is_accepted():
    config = Dense(2).get_config()
    config["dtype"] = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    layer = Dense.from_config(config)
    assert layer.dtype_policy.name == "mixed_float16"
    assert layer.get_config()["dtype"] == "mixed_float16"
    assert dtype_policies.deserialize(dtype_policies.serialize(layer.dtype_policy)) == (
        layer.dtype_policy
    )


def test_deserialize_rejects_other_classes():
    with pytest.raises(ValueError, match=r"expected \{'class_name': 'DTypePolicy'"):
        dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy", "config": {}})
