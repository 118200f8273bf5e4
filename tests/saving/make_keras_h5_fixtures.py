"""Make the legacy HDF5 fixtures for test_keras_h5_legacy.py (run with Keras 3).

    KERAS_BACKEND=torch python tests/saving/make_keras_h5_fixtures.py [--out DIR]

Each model gets random weights and is saved with Keras 3's legacy HDF5 writer
(`model.save('NAME.h5')`, the format of Keras 2 and tf.keras) to
`fixtures/h5/NAME.h5`, compiled where training must resume; its inputs and
Keras's predictions go to `fixtures/h5/NAME.npz` (`x:<input>`, `y:<output>`).
`mlp` also gets a Keras 2 weights file (`mlp_weights.h5`, the layout of
`model.save_weights('w.h5')` in Keras 2) and a Keras 3 `mlp.weights.h5`.
"""

import argparse
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
from keras import layers
from keras.src.legacy.saving import legacy_h5_format

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "h5")
RNG = np.random.default_rng(4321)


def randomize(model):
    for v in model.weights:
        if "variance" in v.path:
            value = RNG.uniform(0.5, 1.5, v.shape)
        else:
            value = RNG.normal(0.0, 0.5, v.shape)
        v.assign(value.astype(v.dtype))


def mlp():
    x = keras.Input((6,), name="x")
    h = layers.Dense(8, activation="relu", name="hidden")(x)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.Dropout(0.2)(h)
    y = layers.Dense(3, activation="softmax", name="probs")(h)
    model = keras.Model(x, y, name="mlp")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model, {"x": RNG.normal(size=(5, 6))}


def seq_conv():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            layers.Conv2D(3, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.SeparableConv2D(2, 2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ],
        name="seq_conv",
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    return model, {"input": RNG.normal(size=(3, 8, 8, 2))}


def nested_shared():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    inner_in = keras.Input((10,))
    inner = keras.Model(
        inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner"
    )
    h = inner(layers.Concatenate()([shared(a), shared(b)]))
    main = layers.Dense(1, activation="sigmoid", name="main")(h)
    aux = layers.Dense(2, name="aux")(shared(a))
    model = keras.Model([a, b], [main, aux], name="nested_shared")
    model.compile(
        optimizer="rmsprop",
        loss=["binary_crossentropy", "mse"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )
    return model, {"a": RNG.normal(size=(4, 4)), "b": RNG.normal(size=(4, 4))}


def rnn():
    x = keras.Input((5, 3), name="seq")
    h = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    h = layers.GRU(3)(h)
    y = layers.Dense(2)(h)
    model = keras.Model(x, y, name="rnn")
    return model, {"seq": RNG.normal(size=(2, 5, 3))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=HERE)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    for build in (mlp, seq_conv, nested_shared, rnn):
        model, data = build()
        randomize(model)
        name = model.name
        model.save(os.path.join(out, f"{name}.h5"))
        inputs = list(data.values())
        pred = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        preds = pred if isinstance(pred, list) else [pred]
        arrays = {f"x:{k}": v.astype("float32") for k, v in data.items()}
        arrays.update({f"y:{i}": np.asarray(p) for i, p in enumerate(preds)})
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)
        if name == "mlp":
            model.save_weights(os.path.join(out, "mlp.weights.h5"))
            import h5py

            with h5py.File(os.path.join(out, "mlp_weights.h5"), "w") as f:
                legacy_h5_format.save_weights_to_hdf5_group(f, model)


if __name__ == "__main__":
    main()
