"""The benchmark workloads in Keras 3 (torch backend), for the optional Keras columns.

`keras_model(work)` builds the same network as `work.plait` with `keras.layers`,
the guide's code with Keras's imports, copies plait's weights into it (plait's
`get_weights` speaks Keras's layouts) and compiles it with the same optimizer,
losses, loss weights and metrics. `available()` says whether Keras can be
imported with the torch backend (JAX is not installed on these machines).
"""

from __future__ import annotations

import os
import re
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any `import keras`


def available() -> bool:
    """Whether Keras 3 imports here with the torch backend."""
    try:
        import keras
    except ImportError:
        return False
    return bool(keras.backend.backend() == "torch")


def _mlp(keras: Any) -> Any:
    from keras.layers import Dense, Input

    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    return keras.Model(inputs, Dense(10, activation="softmax")(x))


def _headline(keras: Any) -> Any:
    from keras.layers import LSTM, Dense, Embedding, Input, concatenate

    main_input = Input(shape=(100,), dtype="int32", name="main_input")
    x = Embedding(output_dim=512, input_dim=10000)(main_input)
    lstm_out = LSTM(32)(x)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = Input(shape=(5,), name="aux_input")
    x = concatenate([lstm_out, auxiliary_input])
    x = Dense(64, activation="relu")(x)
    x = Dense(64, activation="relu")(x)
    x = Dense(64, activation="relu")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)
    return keras.Model([main_input, auxiliary_input], [main_output, auxiliary_output])


def _tweets(keras: Any) -> Any:
    from keras.layers import LSTM, Dense, Input, concatenate

    tweet_a, tweet_b = Input(shape=(140, 256)), Input(shape=(140, 256))
    shared_lstm = LSTM(64)
    merged = concatenate([shared_lstm(tweet_a), shared_lstm(tweet_b)], axis=-1)
    return keras.Model([tweet_a, tweet_b], Dense(1, activation="sigmoid")(merged))


def _vision(keras: Any) -> Any:
    from keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D, concatenate

    digit_input = Input(shape=(27, 27, 1))
    x = Conv2D(64, (3, 3))(digit_input)
    x = Conv2D(64, (3, 3))(x)
    x = MaxPooling2D((2, 2))(x)
    vision_model = keras.Model(digit_input, Flatten()(x))
    digit_a, digit_b = Input(shape=(27, 27, 1)), Input(shape=(27, 27, 1))
    joined = concatenate([vision_model(digit_a), vision_model(digit_b)])
    return keras.Model([digit_a, digit_b], Dense(1, activation="sigmoid")(joined))


def _inception(keras: Any) -> Any:
    from keras.layers import (
        Conv2D,
        Dense,
        GlobalAveragePooling2D,
        Input,
        MaxPooling2D,
        concatenate,
    )

    relu = {"padding": "same", "activation": "relu"}
    input_img = Input(shape=(64, 64, 3))
    tower_1 = Conv2D(64, (1, 1), name="t1a", **relu)(input_img)
    tower_1 = Conv2D(64, (3, 3), name="t1b", **relu)(tower_1)
    tower_2 = Conv2D(64, (1, 1), name="t2a", **relu)(input_img)
    tower_2 = Conv2D(64, (5, 5), name="t2b", **relu)(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(input_img)
    tower_3 = Conv2D(64, (1, 1), name="t3", **relu)(tower_3)
    x = concatenate([tower_1, tower_2, tower_3], axis=-1)
    x = GlobalAveragePooling2D()(x)
    return keras.Model(input_img, Dense(10, activation="softmax")(x))


def _resmlp(keras: Any) -> Any:
    from keras.layers import Dense, Input, add

    inputs = Input(shape=(64,))
    x = inputs
    for _ in range(50):
        x = add([x, Dense(64, activation="relu")(x)])
    return keras.Model(inputs, Dense(10, activation="softmax")(x))


_BUILDERS = {
    "mlp": _mlp,
    "headline": _headline,
    "tweets": _tweets,
    "vision": _vision,
    "inception": _inception,
    "resmlp": _resmlp,
}


def _weighted_layers(model: Any) -> dict[str, list[Any]]:
    """Layers with weights by class, nested models included, in creation order."""
    found: dict[str, list[Any]] = {}

    def visit(m: Any) -> None:
        for layer in m.layers:
            if hasattr(layer, "layers"):
                visit(layer)
            elif layer.get_weights() and layer not in found.get(
                type(layer).__name__, []
            ):
                found.setdefault(type(layer).__name__, []).append(layer)

    visit(model)

    def created(layer: Any) -> tuple[int, str]:
        # auto names count up per class (dense, dense_1, ...); named ones sort last
        match = re.fullmatch(r"[a-z0-9]+?(?:_(\d+))?", layer.name)
        if match is None:
            return (1 << 30, layer.name)
        return (int(match.group(1) or 0), layer.name)

    return {k: sorted(v, key=created) for k, v in found.items()}


def keras_model(work: Any) -> Any:
    """The workload's model in Keras, with plait's weights, compiled like plait's."""
    import keras

    model = _BUILDERS[work.name](keras)
    ours, theirs = _weighted_layers(work.plait), _weighted_layers(model)
    for cls, layers in ours.items():
        for src, dst in zip(layers, theirs[cls], strict=True):
            dst.set_weights(src.get_weights())
    args = work.plait._compile_args
    opt = (
        keras.optimizers.Adam(learning_rate=1e-3)
        if work.optimizer == "adam"
        else keras.optimizers.RMSprop(learning_rate=1e-3)
    )
    loss = args["loss"]
    if len(work.y) > 1 and isinstance(loss, str):
        # Keras compat: Keras 3 rejects one loss name for several outputs.
        loss = [loss] * len(work.y)
    model.compile(
        optimizer=opt,
        loss=loss,
        loss_weights=args["loss_weights"],
        metrics=args["metrics"],
    )
    return model


def _one(arrays: list[Any]) -> Any:
    return arrays[0] if len(arrays) == 1 else arrays


class KerasSide:
    """Train, predict and batch-1 calls of a workload's Keras model."""

    def __init__(self, work: Any) -> None:
        self.work = work
        self.model = keras_model(work)

    def loss_of_first_batch(self) -> float:
        """The compiled loss on the first batch (for the same-math check)."""
        b = 32
        x = _one([a[:b] for a in self.work.x])
        y = _one([a[:b] for a in self.work.y])
        return float(self.model.test_on_batch(x, y, return_dict=True)["loss"])

    def epoch(self) -> None:
        """One epoch of `fit(verbose=0)`."""
        w = self.work
        self.model.fit(_one(w.x), _one(w.y), batch_size=32, epochs=1, verbose=0)

    def predict(self) -> Any:
        """`predict` on the whole input."""
        return self.model.predict(_one(self.work.x), batch_size=32, verbose=0)

    def forward1(self) -> Any:
        """A call of the model on one sample, without gradients."""
        import torch

        one = _one([torch.from_numpy(a[:1]) for a in self.work.x])

        def call() -> Any:
            with torch.no_grad():
                return self.model(one, training=False)

        return call
