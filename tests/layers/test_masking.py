"""Masks as Keras's "Understanding masking & padding" guide uses them, imports
changed: `_keras_mask` on eager and symbolic tensors, layers that override
`compute_mask` without `supports_masking`, and one mask per output of a layer
returning a list."""

import numpy as np
import torch

import plait as keras
from plait import layers, ops


def _padded():
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]
    padded = np.zeros((3, 6), dtype="int32")
    for i, row in enumerate(raw_inputs):
        padded[i, : len(row)] = row
    return padded


class TemporalSplit(keras.layers.Layer):
    """Split the input tensor into 2 tensors along the time dimension."""

    def call(self, inputs):
        # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
        # subtensors along the time axis (axis 1).
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        # Also split the mask into 2 if it presents.
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


class CustomEmbedding(keras.layers.Layer):
    def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer="random_normal",
            dtype="float32",
        )

    def call(self, inputs):
        inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)


def test_split_layer_gives_each_output_its_mask_eagerly():
    padded_inputs = _padded()
    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = ops.cast(
        ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), "float32"
    )
    masked_embedding = masking_layer(unmasked_embedding)
    first_half, second_half = TemporalSplit()(masked_embedding)
    expected = torch.as_tensor(padded_inputs != 0)
    torch.testing.assert_close(first_half._keras_mask, expected[:, :3])
    torch.testing.assert_close(second_half._keras_mask, expected[:, 3:])


def test_compute_mask_override_attaches_without_supports_masking():
    layer = CustomEmbedding(10, 32, mask_zero=True)
    assert not layer.supports_masking
    x = (np.random.default_rng(0).random((3, 10)) * 9).astype("int32")
    y = layer(x)
    mask = layer.compute_mask(x)
    torch.testing.assert_close(y._keras_mask, mask)
    torch.testing.assert_close(mask, torch.as_tensor(x != 0))
    assert not hasattr(CustomEmbedding(10, 32)(x), "_keras_mask")


def test_symbolic_tensors_expose_keras_mask_and_models_carry_it():
    inputs = keras.Input(shape=(6,), dtype="int32")
    x = CustomEmbedding(10, 32, mask_zero=True)(inputs)
    assert inputs._keras_mask is None
    assert x._keras_mask is not None
    assert x._keras_mask.shape == (None, 6)
    first, second = TemporalSplit()(x)
    assert first._keras_mask is not None
    assert second._keras_mask is not None
    model = keras.Model(inputs, [first, second])
    data = _padded() % 10
    out_first, out_second = model(torch.as_tensor(data))
    expected = torch.as_tensor(data != 0)
    torch.testing.assert_close(out_first._keras_mask, expected[:, :3])
    torch.testing.assert_close(out_second._keras_mask, expected[:, 3:])


def test_mask_fills_only_a_one_tensor_call_of_a_user_layer_as_keras_3():
    # keras.io's translation decoder: call(x, enc, mask=None) gets no mask
    # (Keras fills `mask` only for one tensor argument); <arg>_mask still works.
    seen = {}

    class Decoder(layers.Layer):
        def call(self, x, enc, mask=None, enc_mask=None):
            seen["mask"], seen["enc_mask"] = mask, enc_mask
            return x

    class Single(layers.Layer):
        def call(self, x, mask=None):
            seen["single"] = mask
            return x

    embed = layers.Embedding(10, 4, mask_zero=True)
    x, enc = embed(torch.tensor([[1, 2, 0]])), embed(torch.tensor([[1, 0, 0, 0]]))
    Decoder()(x, enc)
    Single()(x)
    assert seen["mask"] is None
    assert seen["enc_mask"].tolist() == [[True, False, False, False]]
    assert seen["single"].tolist() == [[True, True, False]]
    a = keras.Input((3,), dtype="int32")
    b = keras.Input((4,), dtype="int32")
    model = keras.Model([a, b], Decoder()(embed(a), embed(b)))
    model.predict([np.array([[1, 2, 0]]), np.array([[1, 0, 0, 0]])], verbose=0)
    assert seen["mask"] is None
    assert seen["enc_mask"].tolist() == [[True, False, False, False]]
