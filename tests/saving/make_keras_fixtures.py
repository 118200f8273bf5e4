"""Make the Keras 3 `.keras` fixtures for test_keras_import.py (run with Keras 3).

    KERAS_BACKEND=torch python tests/saving/make_keras_fixtures.py [--out DIR]

Each model gets random weights (so no weight is trivially zero or one), is saved
to `fixtures/NAME.keras`, and its inputs and Keras's predictions are recorded in
`fixtures/NAME.npz` as `x:<input name>` and `y:<output name or index>`, so the
default test run needs no Keras.
"""

import argparse
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
from keras import layers

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
RNG = np.random.default_rng(1234)


def randomize(model):
    for v in model.weights:
        if "variance" in v.path:
            value = RNG.uniform(0.5, 1.5, v.shape)
        else:
            value = RNG.normal(0.0, 0.5, v.shape)
        v.assign(value.astype(v.dtype))


def mlp():
    x = keras.Input((8,), name="x")
    h = layers.Dense(16, activation="relu")(x)
    h = layers.Dropout(0.2)(h)
    y = layers.Dense(4, activation="softmax", name="probs")(h)
    model = keras.Model(x, y, name="mlp")
    return model, {"x": RNG.normal(size=(5, 8))}


def multi_io():
    ids = keras.Input((5,), dtype="int32", name="ids")
    feats = keras.Input((3,), name="feats")
    emb = layers.Flatten()(layers.Embedding(20, 4)(ids))
    shared = layers.Dense(3, activation="tanh", name="shared")
    f2 = shared(shared(feats))  # one layer at two depths
    inner_in = keras.Input((23,))
    inner = keras.Model(
        inner_in, layers.Dense(6, activation="relu")(inner_in), name="inner"
    )
    h = inner(layers.Concatenate()([emb, f2]))
    aux = layers.Dense(3, name="aux_dense")(h)
    main = layers.Dense(1, activation="sigmoid", name="main")(
        layers.Add()([aux, f2, shared(feats)])
    )
    model = keras.Model(
        {"ids": ids, "feats": feats}, {"main": main, "aux": aux}, name="multi_io"
    )
    data = {
        "ids": RNG.integers(0, 20, (4, 5)).astype("int32"),
        "feats": RNG.normal(size=(4, 3)),
    }
    return model, data


def seq_conv():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(2, (3, 2), strides=(1, 2)),
            layers.Flatten(),
            layers.Dense(3),
        ],
        name="seq_conv",
    )
    return model, {"input": RNG.normal(size=(3, 8, 8, 3))}


def lstm():
    ids = keras.Input((7,), dtype="int32", name="ids")
    h = layers.Embedding(30, 5, mask_zero=True)(ids)
    h = layers.LSTM(6, return_sequences=True)(h)
    h = layers.LSTM(4)(h)
    model = keras.Model(ids, layers.Dense(2)(h), name="lstm")
    data = RNG.integers(1, 30, (4, 7)).astype("int32")
    data[0, 4:] = 0  # right-padded sequences, masked
    data[2, 2:] = 0
    return model, {"ids": data}


def wrappers():
    x = keras.Input((6, 4), name="seq")
    frame = keras.Sequential(
        [keras.Input((4,)), layers.Dense(5), layers.BatchNormalization()],
        name="frame",
    )
    h = layers.TimeDistributed(frame)(x)
    h = layers.Bidirectional(layers.GRU(3, return_sequences=True))(h)
    h = layers.LayerNormalization()(h)
    h = layers.Bidirectional(layers.LSTM(2), merge_mode="sum")(h)
    encoder_in = keras.Input((4,))
    encoder = keras.Model(
        encoder_in, layers.Dense(3, activation="relu")(encoder_in), name="encoder"
    )
    first, last = encoder(x[:, 0]), encoder(x[:, -1])  # one nested model, twice
    model = keras.Model(
        x, [layers.Dense(2)(h), layers.Subtract()([first, last]) * 2.0], name="wrappers"
    )
    return model, {"seq": RNG.normal(size=(3, 6, 4))}


def zoo():
    img = keras.Input((8, 8, 3), name="img")
    seq = keras.Input((6, 4), name="seq")
    a = layers.SeparableConv2D(4, 3, padding="same", activation="relu")(img)
    a = layers.DepthwiseConv2D(3, depth_multiplier=2)(a)
    a = layers.Conv2DTranspose(3, 2, strides=2)(a)
    a = layers.AveragePooling2D(2)(a)
    a = layers.ZeroPadding2D(1)(a)
    a = layers.Cropping2D(((1, 0), (0, 1)))(a)
    a = layers.UpSampling2D(2)(a)
    a = layers.GroupNormalization(groups=3)(a)
    a = layers.GlobalAveragePooling2D()(a)
    a = layers.PReLU()(layers.Dense(6)(a))
    b = layers.Conv1D(4, 3, padding="causal", dilation_rate=2)(seq)
    b = layers.LeakyReLU(negative_slope=0.1)(b)
    b = layers.SimpleRNN(4, return_sequences=True)(b)
    b = layers.MultiHeadAttention(num_heads=2, key_dim=3)(b, b)
    b = layers.Attention()([b, b])
    b = layers.GlobalMaxPooling1D()(b)
    b = layers.UnitNormalization()(b)
    c = layers.RepeatVector(3)(b)
    c = layers.Permute((2, 1))(c)
    c = layers.Reshape((12,))(c)
    c = layers.Dense(6, activation="softmax")(c)
    merged = [
        layers.Multiply()([a, c]),
        layers.Average()([a, c]),
        layers.Maximum()([a, c]),
        layers.Minimum()([a, c]),
    ]
    out = layers.Concatenate()([*merged, layers.Dot(axes=1)([a, c])])
    out = layers.ReLU(max_value=2.0)(layers.Activation("gelu")(out))
    out = layers.Softmax()(
        layers.Dense(3)(
            layers.SpatialDropout1D(0.2)(layers.Reshape((5, 5))(layers.Dense(25)(out)))
        )
    )
    model = keras.Model({"img": img, "seq": seq}, out, name="zoo")
    data = {"img": RNG.normal(size=(2, 8, 8, 3)), "seq": RNG.normal(size=(2, 6, 4))}
    return model, data


def nested():
    # A nested graph model called twice, its calls model outputs themselves:
    # Keras 3 numbers them from 1 in `output_layers` (0 inside call arguments).
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, layers.Dense(2)(inner_in), name="inner")
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    first, second = inner(a), inner(b)
    model = keras.Model([a, b], [first, layers.Dense(1)(second), second])
    return model, {"a": RNG.normal(size=(4, 3)), "b": RNG.normal(size=(4, 3))}


def augment():
    # Random augmentation inside the model: Keras writes `training: True` (the
    # layers' call default) into the saved calls; predict must not augment.
    x = keras.Input((6, 6, 1), name="img")
    h = layers.RandomFlip()(x)
    h = layers.RandomRotation(0.2)(h)
    h = layers.Dropout(0.5)(layers.Flatten()(h))
    model = keras.Model(x, layers.Dense(3)(h), name="augment")
    return model, {"img": RNG.normal(size=(4, 6, 6, 1))}


def doubled(x):  # an unregistered activation: loaded with custom_objects
    return x * 2.0


@keras.saving.register_keras_serializable(package="fixtures")
def tripled(x):  # a registered one: saved as "fixtures>tripled"
    return x * 3.0


def activations():
    x = keras.Input((4,), name="x")
    h = layers.Dense(3, activation=doubled)(x)
    model = keras.Model(x, layers.Dense(2, activation=tripled)(h), name="activations")
    return model, {"x": RNG.normal(size=(3, 4))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE, help="folder (default: %(default)s)")
    out_dir = parser.parse_args().out
    os.makedirs(out_dir, exist_ok=True)
    for make in (
        mlp,
        multi_io,
        seq_conv,
        lstm,
        wrappers,
        zoo,
        nested,
        augment,
        activations,
    ):
        model, data = make()
        randomize(model)
        data = {
            k: v.astype("float32") if v.dtype == np.float64 else v
            for k, v in data.items()
        }
        inputs = data if len(data) > 1 else next(iter(data.values()))
        out = model.predict(inputs, verbose=0)
        if isinstance(out, dict):
            ys = {f"y:{k}": v for k, v in out.items()}
        elif isinstance(out, list):
            ys = {f"y:{i}": v for i, v in enumerate(out)}
        else:
            ys = {"y:0": out}
        model.save(os.path.join(out_dir, f"{make.__name__}.keras"))
        xs = {f"x:{k}": v for k, v in data.items()}
        np.savez(os.path.join(out_dir, f"{make.__name__}.npz"), **xs, **ys)
        print(make.__name__, {k: v.shape for k, v in ys.items()})


if __name__ == "__main__":
    main()
