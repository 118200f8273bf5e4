"""The Keras 3 guide "The Sequential model", section by section, with the
imports changed (`import plait as keras`, `from plait import layers, ops`).

Xception is built with `weights=None` (the guide's "imagenet" downloads its
weights) and trained on two 71x71 images, its smallest input.
"""

import numpy as np
import pytest

import plait as keras
from plait import layers, ops


def test_when_to_use_a_sequential_model():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    x = ops.ones((3, 3))
    y = model(x)
    assert tuple(y.shape) == (3, 4)

    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")
    x = ops.ones((3, 3))
    y = layer3(layer2(layer1(x)))
    assert tuple(y.shape) == (3, 4)
    # The same weights give the same function.
    model.set_weights(
        [w.detach().numpy() for w in layer1.weights + layer2.weights + layer3.weights]
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(x)), ops.convert_to_numpy(y), rtol=1e-6
    )


def test_creating_a_sequential_model():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    assert len(model.layers) == 3
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.pop()
    assert len(model.layers) == 2
    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"
    assert [layer.name for layer in model.layers] == ["layer1", "layer2", "layer3"]


def test_specifying_the_input_shape_in_advance(capsys):
    layer = layers.Dense(3)
    assert layer.weights == []
    x = ops.ones((1, 4))
    y = layer(x)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    x = ops.ones((1, 4))
    y = model(x)
    assert tuple(y.shape) == (1, 4)
    assert len(model.weights) == 6
    model.summary()

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    model.summary()
    assert len(model.layers) == 1  # the Input is not a layer
    assert len(model.weights) == 2  # built from the start
    assert "dense" in capsys.readouterr().out


def test_a_common_debugging_workflow_add_and_summary(capsys):
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.summary()
    assert "(None, 40, 40, 32)" in capsys.readouterr().out
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.summary()
    assert "(None, 4, 4, 32)" in capsys.readouterr().out
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    assert tuple(model.output_shape) == (None, 10)


def test_feature_extraction_with_a_sequential_model():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [
        (1, 123, 123, 32),
        (1, 121, 121, 32),
        (1, 119, 119, 32),
    ]

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 121, 121, 32)


def test_transfer_learning_with_a_sequential_model(tmp_path):
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )
    path = str(tmp_path / "pretrained.weights.h5")
    model.save_weights(path)
    model.load_weights(path)
    for layer in model.layers[:-1]:
        layer.trainable = False
    frozen = [w.detach().clone() for w in model.layers[0].weights]
    last = model.layers[-1].kernel.detach().clone()
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=1, verbose=0)
    for before, after in zip(frozen, model.layers[0].weights):
        np.testing.assert_array_equal(before.numpy(), after.detach().numpy())
    assert not np.allclose(last.numpy(), model.layers[-1].kernel.detach().numpy())


@pytest.mark.slow  # Xception: 21M weights
def test_transfer_learning_blueprint_with_a_pretrained_base():
    # Load a convolutional base with pre-trained weights
    base_model = keras.applications.Xception(
        weights=None, include_top=False, pooling="avg"
    )
    # Freeze the base model
    base_model.trainable = False
    # Use a Sequential model to add a trainable classifier on top
    model = keras.Sequential([base_model, layers.Dense(1000)])
    # Compile & train
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    frozen = base_model.get_weights()
    model.fit(rng.random((2, 71, 71, 3)), rng.random((2, 1000)), verbose=0)
    assert len(model.trainable_weights) == 2  # the new Dense
    assert len(model.non_trainable_weights) == len(base_model.weights)
    for before, after in zip(frozen, base_model.get_weights()):
        np.testing.assert_array_equal(before, after)  # BN statistics included


@pytest.mark.parametrize("argument", [{"input_shape": (4,)}, {"input_dim": 4}])
def test_first_layer_with_an_input_shape_argument(argument):
    # The Keras 2 way, which the guide's tf.keras edition still shows.
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", **argument))
    assert len(model.weights) == 2
    assert tuple(model.output_shape) == (None, 2)
