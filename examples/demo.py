"""plait demo: the Keras functional API guide, run end to end on PyTorch.

1. Builds every model of the guide, prints its summary and runs `predict` on it.
2. Shows the layer-node API (one Conv2D called on two image sizes).
3. Trains the guide's first model (the MLP) on real data shipped with scikit-learn:
   1,797 8x8 handwritten digits, resized to 28x28 = 784 features.
4. Trains the guide's shared vision model, inside a siamese comparison, on pairs
   of those digits (resized to the guide's 27x27): are two digits the same?
5. Trains the multi-input, multi-output headline model on synthetic headlines.
6. Trains a text model from raw strings (`TextVectorization` inside the model):
   which library wrote this docstring, NumPy or PyTorch? Both ship with plait's
   dependencies, so the text is real and needs no download.
7. Draws the headline model with `plot_model` (PNG with Graphviz, else DOT text).

Run through `bash scripts/demo.sh` (it sets up its own virtualenv), or
`python examples/demo.py [--quick]` in an environment with plait installed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

import plait
from plait.examples import guide
from plait.layers import (
    Conv2D,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    Input,
    TextVectorization,
    concatenate,
    multiply,
    subtract,
)

console = Console()


def section(title: str) -> None:
    """Print a section header."""
    console.print(Rule(f"[bold]{title}"))


def show(name: str, model: plait.Model, inputs: list[np.ndarray] | np.ndarray) -> None:
    """Summary of `model`, then the shapes `predict` returns."""
    model.summary()
    start = time.perf_counter()
    out = model.predict(inputs, verbose=0)
    outs = out if isinstance(out, list) else [out]
    shapes = ", ".join(str(o.shape) for o in outs)
    took = time.perf_counter() - start
    console.print(f"[green]{name}[/]: predict -> {shapes} in {took:.2f}s\n")


def build_guide_models(quick: bool) -> None:
    """Section 1: every model of the guide, built, summarized and run."""
    rng = np.random.default_rng(0)
    section("1. The guide's models")
    show("MLP (guide section 1)", guide.mlp(), rng.random((4, 784), dtype=np.float32))
    show(
        "TimeDistributed(model) (section 2)",
        guide.sequence_classifier(),
        rng.random((2, 20, 784), dtype=np.float32),
    )
    headline = rng.integers(1, 10000, (4, 100)).astype(np.int32)
    show(
        "Multi-input/multi-output (section 3)",
        guide.headline_model(),
        [headline, rng.random((4, 5), dtype=np.float32)],
    )
    tweets = (rng.random((2, 140, 256)) > 0.5).astype(np.float32)
    show("Shared LSTM (section 4)", guide.tweet_model(), [tweets, tweets[::-1]])
    images = rng.random((1, 256, 256, 3), dtype=np.float32)
    show("Inception module (section 6)", guide.inception_module(), images)
    show("Residual connection (section 6)", guide.residual_connection(), images)
    digits = rng.random((2, 27, 27, 1), dtype=np.float32)
    show(
        "Shared vision model (section 6)",
        guide.shared_vision_model()[0],
        [digits, digits],
    )
    vqa, _, _ = guide.vqa_model()
    show(
        "Visual question answering (section 6)",
        vqa,
        [rng.random((1, 224, 224, 3), dtype=np.float32), headline[:1]],
    )
    video = guide.video_qa_model()
    if quick:
        video.summary()
        console.print("[yellow]video QA: predict skipped (--quick)[/]\n")
    else:
        frames = rng.random((1, 100, 224, 224, 3), dtype=np.float32)
        show("Video question answering (section 6)", video, [frames, headline[:1]])


def node_api() -> None:
    """Section 2: one layer, two calls, two nodes (guide section 5)."""
    section("2. The layer node API")
    a = Input(shape=(32, 32, 3))
    b = Input(shape=(64, 64, 3))
    conv = Conv2D(16, (3, 3), padding="same")
    conv(a)
    conv(b)
    console.print(f"conv.get_input_shape_at(0) == {conv.get_input_shape_at(0)}")
    console.print(f"conv.get_input_shape_at(1) == {conv.get_input_shape_at(1)}")
    try:
        _ = conv.output
    except AttributeError as err:
        console.print(f"conv.output -> AttributeError: {err}\n")


def load_digits_resized(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as `(n, size, size, 1)` images in [0, 1], and labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(
        images, size=(size, size), mode="bilinear", align_corners=False
    )
    return images.permute(0, 2, 3, 1).numpy(), data.target  # (n, size, size, 1)


def train_mlp(epochs: int) -> None:
    """Section 3: the guide's MLP classifies the digits (784 = 28x28 features)."""
    section("3. Training the guide's MLP on handwritten digits")
    images, labels = load_digits_resized(28)
    x = images.reshape(len(images), 784)
    y = plait.utils.to_categorical(labels, num_classes=10)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = 1500
    model = guide.mlp()
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x[:split], y[:split], epochs=epochs * 4, batch_size=32, verbose=1)
    loss, accuracy = model.evaluate(x[split:], y[split:], verbose=0)
    console.print(
        f"[bold green]{len(x) - split} held-out digits: loss {loss:.3f}, "
        f"accuracy {accuracy:.3f}[/]\n"
    )


def digit_pairs(
    images: np.ndarray, labels: np.ndarray, pool: np.ndarray, n_pairs: int, seed: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """`n_pairs` pairs of the images indexed by `pool`, every other one the same digit."""
    rng = np.random.default_rng(seed)
    by_class = [pool[labels[pool] == c] for c in range(10)]
    first = rng.choice(pool, n_pairs)
    second = np.empty_like(first)
    for i, a in enumerate(first):
        digit = labels[a] if i % 2 == 0 else (labels[a] + rng.integers(1, 10)) % 10
        second[i] = rng.choice(by_class[digit])
    same = (labels[first] == labels[second]).astype(np.float32)[:, None]
    return [images[first], images[second]], same


def siamese_digits_model() -> plait.Model:
    """The guide's shared vision model on two digits, then a comparison of the codes.

    The guide joins the two codes with `concatenate` and one sigmoid unit: a linear
    function of the codes, which cannot express "the same digit". Here both codes go
    through one shared `Dense` projection, and the head sees their squared difference
    and their product, which can.
    """
    vision_model = guide.digit_vision_model()
    digit_a = Input(shape=(27, 27, 1), name="digit_a")
    digit_b = Input(shape=(27, 27, 1), name="digit_b")
    project = Dense(64, activation="relu", name="projection")
    code_a = project(vision_model(digit_a))
    code_b = project(vision_model(digit_b))
    difference = subtract([code_a, code_b])
    compared = concatenate(
        [multiply([difference, difference]), multiply([code_a, code_b])]
    )
    x = Dense(64, activation="relu")(compared)
    same = Dense(1, activation="sigmoid", name="same_digit")(x)
    return plait.Model([digit_a, digit_b], same)


def train_vision(epochs: int) -> None:
    """Section 4: the shared vision model learns whether two digits are the same."""
    section("4. Training the shared vision model on pairs of digits")
    images, labels = load_digits_resized(27)
    order = np.random.default_rng(0).permutation(len(labels))
    seen, unseen = order[:1400], order[1400:]  # held-out pairs use unseen images
    x, y = digit_pairs(images, labels, seen, 1800, seed=0)
    x_test, y_test = digit_pairs(images, labels, unseen, 1000, seed=1)
    console.print(
        f"{len(y)} training pairs of {len(seen)} digit images, {len(y_test)} held-out "
        f"pairs of the other {len(unseen)}; half of the pairs are the same digit"
    )
    model = siamese_digits_model()
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        y,
        batch_size=32,
        epochs=max(1, epochs - 1),
        validation_split=0.1,
        verbose=1,
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    console.print(
        f"[bold green]held-out pairs: loss {loss:.3f}, accuracy {accuracy:.3f} "
        "(chance is 0.5)[/]\n"
    )


def train_headline(epochs: int) -> None:
    """Section 5: the two-input, two-output model on synthetic headlines."""
    section("5. Training the multi-input, multi-output headline model")
    rng = np.random.default_rng(1)
    n = 1024
    headline_data = rng.integers(1, 10000, (n, 100)).astype(np.int32)
    additional_data = rng.random((n, 5), dtype=np.float32)
    # A learnable rule: the headline "goes viral" when it has many low word ids.
    labels = ((headline_data < 2000).mean(axis=1) > 0.2).astype(np.float32)[:, None]
    model = guide.headline_model()
    model.compile(
        optimizer="rmsprop",
        loss={
            "main_output": "binary_crossentropy",
            "aux_output": "binary_crossentropy",
        },
        loss_weights={"main_output": 1.0, "aux_output": 0.2},
        metrics=["accuracy"],
    )
    history = model.fit(
        {"main_input": headline_data, "aux_input": additional_data},
        {"main_output": labels, "aux_output": labels},
        epochs=epochs,
        batch_size=32,
        verbose=1,
    )
    keys = ", ".join(sorted(history.history))
    console.print(f"history keys: {keys}\n")


def docstrings() -> tuple[np.ndarray, np.ndarray]:
    """First paragraphs of NumPy's and PyTorch's public docstrings, and 0/1 labels."""
    texts, labels = [], []
    for label, module in enumerate((np, torch)):
        for name in sorted(dir(module)):
            doc = getattr(getattr(module, name, None), "__doc__", None)
            if name.startswith("_") or not isinstance(doc, str) or len(doc) < 200:
                continue
            texts.append(" ".join(doc.split())[:400])
            labels.append(label)
    order = np.random.default_rng(0).permutation(len(texts))
    return np.array(texts, dtype=object)[order], np.array(labels, np.float32)[order]


def train_text(epochs: int) -> None:
    """Section 6: a text classifier trained from raw strings."""
    section("6. Training a text model from raw strings: NumPy or PyTorch docstring?")
    texts, labels = docstrings()
    n_test = len(texts) // 5
    train_x, test_x = texts[n_test:], texts[:n_test]
    train_y, test_y = labels[n_test:], labels[:n_test]
    console.print(f"{len(train_x)} training and {n_test} held-out docstrings")
    vectorize = TextVectorization(max_tokens=8000, output_sequence_length=80)
    vectorize.adapt(train_x)
    inputs = Input(shape=(1,), dtype="string")
    x = Embedding(8000, 32)(vectorize(inputs))
    x = GlobalAveragePooling1D()(x)
    outputs = Dense(1, activation="sigmoid")(Dense(32, activation="relu")(x))
    model = plait.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(train_x, train_y, epochs=epochs + 3, batch_size=32, verbose=1)
    loss, accuracy = model.evaluate(test_x, test_y, verbose=0)
    console.print(f"held-out docstrings: loss {loss:.3f}, accuracy {accuracy:.3f}\n")


def draw_model() -> None:
    """Section 7: `plot_model` of the headline model."""
    section("7. Drawing the headline model with plot_model")
    model = guide.headline_model()
    try:
        plait.utils.plot_model(
            model, "headline_model.png", show_shapes=True, show_layer_names=True
        )
        console.print("wrote headline_model.png\n")
    except ImportError as err:  # pydot missing, or Graphviz's `dot` program
        console.print(
            f"[yellow]PNG not written ({escape(str(err))}); writing DOT text instead[/]"
        )
        try:
            plait.utils.plot_model(
                model, "headline_model.dot", show_shapes=True, show_layer_names=True
            )
            console.print("wrote headline_model.dot\n")
        except ImportError as err2:
            console.print(f"[yellow]{escape(str(err2))}[/]\n")


def main() -> None:
    """Run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the slowest predict")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    plait.utils.set_random_seed(0)
    build_guide_models(args.quick)
    node_api()
    train_mlp(args.epochs)
    train_vision(args.epochs)
    train_headline(max(1, args.epochs - 1))
    train_text(args.epochs)
    draw_model()


if __name__ == "__main__":
    main()
