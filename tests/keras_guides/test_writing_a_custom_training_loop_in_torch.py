"""The Keras 3 guide "Writing a training loop from scratch in PyTorch", section
by section, with the imports changed (`import plait as keras`).

Data: MNIST is random arrays of the same shapes (no download): 96 training and
32 validation samples instead of 50,000 and 10,000, two epochs instead of three.
Each loop records its per-batch losses instead of printing every 100th.
"""

import numpy as np
import torch

import plait as keras

batch_size = 32
epochs = 2


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def _dataloaders():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (128, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, 128)
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train)
    x_val = x_train[-32:]
    y_val = y_train[-32:]
    x_train = x_train[:-32]
    y_train = y_train[:-32]
    train_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_train), torch.from_numpy(y_train)
    )
    val_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_val), torch.from_numpy(y_val)
    )
    train_dataloader = torch.utils.data.DataLoader(
        train_dataset, batch_size=batch_size, shuffle=True
    )
    val_dataloader = torch.utils.data.DataLoader(
        val_dataset, batch_size=batch_size, shuffle=False
    )
    return train_dataloader, val_dataloader


def _keras_loop(model, train_dataloader, losses, metric=None):
    """The guide's loop body with a Keras optimizer and loss (one epoch)."""
    optimizer = model._guide_optimizer
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    for _step, (inputs, targets) in enumerate(train_dataloader):
        logits = model(inputs)
        loss = loss_fn(targets, logits)
        if model.losses:
            loss = loss + torch.sum(*model.losses)
        model.zero_grad()
        trainable_weights = [v for v in model.trainable_weights]  # noqa: C416
        loss.backward()
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            optimizer.apply(gradients, trainable_weights)
        if metric is not None:
            metric.update_state(targets, logits)
        losses.append(float(loss.detach().numpy()))


def test_a_first_end_to_end_example():
    train_dataloader, _ = _dataloaders()
    model = get_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    torch_losses = []
    for _epoch in range(epochs):
        for _step, (inputs, targets) in enumerate(train_dataloader):
            logits = model(inputs)
            loss = loss_fn(logits, targets)
            model.zero_grad()
            loss.backward()
            optimizer.step()
            torch_losses.append(float(loss.detach().numpy()))
    assert np.mean(torch_losses[-3:]) < np.mean(torch_losses[:3])

    model = get_model()
    model._guide_optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    keras_losses = []
    for _epoch in range(epochs):
        _keras_loop(model, train_dataloader, keras_losses)
    assert len(keras_losses) == epochs * 3
    assert np.mean(keras_losses[-3:]) < np.mean(keras_losses[:3])


def _train_and_validate(model, train_dataloader, val_dataloader):
    model._guide_optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    train_acc_metric = keras.metrics.CategoricalAccuracy()
    val_acc_metric = keras.metrics.CategoricalAccuracy()
    losses, train_accs, val_accs = [], [], []
    for _epoch in range(epochs):
        _keras_loop(model, train_dataloader, losses, train_acc_metric)
        train_accs.append(float(train_acc_metric.result()))
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataloader:
            val_logits = model(x_batch_val, training=False)
            val_acc_metric.update_state(y_batch_val, val_logits)
        val_accs.append(float(val_acc_metric.result()))
        val_acc_metric.reset_state()
    # The last validation accuracy is that of the trained model on the val set.
    x_val, y_val = val_dataloader.dataset.tensors
    predicted = model(x_val, training=False).argmax(-1)
    expected = float((predicted == y_val.argmax(-1)).float().mean())
    assert val_accs[-1] == expected
    assert all(0.0 <= a <= 1.0 for a in train_accs)
    return losses


def test_low_level_handling_of_metrics():
    train_dataloader, val_dataloader = _dataloaders()
    _train_and_validate(get_model(), train_dataloader, val_dataloader)


class ActivityRegularizationLayer(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * torch.sum(inputs))
        return inputs


def test_low_level_handling_of_losses_tracked_by_the_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    # The guide trains a fresh `get_model()` here; the model just built (with
    # the regularization layer) is the one whose losses the loop adds.
    train_dataloader, val_dataloader = _dataloaders()
    x0 = next(iter(val_dataloader))[0]
    model(x0)
    assert len(model.losses) == 1
    hidden = keras.Model(inputs, model.layers[2].output)(x0)
    np.testing.assert_allclose(
        float(model.losses[0].detach()), 1e-2 * float(hidden.detach().sum()), rtol=1e-5
    )
    losses = _train_and_validate(model, train_dataloader, val_dataloader)
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    _train_and_validate(get_model(), train_dataloader, val_dataloader)
