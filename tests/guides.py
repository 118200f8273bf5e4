"""What several Keras 3 guide ports share: the guides' MNIST model, as written
there (imports changed), and MNIST-shaped random data (no download)."""

import numpy as np

import plait as keras
from plait import layers


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def mnist_like(n=64, label_shape=None):
    """`n` flattened "images" in [0, 1) and integer labels 0-9 (`(n,)` by default)."""
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, label_shape or n)
