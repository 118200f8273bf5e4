"""The Keras 3 guide "Training & evaluation with the built-in methods", section
by section, with the imports changed (`import plait as keras`,
`from plait import layers, ops`).

Data: MNIST is random arrays of the same shapes (no download): 192 training,
64 validation and 64 test samples; epochs are fewer. TensorFlow is not
installed: the `tf.data.Dataset` sections run on a torch `DataLoader` over the
same arrays. The custom loss, metric and add_loss layers are shared with the
module that ports them too (tests/losses, tests/metrics, tests/training).
`plot_model` writes its PNG where pydot and Graphviz's `dot` are installed;
`add_metric` is gone in Keras 3.
"""

import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import plait as keras
from plait import layers, ops
from tests.guides import get_uncompiled_model
from tests.keras_guides import plot_model as _plot_model
from tests.losses.test_custom_losses import CustomMSE, custom_mean_squared_error
from tests.metrics.test_custom_metrics import CategoricalTruePositives
from tests.training.test_add_loss import (
    GuideActivityRegularizationLayer as ActivityRegularizationLayer,
)
from tests.training.test_add_loss import LogisticEndpoint


def _mnist():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (256, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, 256).astype("uint8")
    x_test = rng.integers(0, 256, (64, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, 64).astype("uint8")
    x_train = x_train.reshape(256, 784).astype("float32") / 255
    x_test = x_test.reshape(64, 784).astype("float32") / 255
    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")
    x_val = x_train[-64:]
    y_val = y_train[-64:]
    x_train = x_train[:-64]
    y_train = y_train[:-64]
    return x_train, y_train, x_val, y_val, x_test, y_test


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def _dataset(*arrays, batch_size=64, shuffle=False):
    """What the guide builds with `tf.data.Dataset.from_tensor_slices(...).batch()`."""
    tensors = [torch.as_tensor(a) for a in arrays]
    return DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle)


def test_api_overview_a_first_end_to_end_example():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    x_train, y_train, x_val, y_val, x_test, y_test = _mnist()
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    assert set(history.history) == {
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    }
    assert history.history["loss"][1] < history.history["loss"][0]
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    assert len(results) == 2
    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_the_compile_method_specifying_a_loss_metrics_and_an_optimizer():
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x_train, y_train, *_ = _mnist()
    by_object = model.evaluate(x_train, y_train, verbose=0)
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    assert model.evaluate(x_train, y_train, verbose=0) == by_object
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    model = get_compiled_model()
    assert model.compiled


def test_custom_losses():
    x_train, y_train, *_ = _mnist()
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_custom_metrics():
    x_train, y_train, *_ = _mnist()
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    # The guide compares labels of shape (n,) with predictions reshaped to
    # (n, 1): they broadcast to (n, n), so the count runs past n (Keras 3.15
    # counts the same way). A whole count, reset each epoch.
    for value in history.history["categorical_true_positives"]:
        assert 0 < value <= 3 * 64 * 64
        assert value == int(value)


def test_handling_losses_and_metrics_that_dont_fit_the_standard_signature():
    x_train, y_train, *_ = _mnist()
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    first = float(plain(y_train[:64], model.predict(x_train[:64], verbose=0)))
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert history.history["loss"][0] > first  # the regularization term is added

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!
    data = {
        "inputs": np.random.random((3, 3)),
        "targets": np.random.random((3, 10)),
    }
    history = model.fit(data, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_model_add_loss_in_the_functional_api():
    # The tf.keras edition of this section: `model.add_loss(symbolic_tensor)`.
    x_train, y_train, *_ = _mnist()
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x2 = layers.Dense(64, activation="relu", name="dense_2")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.add_loss(ops.sum(x1) * 0.1)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = x_train[:64]
    hidden = keras.Model(inputs, x1).predict(x, verbose=0)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = float(plain(y_train[:64], model.predict(x, verbose=0)))
    expected += 0.1 * hidden.sum()
    loss = model.evaluate(x, y_train[:64], batch_size=64, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-4)
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)


def test_automatically_setting_apart_a_validation_holdout_set():
    x_train, y_train, *_ = _mnist()
    model = get_compiled_model()
    history = model.fit(
        x_train, y_train, batch_size=64, validation_split=0.25, epochs=1, verbose=0
    )
    # The last 25% (48 samples) are held out, before any shuffling.
    val = model.evaluate(x_train[-48:], y_train[-48:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val[0], rel=1e-5)


def test_training_and_evaluation_from_datasets():
    # `tf.data` in the guide; a torch DataLoader here.
    x_train, y_train, x_val, y_val, x_test, y_test = _mnist()
    model = get_compiled_model()
    train_dataset = _dataset(x_train, y_train, shuffle=True)
    test_dataset = _dataset(x_test, y_test)
    model.fit(train_dataset, epochs=3, verbose=0)
    result = model.evaluate(test_dataset, verbose=0)
    logs = dict(zip(model.metrics_names, result))
    assert set(logs) == {"loss", "sparse_categorical_accuracy"}

    model = get_compiled_model()
    seen = []

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    model.fit(
        train_dataset, epochs=3, steps_per_epoch=2, verbose=0, callbacks=[Steps()]
    )
    assert seen == [0, 1] * 3

    model = get_compiled_model()
    val_dataset = _dataset(x_val, y_val, batch_size=16)
    history = model.fit(train_dataset, epochs=1, validation_data=val_dataset, verbose=0)
    assert "val_loss" in history.history
    history = model.fit(
        train_dataset,
        epochs=1,
        validation_data=val_dataset,
        validation_steps=1,
        verbose=0,
    )
    first = model.evaluate(x_val[:16], y_val[:16], verbose=0)[0]
    assert history.history["val_loss"][0] == pytest.approx(first, rel=1e-5)


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
        return batch_x, batch_y


def test_using_a_pydataset_instance():
    x_train, y_train, x_val, y_val, *_ = _mnist()
    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
    val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)
    model = get_compiled_model()
    model.fit(train_py_dataset, validation_data=val_py_dataset, epochs=1, verbose=0)
    result = model.evaluate(val_py_dataset, verbose=0)
    np.testing.assert_allclose(
        result, model.evaluate(x_val, y_val, verbose=0), rtol=1e-5
    )


@pytest.mark.slow
def test_using_a_pydataset_with_workers():
    x_train, y_train, x_val, y_val, *_ = _mnist()
    val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)
    model = get_compiled_model()
    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=2)
    model.fit(train_py_dataset, validation_data=val_py_dataset, epochs=1, verbose=0)
    train_py_dataset = ExamplePyDataset(
        x_train, y_train, batch_size=32, workers=2, use_multiprocessing=True
    )
    history = model.fit(
        train_py_dataset, validation_data=val_py_dataset, epochs=1, verbose=0
    )
    assert np.isfinite(history.history["val_loss"][0])


class ExampleTorchDataset(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


def test_using_a_pytorch_dataloader():
    x_train, y_train, x_val, y_val, *_ = _mnist()
    train_torch_dataset = ExampleTorchDataset(x_train, y_train)
    val_torch_dataset = ExampleTorchDataset(x_val, y_val)
    train_dataloader = torch.utils.data.DataLoader(
        train_torch_dataset, batch_size=32, shuffle=True
    )
    val_dataloader = torch.utils.data.DataLoader(
        val_torch_dataset, batch_size=32, shuffle=True
    )
    model = get_compiled_model()
    model.fit(train_dataloader, validation_data=val_dataloader, epochs=1, verbose=0)
    result = model.evaluate(val_dataloader, verbose=0)
    np.testing.assert_allclose(
        result, model.evaluate(x_val, y_val, verbose=0), rtol=1e-5
    )


def test_using_sample_weighting_and_class_weighting():
    x_train, y_train, *_ = _mnist()
    class_weight = dict.fromkeys(range(10), 1.0)
    class_weight[5] = 2.0
    model = get_compiled_model()
    weights = model.get_weights()
    by_class = model.fit(
        x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1, verbose=0
    )
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_compiled_model()
    model.set_weights(weights)
    by_sample = model.fit(
        x_train,
        y_train,
        sample_weight=sample_weight,
        batch_size=64,
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    assert np.isfinite(by_class.history["loss"][0])
    assert np.isfinite(by_sample.history["loss"][0])
    # The same weights from a dataset's third element.
    train_dataset = _dataset(x_train, y_train, sample_weight)
    model = get_compiled_model()
    model.set_weights(weights)
    by_dataset = model.fit(train_dataset, epochs=1, verbose=0)
    assert by_dataset.history["loss"][0] == pytest.approx(
        by_sample.history["loss"][0], rel=1e-5
    )


def _multi_io_model():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    return keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )


def test_passing_data_to_multi_input_multi_output_models(tmp_path):
    model = _multi_io_model()
    _plot_model(model, tmp_path / "multi_input_and_output_model.png", show_shapes=True)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    img_data = np.random.random_sample(size=(32, 32, 32, 3))
    ts_data = np.random.random_sample(size=(32, 20, 10))
    score_targets = np.random.random_sample(size=(32, 1))
    class_targets = np.random.random_sample(size=(32, 5))
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, verbose=0
    )
    assert {
        "score_output_mean_absolute_percentage_error",
        "score_output_mean_absolute_error",
        "class_output_categorical_accuracy",
    } <= set(history.history)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    logs = model.evaluate(
        [img_data, ts_data], [score_targets, class_targets], verbose=0, return_dict=True
    )
    assert logs["loss"] == pytest.approx(
        2.0 * logs["score_output_loss"] + logs["class_output_loss"], rel=1e-5
    )
    # No loss for an output meant for prediction only.
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )
    model.fit([img_data, ts_data], [score_targets, class_targets], verbose=0)
    # Given a dict, plait warns that the output left out will not be trained.
    with pytest.warns(UserWarning, match=r"\['score_output'\] have no loss"):
        model.compile(
            optimizer=keras.optimizers.RMSprop(1e-3),
            loss={"class_output": keras.losses.CategoricalCrossentropy()},
        )
    model.fit([img_data, ts_data], [score_targets, class_targets], verbose=0)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1
    )
    model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    # The dataset case: a tuple of dicts per batch.
    pairs = list(zip(img_data, ts_data, score_targets, class_targets))

    def collate(batch):
        img, ts, score, cls = (torch.as_tensor(np.stack(c)) for c in zip(*batch))
        return (
            {"img_input": img, "ts_input": ts},
            {"score_output": score, "class_output": cls},
        )

    train_dataset = DataLoader(pairs, batch_size=16, shuffle=True, collate_fn=collate)
    history = model.fit(train_dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


@pytest.mark.slow
def test_using_callbacks():
    x_train, y_train, *_ = _mnist()
    model = get_compiled_model()
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            min_delta=1e-2,
            patience=2,
            verbose=1,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    assert len(history.history["loss"]) < 20  # random labels stop improving
    model = get_compiled_model()
    losses = LossHistory()
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, callbacks=[losses])
    assert len(losses.per_batch_losses) == 3


def test_checkpointing_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x_train, y_train, *_ = _mnist()
    model = get_compiled_model()
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            filepath="mymodel_{epoch}.keras",
            save_best_only=True,
            monitor="val_loss",
            verbose=1,
        )
    ]
    model.fit(
        x_train,
        y_train,
        epochs=2,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    assert os.path.exists("mymodel_1.keras")

    checkpoint_dir = "./ckpt"
    if not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    def make_or_restore_model():
        checkpoints = [
            checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)
        ]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            return keras.models.load_model(latest_checkpoint), latest_checkpoint
        return get_compiled_model(), None

    model, restored = make_or_restore_model()
    assert restored is None
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            filepath=checkpoint_dir + "/model-loss={loss:.2f}.keras", save_freq=2
        )
    ]
    model.fit(x_train, y_train, epochs=1, callbacks=callbacks, verbose=0)
    assert len(os.listdir(checkpoint_dir)) >= 1
    restored_model, restored = make_or_restore_model()
    assert restored is not None
    assert restored_model.optimizer.iterations > 0


def test_using_learning_rate_schedules():
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    assert float(lr_schedule(0)) == pytest.approx(0.1)
    assert float(lr_schedule(100000)) == pytest.approx(0.096)
    model = get_uncompiled_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x_train, y_train, *_ = _mnist()
    model.fit(x_train, y_train, batch_size=64, verbose=0)
    assert float(np.array(optimizer.learning_rate)) == pytest.approx(0.1)

    callback = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)
    model.compile(optimizer=keras.optimizers.SGD(1e-9), loss="mse")
    model.fit(
        x_train, ops.one_hot(y_train, 10), epochs=3, verbose=0, callbacks=[callback]
    )
    assert float(np.array(model.optimizer.learning_rate)) < 1e-9


def test_visualizing_loss_and_metrics_during_training(tmp_path):
    callback = keras.callbacks.TensorBoard(
        log_dir=str(tmp_path / "logs"),
        histogram_freq=0,
        embeddings_freq=0,
        update_freq="epoch",
    )
    assert callback.log_dir == str(tmp_path / "logs")
