"""Write Keras 3 reference numbers for the GUIDE.md models to `golden/guide/<model>.npz`.

Run with a Keras 3 install on the torch backend (not needed by the tests):

    KERAS_BACKEND=torch python tests/parity/make_guide_golden.py [--out DIR]

Each model is built with Keras exactly as the guide writes it (the plait twins are
in `plait/examples/guide.py`). Its weights are set, in `model.get_weights()` order,
to `rng.standard_normal(shape) * scale` and its inputs drawn from a seed
(`guide_data.py`; nothing random is committed). Saved: `meta` (JSON: seed, scale,
Keras's weight shapes, `count_params()`, output shapes), the inputs `x0..`, the
outputs `out0..`, and the gradients of `sum(out ** 2)` (all outputs) with respect to
each floating input (`gx0..`) and to the first and last weight arrays (`gw_first`,
`gw_last`, Keras layout). Arrays too big to store whole are kept as samples and
norms (`guide_data.pack_array`). The VQA model runs on one image (its 165M
weights take a few seconds to draw); the video QA model, 100 frames of 224x224 per
sample, is too big to run: its file holds the shapes and parameter count only.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import torch
from keras.layers import (
    LSTM,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    Input,
    MaxPooling2D,
    TimeDistributed,
    add,
    concatenate,
)
from keras.models import Model, Sequential

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo root
from tests.parity import guide_data as gd


# ---- the guide's models, as it writes them (Keras 3 spellings where Keras 2 differ:
# none needed; `input_length` and Sequential's `input_shape` only warn).
def mlp():
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    predictions = Dense(10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=predictions)


def sequence_classifier():
    input_sequences = Input(shape=(20, 784))
    processed_sequences = TimeDistributed(mlp())(input_sequences)
    return Model(inputs=input_sequences, outputs=processed_sequences)


def headline_model():
    main_input = Input(shape=(100,), dtype="int32", name="main_input")
    x = Embedding(output_dim=512, input_dim=10000, input_length=100)(main_input)
    lstm_out = LSTM(32)(x)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = Input(shape=(5,), name="aux_input")
    x = concatenate([lstm_out, auxiliary_input])
    x = Dense(64, activation="relu")(x)
    x = Dense(64, activation="relu")(x)
    x = Dense(64, activation="relu")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)
    return Model(
        inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output]
    )


def tweet_model():
    tweet_a = Input(shape=(140, 256))
    tweet_b = Input(shape=(140, 256))
    shared_lstm = LSTM(64)
    encoded_a = shared_lstm(tweet_a)
    encoded_b = shared_lstm(tweet_b)
    merged_vector = concatenate([encoded_a, encoded_b], axis=-1)
    predictions = Dense(1, activation="sigmoid")(merged_vector)
    return Model(inputs=[tweet_a, tweet_b], outputs=predictions)


def inception_module():
    input_img = Input(shape=(256, 256, 3))
    tower_1 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_1 = Conv2D(64, (3, 3), padding="same", activation="relu")(tower_1)
    tower_2 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_2 = Conv2D(64, (5, 5), padding="same", activation="relu")(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(input_img)
    tower_3 = Conv2D(64, (1, 1), padding="same", activation="relu")(tower_3)
    output = concatenate([tower_1, tower_2, tower_3], axis=1)
    return Model(inputs=input_img, outputs=output)


def residual_connection():
    x = Input(shape=(256, 256, 3))
    y = Conv2D(3, (3, 3), padding="same")(x)
    z = add([x, y])
    return Model(inputs=x, outputs=z)


def shared_vision_model():
    digit_input = Input(shape=(27, 27, 1))
    x = Conv2D(64, (3, 3))(digit_input)
    x = Conv2D(64, (3, 3))(x)
    x = MaxPooling2D((2, 2))(x)
    out = Flatten()(x)
    vision_model = Model(digit_input, out)
    digit_a = Input(shape=(27, 27, 1))
    digit_b = Input(shape=(27, 27, 1))
    out_a = vision_model(digit_a)
    out_b = vision_model(digit_b)
    concatenated = concatenate([out_a, out_b])
    out = Dense(1, activation="sigmoid")(concatenated)
    return Model([digit_a, digit_b], out)


def _vqa_parts():
    vision_model = Sequential()
    vision_model.add(
        Conv2D(64, (3, 3), activation="relu", padding="same", input_shape=(224, 224, 3))
    )
    vision_model.add(Conv2D(64, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Conv2D(128, (3, 3), activation="relu", padding="same"))
    vision_model.add(Conv2D(128, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Conv2D(256, (3, 3), activation="relu", padding="same"))
    vision_model.add(Conv2D(256, (3, 3), activation="relu"))
    vision_model.add(Conv2D(256, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Flatten())
    image_input = Input(shape=(224, 224, 3))
    encoded_image = vision_model(image_input)
    question_input = Input(shape=(100,), dtype="int32")
    embedded_question = Embedding(input_dim=10000, output_dim=256, input_length=100)(
        question_input
    )
    encoded_question = LSTM(256)(embedded_question)
    merged = concatenate([encoded_question, encoded_image])
    output = Dense(1000, activation="softmax")(merged)
    vqa_model = Model(inputs=[image_input, question_input], outputs=output)
    return vqa_model, vision_model, question_input, encoded_question


def vqa_model():
    return _vqa_parts()[0]


def video_qa_model():
    _, vision_model, question_input, encoded_question = _vqa_parts()
    video_input = Input(shape=(100, 224, 224, 3))
    encoded_frame_sequence = TimeDistributed(vision_model)(video_input)
    encoded_video = LSTM(256)(encoded_frame_sequence)
    question_encoder = Model(inputs=question_input, outputs=encoded_question)
    video_question_input = Input(shape=(100,), dtype="int32")
    encoded_video_question = question_encoder(video_question_input)
    merged = concatenate([encoded_video, encoded_video_question])
    output = Dense(1000, activation="softmax")(merged)
    return Model(inputs=[video_input, video_question_input], outputs=output)


# ---- reference numbers
def _meta(name: str, model) -> dict:
    return {
        "model": name,
        "keras": keras.__version__,
        "seed": gd.SEED,
        "weight_shapes": [list(w.shape) for w in model.weights],
        "count_params": model.count_params(),
        "output_shapes": [list(t.shape) for t in model.outputs],
    }


def _numeric(name: str, model) -> dict[str, np.ndarray]:
    shapes = [w.shape for w in model.get_weights()]
    model.set_weights(gd.make_weights(name, shapes))
    inputs = gd.make_inputs(name)
    tensors = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    out = model(tensors if len(tensors) > 1 else tensors[0])
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    sum((o**2).sum() for o in outs).backward()
    arrays: dict[str, np.ndarray] = {}
    for i, (x, t) in enumerate(zip(inputs, tensors)):
        gd.pack_array(arrays, f"x{i}", x)
        if t.requires_grad:
            gd.pack_array(arrays, f"gx{i}", t.grad.numpy())
    for i, o in enumerate(outs):
        gd.pack_array(arrays, f"out{i}", o.detach().numpy())
    for key, w in (("gw_first", model.weights[0]), ("gw_last", model.weights[-1])):
        gd.pack_array(arrays, key, w.value.grad.detach().numpy())
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=gd.GOLDEN)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    for name in [*gd.NUMERIC, *gd.SHAPES_ONLY]:
        keras.backend.clear_session()
        model = globals()[name]()
        meta = _meta(name, model)
        arrays = {}
        if name in gd.NUMERIC:
            meta["scale"] = gd.NUMERIC[name][1]
            arrays = _numeric(name, model)
        path = args.out / f"{name}.npz"
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
        size = path.stat().st_size
        if size > gd.MAX_BYTES:
            raise SystemExit(f"{path} is {size} bytes; keep it under {gd.MAX_BYTES}")
        print(f"{name:22s} {meta['count_params']:>11,d} params  {size:>7,d} B")
        del model


if __name__ == "__main__":
    main()
