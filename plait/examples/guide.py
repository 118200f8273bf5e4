"""The models of the Keras functional API guide, written exactly as the guide does.

Each builder uses only plait's public API with the guide's arguments; they feed the
demo (`examples/demo.py`), the guide tests and the benchmarks.

Example:
    >>> model = mlp()
    >>> model.output_shape
    (None, 10)
"""

from __future__ import annotations

from plait.models import Model, Sequential

__all__ = [
    "digit_vision_model",
    "headline_model",
    "inception_module",
    "mlp",
    "residual_connection",
    "sequence_classifier",
    "shared_vision_model",
    "tweet_model",
    "video_qa_model",
    "vqa_model",
]


def mlp() -> Model:
    """Section 1: 784 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10, softmax)."""
    from plait.layers import Dense, Input

    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    predictions = Dense(10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=predictions)


def sequence_classifier(model: Model | None = None) -> Model:
    """Section 2: `TimeDistributed(model)` over 20 steps of 784 features -> (None, 20, 10)."""
    from plait.layers import Input, TimeDistributed

    classifier = model if model is not None else mlp()
    input_sequences = Input(shape=(20, 784))
    processed_sequences = TimeDistributed(classifier)(input_sequences)
    return Model(inputs=input_sequences, outputs=processed_sequences)


def headline_model() -> Model:
    """Section 3: two inputs (headline ids, aux features), two outputs, named."""
    from plait.layers import LSTM, Dense, Embedding, Input, concatenate

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


def tweet_model() -> Model:
    """Section 4: one shared LSTM(64) encodes two (140, 256) tweets; same author?"""
    from plait.layers import LSTM, Dense, Input, concatenate

    tweet_a = Input(shape=(140, 256))
    tweet_b = Input(shape=(140, 256))
    shared_lstm = LSTM(64)
    encoded_a = shared_lstm(tweet_a)
    encoded_b = shared_lstm(tweet_b)
    merged_vector = concatenate([encoded_a, encoded_b], axis=-1)
    predictions = Dense(1, activation="sigmoid")(merged_vector)
    return Model(inputs=[tweet_a, tweet_b], outputs=predictions)


def inception_module() -> Model:
    """Section 6: three towers on a (256, 256, 3) image, joined on axis 1 as the guide does."""
    from plait.layers import Conv2D, Input, MaxPooling2D, concatenate

    input_img = Input(shape=(256, 256, 3))
    tower_1 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_1 = Conv2D(64, (3, 3), padding="same", activation="relu")(tower_1)
    tower_2 = Conv2D(64, (1, 1), padding="same", activation="relu")(input_img)
    tower_2 = Conv2D(64, (5, 5), padding="same", activation="relu")(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(input_img)
    tower_3 = Conv2D(64, (1, 1), padding="same", activation="relu")(tower_3)
    output = concatenate([tower_1, tower_2, tower_3], axis=1)
    return Model(inputs=input_img, outputs=output)


def residual_connection() -> Model:
    """Section 6: `add([x, Conv2D(3, (3, 3), padding='same')(x)])` on (256, 256, 3)."""
    from plait.layers import Conv2D, Input, add

    x = Input(shape=(256, 256, 3))
    y = Conv2D(3, (3, 3), padding="same")(x)
    z = add([x, y])
    return Model(inputs=x, outputs=z)


def digit_vision_model() -> Model:
    """Section 6: the shared vision model alone, a (27, 27, 1) digit -> a flat code.

    Example:
        >>> digit_vision_model().output_shape
        (None, 7744)
    """
    from plait.layers import Conv2D, Flatten, Input, MaxPooling2D

    digit_input = Input(shape=(27, 27, 1))
    x = Conv2D(64, (3, 3))(digit_input)
    x = Conv2D(64, (3, 3))(x)
    x = MaxPooling2D((2, 2))(x)
    out = Flatten()(x)
    return Model(digit_input, out)


def shared_vision_model() -> tuple[Model, Model]:
    """Section 6: one vision model on two (27, 27, 1) digits; are they the same?

    Returns:
        `(classification_model, vision_model)`.
    """
    from plait.layers import Dense, Input, concatenate

    vision_model = digit_vision_model()
    digit_a = Input(shape=(27, 27, 1))
    digit_b = Input(shape=(27, 27, 1))
    out_a = vision_model(digit_a)
    out_b = vision_model(digit_b)
    concatenated = concatenate([out_a, out_b])
    out = Dense(1, activation="sigmoid")(concatenated)
    return Model([digit_a, digit_b], out), vision_model


def _vision_sequential() -> Sequential:
    from plait.layers import Conv2D, Flatten, MaxPooling2D

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
    return vision_model


def vqa_model() -> tuple[Model, Sequential, Model]:
    """Section 6: visual question answering.

    Returns:
        `(vqa_model, vision_model, question_encoder)`.
    """
    from plait.layers import LSTM, Dense, Embedding, Input, concatenate

    vision_model = _vision_sequential()
    image_input = Input(shape=(224, 224, 3))
    encoded_image = vision_model(image_input)
    question_input = Input(shape=(100,), dtype="int32")
    embedded_question = Embedding(input_dim=10000, output_dim=256, input_length=100)(
        question_input
    )
    encoded_question = LSTM(256)(embedded_question)
    merged = concatenate([encoded_question, encoded_image])
    output = Dense(1000, activation="softmax")(merged)
    vqa = Model(inputs=[image_input, question_input], outputs=output)
    question_encoder = Model(inputs=question_input, outputs=encoded_question)
    return vqa, vision_model, question_encoder


def video_qa_model() -> Model:
    """Section 6: `TimeDistributed(vision_model)` over 100 frames + a reused question encoder."""
    from plait.layers import LSTM, Dense, Input, TimeDistributed, concatenate

    _, vision_model, question_encoder = vqa_model()
    video_input = Input(shape=(100, 224, 224, 3))
    encoded_frame_sequence = TimeDistributed(vision_model)(video_input)
    encoded_video = LSTM(256)(encoded_frame_sequence)
    video_question_input = Input(shape=(100,), dtype="int32")
    encoded_video_question = question_encoder(video_question_input)
    merged = concatenate([encoded_video, encoded_video_question])
    output = Dense(1000, activation="softmax")(merged)
    return Model(inputs=[video_input, video_question_input], outputs=output)
