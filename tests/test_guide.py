"""The Keras functional API guide, run as written with `keras` replaced by `plait`.

Each test copies one guide example (imports changed, data made small) and runs
one `fit` step; the slow ones (full-size images) are marked `slow`.
"""

import numpy as np
import pytest

import plait
from plait.layers import (
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
from plait.models import Model, Sequential


def _mlp():
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    predictions = Dense(10, activation="softmax")(x)
    return inputs, Model(inputs=inputs, outputs=predictions)


def test_guide_first_example_trains():
    _, model = _mlp()
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    rng = np.random.default_rng(0)
    data = rng.random((64, 784), dtype=np.float32)
    labels = plait.utils.to_categorical(rng.integers(0, 10, 64), num_classes=10)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(data, labels, verbose=0)
    assert set(history.history) == {"accuracy", "loss"}
    assert all(
        not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )


def test_guide_models_are_callable_like_layers():
    _, model = _mlp()
    x = Input(shape=(784,))
    y = model(x)
    assert y.shape == (None, 10)
    input_sequences = Input(shape=(20, 784))
    processed_sequences = TimeDistributed(model)(input_sequences)
    assert processed_sequences.shape == (None, 20, 10)
    seq_model = Model(input_sequences, processed_sequences)
    out = seq_model.predict(np.ones((2, 20, 784), dtype=np.float32), verbose=0)
    single = model.predict(np.ones((1, 784), dtype=np.float32), verbose=0)
    np.testing.assert_allclose(out[0, 3], single[0], rtol=1e-5, atol=1e-6)


def _headline_model():
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


def _headline_data(n=32):
    rng = np.random.default_rng(1)
    headline_data = rng.integers(1, 10000, (n, 100)).astype(np.int32)
    additional_data = rng.random((n, 5), dtype=np.float32)
    labels = rng.integers(0, 2, (n, 1)).astype(np.float32)
    return headline_data, additional_data, labels


def test_guide_multi_input_multi_output_with_lists():
    model = _headline_model()
    model.compile(
        optimizer="rmsprop", loss="binary_crossentropy", loss_weights=[1.0, 0.2]
    )
    headline_data, additional_data, labels = _headline_data()
    history = model.fit(
        [headline_data, additional_data], [labels, labels], epochs=1, batch_size=32,
        verbose=0,
    )  # fmt: skip
    logs = {k: v[0] for k, v in history.history.items()}
    assert set(logs) == {"loss", "main_output_loss", "aux_output_loss"}
    # As in Keras: per-output losses unweighted, the total their weighted sum.
    np.testing.assert_allclose(
        logs["loss"],
        logs["main_output_loss"] + 0.2 * logs["aux_output_loss"],
        rtol=1e-5,
    )


def test_guide_multi_input_multi_output_with_dicts():
    model = _headline_model()
    model.compile(
        optimizer="rmsprop",
        loss={
            "main_output": "binary_crossentropy",
            "aux_output": "binary_crossentropy",
        },
        loss_weights={"main_output": 1.0, "aux_output": 0.2},
    )
    headline_data, additional_data, labels = _headline_data()
    history = model.fit(
        {"main_input": headline_data, "aux_input": additional_data},
        {"main_output": labels, "aux_output": labels},
        epochs=1,
        batch_size=32,
        verbose=0,
    )
    logs = {k: v[0] for k, v in history.history.items()}
    np.testing.assert_allclose(
        logs["loss"],
        logs["main_output_loss"] + 0.2 * logs["aux_output_loss"],
        rtol=1e-5,
    )
    out = model.predict(
        {"main_input": headline_data, "aux_input": additional_data}, verbose=0
    )
    assert [o.shape for o in out] == [(32, 1), (32, 1)]


def test_guide_shared_layers_and_nodes():
    tweet_a = Input(shape=(140, 256))
    tweet_b = Input(shape=(140, 256))
    shared_lstm = LSTM(64)
    encoded_a = shared_lstm(tweet_a)
    encoded_b = shared_lstm(tweet_b)
    merged_vector = concatenate([encoded_a, encoded_b], axis=-1)
    predictions = Dense(1, activation="sigmoid")(merged_vector)
    model = Model(inputs=[tweet_a, tweet_b], outputs=predictions)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(2)
    data_a = (rng.random((4, 140, 256)) > 0.5).astype(np.float32)
    data_b = (rng.random((4, 140, 256)) > 0.5).astype(np.float32)
    labels = rng.integers(0, 2, (4, 1)).astype(np.float32)
    model.fit([data_a, data_b], labels, epochs=1, verbose=0)
    # One layer instance, one set of weights.
    assert len(shared_lstm.weights) == 3
    # Section 5: the layer "node".
    assert shared_lstm.get_output_at(0) == encoded_a
    assert shared_lstm.get_output_at(1) == encoded_b
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        _ = shared_lstm.output
    a = Input(shape=(32, 32, 3))
    b = Input(shape=(64, 64, 3))
    conv = Conv2D(16, (3, 3), padding="same")
    conved_a = conv(a)
    assert conv.input_shape == (None, 32, 32, 3)
    conved_b = conv(b)
    assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
    assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
    assert conved_a.shape == (None, 32, 32, 16)
    assert conved_b.shape == (None, 64, 64, 16)


def test_guide_inception_and_residual_build():
    input_img = Input(shape=(256, 256, 3))
    tower_1 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_1 = Conv2D(64, (3, 3), padding="same", activation="relu")(tower_1)
    tower_2 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_2 = Conv2D(64, (5, 5), padding="same", activation="relu")(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(input_img)
    tower_3 = Conv2D(64, (1, 1), padding="same", activation="relu")(tower_3)
    output = concatenate([tower_1, tower_2, tower_3], axis=1)
    assert output.shape == (None, 768, 256, 64)
    x = Input(shape=(256, 256, 3))
    y = Conv2D(3, (3, 3), padding="same")(x)
    z = add([x, y])
    assert z.shape == (None, 256, 256, 3)
    model = Model(x, z)
    img = np.random.default_rng(3).random((1, 256, 256, 3), dtype=np.float32)
    conv = model.layers[1]
    kernel, bias = conv.get_weights()
    # Residual check at one pixel away from the border: x + conv(x).
    patch = img[0, 9:12, 9:12, :]
    expected = img[0, 10, 10] + np.einsum("hwc,hwco->o", patch, kernel) + bias
    np.testing.assert_allclose(
        model.predict(img, verbose=0)[0, 10, 10], expected, rtol=1e-4, atol=1e-5
    )


def test_guide_shared_vision_model_trains():
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
    classification_model = Model([digit_a, digit_b], out)
    classification_model.compile(optimizer="adam", loss="binary_crossentropy")
    rng = np.random.default_rng(4)
    a = rng.random((4, 27, 27, 1), dtype=np.float32)
    b = rng.random((4, 27, 27, 1), dtype=np.float32)
    y = rng.integers(0, 2, (4, 1)).astype(np.float32)
    before = vision_model.get_weights()[0].copy()
    classification_model.fit([a, b], y, epochs=1, verbose=0)
    assert not np.allclose(before, vision_model.get_weights()[0])


def _vqa():
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


def test_guide_vqa_and_video_qa_build():
    vqa_model, vision_model, question_input, encoded_question = _vqa()
    assert vqa_model.output_shape == (None, 1000)
    video_input = Input(shape=(100, 224, 224, 3))
    encoded_frame_sequence = TimeDistributed(vision_model)(video_input)
    encoded_video = LSTM(256)(encoded_frame_sequence)
    question_encoder = Model(inputs=question_input, outputs=encoded_question)
    video_question_input = Input(shape=(100,), dtype="int32")
    encoded_video_question = question_encoder(video_question_input)
    merged = concatenate([encoded_video, encoded_video_question])
    output = Dense(1000, activation="softmax")(merged)
    video_qa_model = Model(inputs=[video_input, video_question_input], outputs=output)
    assert encoded_frame_sequence.shape == (None, 100, 160000)
    assert video_qa_model.output_shape == (None, 1000)
    # The question encoder shares its weights with the VQA model.
    lstm = question_encoder.layers[-1]
    assert any(layer is lstm for layer in vqa_model.layers)


@pytest.mark.slow
def test_guide_vqa_trains_one_step():
    vqa_model, _, _, _ = _vqa()
    vqa_model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    rng = np.random.default_rng(5)
    images = rng.random((2, 224, 224, 3), dtype=np.float32)
    questions = rng.integers(1, 10000, (2, 100)).astype(np.int32)
    answers = plait.utils.to_categorical(rng.integers(0, 1000, 2), num_classes=1000)
    history = vqa_model.fit([images, questions], answers, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
