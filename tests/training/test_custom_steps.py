"""Custom training steps, ported from Keras's torch guides ("Customizing what
happens in fit() with PyTorch", "Writing a training loop from scratch in
PyTorch") with the imports changed (and the guides' code kept as written, hence
the lint exemptions).

The guides read gradients as `v.value.grad`; plait's weights are
`torch.nn.Parameter`s, so `v.grad` is the same tensor.
"""

# ruff: noqa: B007, C416, SIM101

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import plait as keras
from plait import layers


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 32)).astype("float32"), rng.random((n, 1)).astype("float32")


# ------------------------------------------------------------ a first simple example
class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(y=y, y_pred=y_pred)

        # Call torch.Tensor.backward() on the loss to compute gradients
        # for the weights.
        loss.backward()

        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]

        # Update weights
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_first_simple_example_trains_with_loss_and_compiled_metrics():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert model.metrics[0].name == "loss"

    x, y = _data()
    before = model.get_weights()[0].copy()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(model.get_weights()[0], before)
    assert model.optimizer.iterations == 3 * 2  # two batches of 32 per epoch


def test_the_loss_tracker_is_a_batch_mean_that_resets_each_epoch():
    inputs = keras.Input(shape=(32,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = _data()
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((logs["loss"], model.metrics[0].count))

    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[Record()])
    # One count per batch, starting afresh each epoch.
    assert [count for _, count in seen] == [1, 2, 1, 2]
    assert history.history["loss"] == pytest.approx([seen[1][0], seen[3][0]])


# ------------------------------------------------------------ going lower-level
class LowLevelModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.loss_fn(y, y_pred)

        # Call torch.Tensor.backward() on the loss to compute gradients
        # for the weights.
        loss.backward()

        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]

        # Update weights
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)

        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {
            "loss": self.loss_tracker.result(),
            "mae": self.mae_metric.result(),
        }

    @property
    def metrics(self):
        # We list our `Metric` objects here so that `reset_states()` can be
        # called automatically at the start of each epoch
        # or at the start of `evaluate()`.
        return [self.loss_tracker, self.mae_metric]


def test_lower_level_metrics_property_is_reset_each_epoch():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = LowLevelModel(inputs, outputs)

    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")

    x, y = _data()
    epoch_starts = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epoch_starts.append(float(model.loss_tracker.result()))

    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[Watch()])
    assert sorted(history.history) == ["loss", "mae"]
    assert epoch_starts == [0.0, 0.0, 0.0]  # reset before each epoch
    assert history.history["loss"][-1] < history.history["loss"][0]


# ------------------------------------------------------------ sample weights
class WeightedModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(
            y=y,
            y_pred=y_pred,
            sample_weight=sample_weight,
        )

        # Call torch.Tensor.backward() on the loss to compute gradients
        # for the weights.
        loss.backward()

        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]

        # Update weights
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("weighted", [False, True])
def test_sample_weights_reach_train_step_only_when_given(weighted):
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = WeightedModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    lengths = []
    original = model.train_step

    def spy(data):
        lengths.append(len(data))
        return original(data)

    model.train_step = spy
    x, y = _data()
    sw = np.random.default_rng(2).random((64, 1)).astype("float32")
    kwargs = {"sample_weight": sw} if weighted else {}
    history = model.fit(x, y, epochs=2, verbose=0, **kwargs)
    assert set(lengths) == {3 if weighted else 2}
    assert sorted(history.history) == ["loss", "mae"]


# ------------------------------------------------------------ evaluation step
class EvalModel(keras.Model):
    def test_step(self, data):
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the stateful loss metric.
        loss = self.compute_loss(y=y, y_pred=y_pred)
        # Update the metrics.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_custom_test_step_evaluate_keeps_loss():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = EvalModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])

    x, y = _data()
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(result) == ["loss", "mae"]
    pred = model.predict(x, verbose=0)
    assert result["loss"] == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)
    assert result["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        [result["loss"], result["mae"]]
    )


class PredictModel(keras.Model):
    def predict_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self(x, training=False) * 2.0


def test_custom_predict_step():
    inputs = keras.Input(shape=(32,))
    model = PredictModel(inputs, keras.layers.Dense(1)(inputs))
    x, _ = _data()
    plain = model(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), plain * 2.0, rtol=1e-6)


# ------------------------------------------------------------ apply_gradients
def test_optimizer_apply_and_apply_gradients_update_like_step():
    def make():
        torch.manual_seed(0)
        return torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))

    grads = [torch.full((3,), 0.5), torch.full((2,), -1.0)]
    a, b, c = make(), make(), make()
    opt_a = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt_a.apply(grads, list(a))
    opt_a.apply(grads, list(a))
    opt_b = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt_b.apply_gradients(zip(grads, b))
    opt_b.apply_gradients(zip(grads, b))
    opt_c = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt_c.build(list(c))
    for _ in range(2):
        for p, g in zip(c, grads):
            p.grad = g.clone()
        opt_c.step()
    for pa, pb, pc in zip(a, b, c):
        torch.testing.assert_close(pa.data, pc.data)
        torch.testing.assert_close(pb.data, pc.data)
    assert opt_a.iterations == opt_b.iterations == 2
    assert a[0].grad is None  # apply leaves the parameters' .grad alone


def test_apply_rejects_mismatched_lengths():
    opt = keras.optimizers.Adam()
    w = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match=r"Adam.apply: expected one gradient per"):
        opt.apply([torch.ones(2), torch.ones(2)], [w])


def test_apply_gradients_with_zip_in_a_train_step():
    class ZipModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = self.trainable_weights
            gradients = [v.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply_gradients(zip(gradients, trainable_weights))
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(32,))
    model = ZipModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ------------------------------------------------------------ a GAN
def _gan_parts(latent_dim):
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(4 * 4 * 8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((4, 4, 8)),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return discriminator, generator


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        device = "cpu"
        if isinstance(real_images, tuple) or isinstance(real_images, list):
            real_images = real_images[0]
        # Sample random points in the latent space
        batch_size = real_images.shape[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images
        real_images = torch.as_tensor(real_images, device=device)
        combined_images = torch.concat([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = torch.concat(
            [
                torch.ones((batch_size, 1), device=device),
                torch.zeros((batch_size, 1), device=device),
            ],
            axis=0,
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

        # Train the discriminator
        self.zero_grad()
        predictions = self.discriminator(combined_images)
        d_loss = self.loss_fn(labels, predictions)
        d_loss.backward()
        grads = [v.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # Sample random points in the latent space
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Assemble labels that say "all real images"
        misleading_labels = torch.zeros((batch_size, 1), device=device)

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        self.zero_grad()
        predictions = self.discriminator(self.generator(random_latent_vectors))
        g_loss = self.loss_fn(misleading_labels, predictions)
        grads = g_loss.backward()
        grads = [v.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {
            "d_loss": self.d_loss_tracker.result(),
            "g_loss": self.g_loss_tracker.result(),
        }


def test_gan_with_two_optimizers_trains_from_a_dataloader():
    latent_dim = 4
    discriminator, generator = _gan_parts(latent_dim)
    all_digits = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    dataset = TensorDataset(torch.from_numpy(all_digits), torch.from_numpy(all_digits))
    dataloader = DataLoader(dataset, batch_size=16, shuffle=True)

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    d_before = [w.copy() for w in discriminator.get_weights()]
    g_before = [w.copy() for w in generator.get_weights()]
    history = gan.fit(dataloader, epochs=1, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 2
    assert all(
        not np.allclose(a, b) for a, b in zip(discriminator.get_weights(), d_before)
    )
    assert all(not np.allclose(a, b) for a, b in zip(generator.get_weights(), g_before))


# ------------------------------------------------------------ a loop from scratch
def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def _mnist_like(n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, n)]
    return x, y


def test_training_loop_from_scratch_with_plait_optimizer_loss_and_metrics():
    x_train, y_train = _mnist_like()
    train_dataset = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    train_dataloader = DataLoader(train_dataset, batch_size=16, shuffle=True)

    model = get_model()
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.CategoricalAccuracy()

    epochs = 3
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for step, (inputs, targets) in enumerate(train_dataloader):
            # Forward pass
            logits = model(inputs)
            loss = loss_fn(targets, logits)

            # Backward pass
            model.zero_grad()
            trainable_weights = [v for v in model.trainable_weights]

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()
            gradients = [v.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)

            # Update training metric.
            train_acc_metric.update_state(targets, logits)
            total += float(loss.detach())
        losses.append(total)
        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        assert 0.0 <= float(train_acc) <= 1.0
        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_state()
    assert losses[-1] < losses[0]
    assert optimizer.iterations == epochs * 4


def test_inputs_given_by_name_reach_train_step_by_name():
    seen = []

    class Named(keras.Model):
        def train_step(self, data):
            x, _ = data
            seen.append(sorted(x))
            return super().train_step(data)

    a = keras.Input(shape=(2,), name="a")
    b = keras.Input(shape=(3,), name="b")
    out = keras.layers.Dense(1)(keras.layers.concatenate([a, b]))
    model = Named([a, b], out)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x = {"b": rng.random((8, 3)), "a": rng.random((8, 2))}
    model.fit(x, rng.random((8, 1)), batch_size=4, verbose=0)
    assert seen == [["a", "b"], ["a", "b"]]


class OneDense(keras.Model):
    """A subclassed model of one Dense(1), for the Keras 3 step-hook tests below."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, x):
        return self.dense(x)


def test_custom_steps_get_x_itself_without_targets_as_keras_3():
    # keras.io's VAE: `train_step(self, data)` calls `self.encoder(data)`.
    seen = []

    class Steps(OneDense):
        def train_step(self, data):
            seen.append(("train", type(data)))
            return {}

        def test_step(self, data):
            seen.append(("test", type(data)))
            return {}

        def predict_step(self, data):
            seen.append(("predict", type(data)))
            return self(data)

    model = Steps()
    model.compile(optimizer="adam")
    x = np.zeros((4, 3), "float32")
    model.fit(x, batch_size=4, verbose=0)
    model.evaluate(x, batch_size=4, verbose=0)
    assert model.predict(x, batch_size=4, verbose=0).shape == (4, 1)
    model.fit(x, x[:, :1], batch_size=4, verbose=0)
    assert seen == [
        ("train", torch.Tensor),
        ("test", torch.Tensor),
        ("predict", torch.Tensor),
        ("train", tuple),
    ]


@pytest.mark.parametrize("jit", [False, True])
def test_compute_loss_override_is_the_loss_of_fit_and_evaluate(jit):
    # keras.io's knowledge distillation overrides compute_loss (and reads x).
    class Doubled(OneDense):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            assert x.shape == (8, 3)
            return 2.0 * keras.ops.mean(keras.ops.square(y - y_pred))

    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3), dtype=np.float32), rng.random((8, 1), dtype=np.float32)
    model = Doubled()
    model.compile(optimizer="sgd", loss="mae", jit_compile=jit)  # not used
    model(x)
    expected = 2.0 * float(((model.predict(x, verbose=0) - y) ** 2).mean())
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["loss"][0], expected, rtol=1e-5)
    after = 2.0 * float(((model.predict(x, verbose=0) - y) ** 2).mean())
    np.testing.assert_allclose(
        model.evaluate(x, y, batch_size=8, verbose=0), after, rtol=1e-5
    )


def test_metrics_set_as_attributes_are_listed_and_reset_each_epoch():
    # keras.io's VAE/GAN: `self.tracker = metrics.Mean(...)` without a
    # `metrics` property; Keras lists it and resets it each epoch.
    class Tracked(OneDense):
        def __init__(self):
            super().__init__()
            self.tracker = keras.metrics.Mean(name="my_loss")
            self.steps = 0

        def train_step(self, data):
            self.steps += 1
            self.tracker.update_state(1.0 if self.steps <= 2 else 3.0)
            return {"my_loss": self.tracker.result()}

    model = Tracked()
    assert [m.name for m in model.metrics] == ["my_loss"]
    model.compile(optimizer="sgd")
    assert [m.name for m in model.metrics] == ["loss", "my_loss"]
    x = np.zeros((4, 3), "float32")
    history = model.fit(x, epochs=2, batch_size=2, verbose=0).history
    assert history["my_loss"] == [1.0, 3.0]


def test_compute_metrics_and_get_metrics_result_in_a_custom_step():
    # Keras 3's custom-step helpers: update the compiled metrics, read them all.
    class Stepped(OneDense):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            return self.compute_metrics(x, y, y_pred)

    model = Stepped()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    expected = float(np.abs(model.predict(x, verbose=0)).mean())
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["mae"][0], expected, rtol=1e-5)
    result = model.get_metrics_result()
    assert sorted(result) == ["loss", "mae"]
    np.testing.assert_allclose(float(result["mae"]), expected, rtol=1e-5)
