"""The Keras 3 guide "Transfer learning & fine-tuning", section by section, with
the imports changed (`import plait as keras`).

Xception is built with `weights=None` (the guide's "imagenet" downloads its
weights), at 71x71, its smallest input, instead of 150x150. The cats-vs-dogs
dataset (TFDS) is random 71x71 images with random labels; the guide's data
augmentation (`RandomFlip`, `RandomRotation`, mapped over a tf.data pipeline)
is applied to the arrays.
"""

import numpy as np
import pytest
import torch

import plait as keras


def test_freezing_layers_understanding_the_trainable_attribute():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    assert len(layer.weights) == 2
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 0

    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2

    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    layer.trainable = False
    assert len(layer.weights) == 2
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 2

    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
    layer1.trainable = False
    initial_layer1_weights_values = layer1.get_weights()
    initial_layer2_weights_values = layer2.get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
    final_layer1_weights_values = layer1.get_weights()
    np.testing.assert_allclose(
        initial_layer1_weights_values[0], final_layer1_weights_values[0]
    )
    np.testing.assert_allclose(
        initial_layer1_weights_values[1], final_layer1_weights_values[1]
    )
    assert not np.allclose(initial_layer2_weights_values[0], layer2.get_weights()[0])


def test_recursive_setting_of_the_trainable_attribute():
    inner_model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(3, activation="relu"),
        ]
    )
    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            inner_model,
            keras.layers.Dense(3, activation="sigmoid"),
        ]
    )
    model.trainable = False
    assert inner_model.trainable == False  # noqa: E712 (the guide's check)
    assert inner_model.layers[0].trainable == False  # noqa: E712
    assert model.trainable_weights == []


SIZE = 71  # Xception's smallest input


def _base_model():
    return keras.applications.Xception(
        weights=None,  # the guide: "imagenet" (a download)
        input_shape=(SIZE, SIZE, 3),
        include_top=False,
    )


def _new_dataset(n=32):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, SIZE, SIZE, 3)).astype("float32")
    labels = rng.integers(0, 2, (n, 1)).astype("float32")
    return images, labels


def _frozen_base_and_new_model():
    """The guide's workflow: freeze the base, a new classifier on top of it."""
    base_model = _base_model()
    base_model.trainable = False
    inputs = keras.Input(shape=(SIZE, SIZE, 3))
    x = base_model(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    return base_model, model


def test_the_typical_transfer_learning_workflow():
    base_model, model = _frozen_base_and_new_model()
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    frozen = base_model.get_weights()
    x_new, y_new = _new_dataset()
    history = model.fit(
        x_new, y_new, epochs=2, validation_data=(x_new[:8], y_new[:8]), verbose=0
    )
    assert set(history.history) == {
        "loss",
        "binary_accuracy",
        "val_loss",
        "val_binary_accuracy",
    }
    for a, b in zip(frozen, base_model.get_weights()):
        np.testing.assert_array_equal(a, b)  # moving statistics included


def test_fine_tuning():
    base_model, model = _frozen_base_and_new_model()
    x_new, y_new = _new_dataset()
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    model.fit(x_new, y_new, epochs=1, verbose=0)
    base_model.trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    conv = next(la for la in base_model.layers if isinstance(la, keras.layers.Conv2D))
    bn = next(
        la
        for la in base_model.layers
        if isinstance(la, keras.layers.BatchNormalization)
    )
    moving = [w.detach().clone() for w in bn.non_trainable_weights]
    kernel = conv.kernel.detach().clone()
    model.fit(x_new, y_new, epochs=1, verbose=0)
    # The base trains now, but its BatchNormalization stays in inference mode.
    assert not torch.equal(kernel, conv.kernel.detach())
    for before, after in zip(moving, bn.non_trainable_weights):
        assert torch.equal(before, after.detach())


def test_transfer_learning_and_fine_tuning_with_a_custom_training_loop():
    base_model, model = _frozen_base_and_new_model()
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam()
    frozen = base_model.get_weights()
    new_dataset = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*map(torch.from_numpy, _new_dataset())),
        batch_size=8,
    )
    # The guide's GradientTape loop, written the torch way (loss.backward()).
    for inputs, targets in new_dataset:
        predictions = model(inputs)
        loss_value = loss_fn(targets, predictions)
        model.zero_grad()
        loss_value.backward()
        gradients = [v.value.grad for v in model.trainable_weights]
        with torch.no_grad():
            optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    assert len(model.trainable_weights) == 2  # the new Dense only
    assert int(optimizer.iterations) == 4
    for a, b in zip(frozen, base_model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_an_end_to_end_example_fine_tuning_an_image_classifier(capsys):
    train_x, train_y = _new_dataset(48)
    data_augmentation_layers = [
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(0.1),
    ]

    def data_augmentation(x):
        for layer in data_augmentation_layers:
            x = layer(x)
        return x

    augmented = data_augmentation(torch.from_numpy(train_x)).numpy()
    assert augmented.shape == train_x.shape
    assert not np.array_equal(augmented, train_x)
    train_x = augmented
    base_model = keras.applications.Xception(
        weights=None,  # the guide: "imagenet" (a download)
        input_shape=(SIZE, SIZE, 3),
        include_top=False,
    )
    base_model.trainable = False
    inputs = keras.Input(shape=(SIZE, SIZE, 3))
    scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
    x = scale_layer(inputs)
    x = base_model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.summary(show_trainable=True)
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    epochs = 2
    validation_data = (train_x[:16], train_y[:16])
    model.fit(
        train_x, train_y, epochs=epochs, validation_data=validation_data, verbose=0
    )
    base_model.trainable = True
    model.summary(show_trainable=True)
    out = capsys.readouterr().out
    assert "Trainable" in out
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    history = model.fit(
        train_x, train_y, epochs=1, validation_data=validation_data, verbose=0
    )
    _loss, accuracy = model.evaluate(train_x[16:], train_y[16:], verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 <= accuracy <= 1.0
