"""Make the optimizer-state HDF5 fixtures for test_keras_h5_optimizer.py (Keras 3).

    KERAS_BACKEND=torch python tests/saving/make_keras_h5_optimizer_fixtures.py [--out DIR]

For each optimizer, a small model (Dense with tanh, BatchNormalization, Dense) is trained
by Keras for 3 steps and saved with Keras 3's legacy HDF5 writer
(`fixtures/h5opt/<case>.h5`, with its `optimizer_weights`) and with Keras 3's
own writer (`<case>.keras`, the optimizer's variables unnamed in
`optimizer/vars`); Keras then trains
it 2 steps more. `<case>.npz` keeps the data of both runs (`x1`, `y1`, `x2`,
`y2`) and the weights after the last step (`w0`, `w1`, ...): a reader that
restores the optimizer's state must continue to those weights.
"""

import argparse
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
from keras import layers

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "h5opt")

CASES = {
    "adam": lambda: keras.optimizers.Adam(learning_rate=0.01),
    "adam_amsgrad": lambda: keras.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.01),
    "sgd_momentum": lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(
        learning_rate=0.05, momentum=0.9, nesterov=True
    ),
    "rmsprop": lambda: keras.optimizers.RMSprop(
        learning_rate=0.01, momentum=0.5, centered=True
    ),
    "adagrad": lambda: keras.optimizers.Adagrad(learning_rate=0.1),
}


def model_for(optimizer, rng):
    x = keras.Input((6,), name="x")
    h = layers.Dense(8, activation="tanh", name="hidden")(x)  # no dead units
    h = layers.BatchNormalization(name="bn")(h)
    y = layers.Dense(3, activation="softmax", name="probs")(h)
    model = keras.Model(x, y, name="net")
    for v in model.weights:
        value = (
            rng.uniform(0.5, 1.5, v.shape)
            if "variance" in v.path
            else rng.normal(0, 0.5, v.shape)
        )
        v.assign(value.astype("float32"))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=HERE)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    for case, make in CASES.items():
        rng = np.random.default_rng(7)
        model = model_for(make(), rng)
        x1 = rng.normal(size=(12, 6)).astype("float32")
        y1 = np.eye(3, dtype="float32")[rng.integers(0, 3, 12)]
        x2 = rng.normal(size=(8, 6)).astype("float32")
        y2 = np.eye(3, dtype="float32")[rng.integers(0, 3, 8)]
        model.fit(x1, y1, batch_size=4, epochs=1, shuffle=False, verbose=0)
        # `.keras` first: after a legacy `.h5` save, Keras 3.15 writes a
        # `.keras` file without its optimizer (it then loads a fresh RMSprop).
        model.save(os.path.join(out, f"{case}.keras"))
        model.save(os.path.join(out, f"{case}.h5"))
        model.fit(x2, y2, batch_size=4, epochs=1, shuffle=False, verbose=0)
        weights = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
        np.savez(
            os.path.join(out, f"{case}.npz"), x1=x1, y1=y1, x2=x2, y2=y2, **weights
        )
        print(case, [v.path for v in model.optimizer.variables][:6])


if __name__ == "__main__":
    main()
