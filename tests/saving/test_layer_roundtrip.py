"""Every layer family survives model.save / load_model with identical predictions."""

import numpy as np
import pytest

from plait import layers as L
from plait.models import Model, load_model
from plait.utils import tree

# (class name, constructor kwargs, input shape without batch[, input dtype])
CASES = [
    ("Dense", {"units": 3, "activation": "relu", "kernel_regularizer": "l2"}, (4,)),
    ("Activation", {"activation": "tanh"}, (4,)),
    ("Embedding", {"input_dim": 10, "output_dim": 3, "mask_zero": True}, (5,), "int32"),
    ("Masking", {}, (5, 3)),
    ("Dropout", {"rate": 0.3}, (4,)),
    ("Flatten", {}, (2, 3)),
    ("Reshape", {"target_shape": (3, 2)}, (6,)),
    ("Permute", {"dims": (2, 1)}, (2, 3)),
    ("RepeatVector", {"n": 2}, (3,)),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": "causal"}, (8, 3)),
    ("Conv2D", {"filters": 2, "kernel_size": (3, 3), "strides": 2}, (8, 8, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 2}, (4, 4, 4, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (4, 4, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (6, 6, 2)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3}, (6, 6, 2)),
    ("MaxPooling2D", {"pool_size": 2}, (6, 6, 2)),
    ("AveragePooling1D", {"pool_size": 2, "padding": "same"}, (5, 2)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (5, 5, 2)),
    ("BatchNormalization", {}, (4,)),
    ("LayerNormalization", {}, (4,)),
    ("GroupNormalization", {"groups": 2}, (4,)),
    ("SimpleRNN", {"units": 3}, (5, 2)),
    ("GRU", {"units": 3, "return_sequences": True, "reset_after": False}, (5, 2)),
    ("LSTM", {"units": 3, "return_state": True}, (5, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, (3, 5, 5, 2)),
    ("Cropping2D", {"cropping": 1}, (5, 5, 2)),
    ("ZeroPadding1D", {"padding": 1}, (5, 2)),
    ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (3, 3, 2)),
    ("PReLU", {}, (4,)),
    ("LeakyReLU", {}, (4,)),
    ("Softmax", {}, (4,)),
    ("GaussianNoise", {"stddev": 0.1}, (4,)),
    ("SpatialDropout1D", {"rate": 0.1}, (5, 2)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_survives_save_and_load(case, tmp_path):
    name, kwargs, shape = case[:3]
    dtype = case[3] if len(case) > 3 else "float32"
    layer = getattr(L, name)(**kwargs)
    x = L.Input(shape=shape, dtype=dtype)
    model = Model(x, layer(x))
    rng = np.random.default_rng(0)
    if dtype == "int32":
        data = rng.integers(0, 10, (2, *shape)).astype(dtype)
    else:
        data = rng.standard_normal((2, *shape)).astype(dtype)
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    assert loaded.layers[1].get_config() == layer.get_config()
    for a, b in zip(
        tree.flatten(model.predict(data, verbose=0)),
        tree.flatten(loaded.predict(data, verbose=0)),
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="ave"),
        lambda: L.TimeDistributed(L.Dense(2)),
        lambda: L.RNN([L.GRUCell(3), L.SimpleRNNCell(2)]),
    ],
    ids=["Bidirectional", "TimeDistributed", "RNN-stacked-cells"],
)
def test_wrapper_layers_survive_save_and_load(make, tmp_path):
    x = L.Input(shape=(5, 3))
    model = Model(x, make()(x))
    data = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    np.testing.assert_array_equal(
        model.predict(data, verbose=0), loaded.predict(data, verbose=0)
    )


def test_attention_layers_survive_save_and_load(tmp_path):
    q, v = L.Input(shape=(2, 3)), L.Input(shape=(4, 3))
    out = L.Concatenate()(
        [L.Attention()([q, v]), L.MultiHeadAttention(num_heads=2, key_dim=3)(q, v)]
    )
    model = Model([q, v], out)
    data = [np.ones((2, 2, 3), "float32"), np.ones((2, 4, 3), "float32")]
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    np.testing.assert_array_equal(
        model.predict(data, verbose=0), loaded.predict(data, verbose=0)
    )
