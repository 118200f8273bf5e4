"""Weights as Keras variables, ported from the Keras 3 guide "Making new layers
and models via subclassing" (imports changed), plus the variable API itself."""

import copy
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

import plait as keras
from plait import layers, ops


# --- Guide: "The Layer class: the combination of state (weights) and some computation"
class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_guide_linear_weights_are_tracked():
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]


# --- Guide: "Layers can have non-trainable weights"
class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_guide_non_trainable_weight_assign_add():
    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    np.testing.assert_allclose(y.numpy(), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_allclose(y.numpy(), [4.0, 4.0])
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


def test_assign_add_in_call_builds_in_a_functional_model():
    inputs = keras.Input((2,))
    outputs = ComputeSum(2)(inputs)  # shape inference runs `call` on meta tensors
    model = keras.Model(inputs, outputs)
    layer = model.layers[-1]
    np.testing.assert_allclose(layer.total.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(model(torch.ones(3, 2)).detach().numpy(), [3.0, 3.0])
    assert layer.total.device.type == "cpu"


# --- Guide: "Best practice: deferring weight creation until the shape of the inputs is known"
class LazyLinear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_guide_lazy_build_and_variable_attributes():
    linear_layer = LazyLinear(32)
    y = linear_layer(ops.ones((2, 2)))
    assert tuple(y.shape) == (2, 32)
    w = linear_layer.w
    assert isinstance(w, torch.nn.Parameter)
    assert w.shape == (2, 32)
    # dtype and shape stay torch's (torch's optimizers, DDP and FSDP read them)
    assert w.dtype == torch.float32
    assert w.trainable
    assert w.numpy().shape == (2, 32)
    assert w.name == "variable"
    assert w.path.startswith(linear_layer.name + "/")


# --- Variable API
def test_assign_family_changes_the_live_parameter():
    layer = layers.Dense(2)
    layer.build((None, 3))
    kernel = layer.kernel
    kernel.assign(np.ones((3, 2), dtype="float32"))
    np.testing.assert_allclose(kernel.numpy(), np.ones((3, 2)))
    kernel.assign_add(ops.ones((3, 2)))
    kernel.assign_sub(0.5)
    np.testing.assert_allclose(layer.get_weights()[0], np.full((3, 2), 1.5))
    assert layer.kernel is kernel


def test_assign_rejects_a_wrong_shape():
    layer = layers.Dense(2, name="d")
    layer.build((None, 3))
    with pytest.raises(
        ValueError,
        match=r"Variable 'd/kernel': expected a value of shape \(3, 2\), got \(2, 2\)\.",
    ):
        layer.kernel.assign(np.ones((2, 2)))


def test_assign_takes_keras_layout_for_torch_layout_weights():
    layer = layers.Conv2D(4, 3)
    layer.build((None, 8, 8, 2))
    keras_kernel = np.arange(3 * 3 * 2 * 4, dtype="float32").reshape(3, 3, 2, 4)
    layer.kernel.assign(keras_kernel)
    np.testing.assert_array_equal(layer.get_weights()[0], keras_kernel)


def test_value_is_the_live_tensor_and_carries_grad():
    layer = layers.Dense(1)
    out = layer(torch.ones(4, 3)).sum()
    out.backward()
    assert layer.kernel.value.grad is not None
    assert torch.equal(layer.kernel.value.grad, layer.kernel.grad)


def test_name_and_path_follow_keras():
    layer = layers.Dense(2, name="dense_z")
    layer.build((None, 3))
    assert layer.kernel.name == "kernel"
    assert layer.kernel.path == "dense_z/kernel"
    assert layer.bias.path == "dense_z/bias"


def test_path_of_a_layer_built_by_a_sequential_has_its_name():
    # Keras 3 builds a Sequential's layers in its name scope, nested or not.
    seq = keras.Sequential([layers.Dense(2, name="d1")], name="seq")
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, seq(inputs))
    assert [w.path for w in outer.weights] == ["seq/d1/kernel", "seq/d1/bias"]
    inner = keras.Sequential([layers.Dense(2, name="e1")], name="inner")
    outer_seq = keras.Sequential([inner], name="outer")
    outer_seq.build((None, 3))
    assert outer_seq.weights[0].path == "outer/inner/e1/kernel"
    built = layers.Dense(2, name="before")
    built.build((None, 4))
    keras.Sequential([built], name="late").build((None, 4))
    assert built.kernel.path == "before/kernel"


def test_trainable_follows_the_layer_and_can_be_set():
    layer = layers.Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert not layer.kernel.trainable
    layer.trainable = True
    layer.kernel.trainable = False
    assert not layer.kernel.requires_grad
    assert layer.trainable_weights == [layer.bias]


def test_keras2_positional_add_weight():
    class Scale(layers.Layer):
        def build(self, input_shape):
            # Keras 2: (name, shape, dtype, initializer, regularizer, trainable, constraint)
            self.s = self.add_weight(
                "s", (input_shape[-1],), "float32", "ones", None, True
            )
            self.t = self.add_weight("t", (1,), None, "zeros", "l2", False)

        def call(self, inputs):
            return inputs * self.s + self.t

    layer = Scale()
    layer(torch.ones(2, 3))
    assert layer.s.name == "s"
    assert layer.s.numpy().tolist() == [1.0, 1.0, 1.0]
    assert not layer.t.trainable
    assert len(layer.losses) == 1


def test_keras3_keyword_add_weight():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.s = self.add_weight(
                shape=(input_shape[-1],), initializer="ones", dtype="float64",
                trainable=True, autocast=False, regularizer=None, constraint=None,
                aggregation="mean", name="scale",
            )  # fmt: skip

        def call(self, inputs):
            return inputs * self.s

    layer = Scale()
    layer(torch.ones(2, 3, dtype=torch.float64))
    assert layer.s.name == "scale"
    assert layer.s.dtype == torch.float64


def test_variables_survive_torch_machinery():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(1)])
    # optimizer, state_dict, deepcopy keep working with the variables
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(4, 3)).sum().backward()
    opt.step()
    state = model.state_dict()
    clone = copy.deepcopy(model)
    assert clone.weights[0].path == model.weights[0].path
    clone.weights[0].assign(torch.zeros(3, 2))
    assert not torch.equal(clone.weights[0], model.weights[0])
    clone.load_state_dict(state)
    torch.testing.assert_close(clone.weights[0], model.weights[0])
    compiled = torch.compile(clone, backend="aot_eager")
    torch.testing.assert_close(compiled(torch.ones(1, 3)), clone(torch.ones(1, 3)))
    restored = pickle.loads(pickle.dumps(model))
    assert restored.weights[0].path == model.weights[0].path


FSDP_SCRIPT = r"""
import os, sys, torch, torch.distributed as dist
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[1])
dist.init_process_group("gloo", rank=0, world_size=1)
from torch.distributed.fsdp import fully_shard
import plait
from plait import layers
model = plait.Sequential([plait.Input((3,)), layers.Dense(4), layers.Dense(1)])
assert type(model.weights[0]).__name__ == "Variable"
fully_shard(model)
model(torch.ones(2, 3)).sum().backward()
assert all(p.grad is not None for p in model.parameters())
dist.destroy_process_group()
print("ok")
"""


@pytest.mark.slow
def test_variables_shard_with_fsdp(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    script = tmp_path / "fsdp.py"
    script.write_text(FSDP_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PLAIT_DEVICE": "cpu"}
    done = subprocess.run(
        [sys.executable, str(script), port],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.stdout.strip() == "ok", done.stderr[-3000:]
