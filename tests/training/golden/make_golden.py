"""Make the Keras 3 golden numbers of tests/training/test_trainer.py.

Run with a Keras 3 environment (torch backend), not plait's:

    KERAS_BACKEND=torch python tests/training/golden/make_golden.py

It trains the guide's MLP (784-64-64-10, relu/softmax, categorical
crossentropy, accuracy) from fixed initial weights for one epoch of SGD with
`shuffle=False`, and stores the history, `evaluate`, `predict` on 16 samples
and the trained weights (the first kernel as column sums and 16 rows, to keep
the file small) in `mlp_sgd.npz`.
"""

import os

import keras
import numpy as np


def data_and_weights():
    """Inputs, one-hot targets and initial weights, from a fixed NumPy seed."""
    rng = np.random.RandomState(0)
    x = rng.rand(256, 784).astype("float32")
    labels = rng.randint(10, size=256)
    y = np.eye(10, dtype="float32")[labels]
    weights = [
        (rng.rand(784, 64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64, 64).astype("float32") - 0.5) * 0.4,
        (rng.rand(64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64, 10).astype("float32") - 0.5) * 0.4,
        (rng.rand(10).astype("float32") - 0.5) * 0.1,
    ]
    return x, y, weights


def main():
    x, y, weights = data_and_weights()
    inputs = keras.Input(shape=(784,))
    h = keras.layers.Dense(64, activation="relu")(inputs)
    h = keras.layers.Dense(64, activation="relu")(h)
    outputs = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    hist = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    loss, acc = model.evaluate(x, y, batch_size=32, verbose=0)
    trained = model.get_weights()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp_sgd.npz")
    np.savez_compressed(
        out,
        history_loss=np.array(hist.history["loss"]),
        history_accuracy=np.array(hist.history["accuracy"]),
        evaluate=np.array([loss, acc]),
        predict=model.predict(x[:16], verbose=0),
        kernel0_colsum=trained[0].sum(axis=0),
        kernel0_rows=trained[0][:16],
        rest=np.concatenate([w.ravel() for w in trained[1:]]),
        keras_version=np.array(keras.__version__),
    )
    print("wrote", out, "keras", keras.__version__)


if __name__ == "__main__":
    main()
