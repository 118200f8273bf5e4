"""Transfer learning and fine-tuning with a plait application, as Keras's guide does it.

Keras's guide "Transfer learning & fine-tuning" (https://keras.io/guides/transfer_learning/)
in plait, on PyTorch:

1. Take ResNet50 with its ImageNet weights and without its top (`include_top=False`),
   and freeze it: `base.trainable = False`.
2. Put a new head on it: the input is scaled inside the model
   (`resnet50.preprocess_input` on the symbolic input), the base is called with
   `training=False` (its BatchNormalization layers then keep using their
   moving statistics, even once the base is unfrozen), then global average
   pooling, dropout and a new classifier.
3. Train the head with `fit`: only the head's weights move.
4. Fine-tune: unfreeze the base, compile again (a change of `trainable` takes
   effect at `compile`) with a low learning rate, and `fit` a few more epochs.

The data are scikit-learn's 1,797 handwritten digits (shipped with it, no
download), upsampled from 8x8 to `--size` pixels and repeated over 3 channels.
The ImageNet weights (about 95 MB) are fetched once into `~/.plait/models`;
pass `--weights none` to start from random weights (then nothing is
downloaded, and the frozen base is a random feature extractor).

    python examples/fine_tuning.py [--weights imagenet|none] [--size 64] [--quick]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import plait
from plait import applications, layers
from plait.applications import resnet50


def digits(size: int, samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels): digits as `size`x`size` RGB images in [0, 255], labels 0-9."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = data.images[:samples] / 16.0 * 255.0
    images = np.kron(images, np.ones((1, size // 8, size // 8)))  # nearest upsampling
    images = np.repeat(images[..., None], 3, axis=-1).astype("float32")
    return images, data.target[:samples]


def build(
    weights: Any, size: int, classes: int = 10
) -> tuple[plait.Model, plait.Model]:
    """(model, base): a frozen ResNet50 base under a new classifier head."""
    base = applications.ResNet50(
        weights=weights, include_top=False, input_shape=(size, size, 3)
    )
    base.trainable = False
    inputs = plait.Input((size, size, 3))
    x = resnet50.preprocess_input(inputs)  # recorded in the model
    x = base(x, training=False)  # BatchNormalization in inference mode, always
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return plait.Model(inputs, outputs), base


def _compile(model: plait.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=plait.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def train_head(model: plait.Model, x: np.ndarray, y: np.ndarray, **fit: Any) -> Any:
    """Step 3: train the new head on the frozen base."""
    _compile(model, 1e-3)
    return model.fit(x, y, validation_split=0.2, **fit)


def fine_tune(
    model: plait.Model, base: plait.Model, x: np.ndarray, y: np.ndarray, **fit: Any
) -> Any:
    """Step 4: unfreeze the base and train everything with a low learning rate."""
    base.trainable = True
    _compile(model, 1e-5)
    return model.fit(x, y, validation_split=0.2, **fit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="imagenet", help="imagenet or none")
    parser.add_argument(
        "--size", type=int, default=64, help="image side, a multiple of 8"
    )
    parser.add_argument("--quick", action="store_true", help="300 images, 1+1 epochs")
    args = parser.parse_args()
    weights = None if args.weights == "none" else args.weights
    x, y = digits(args.size, 300 if args.quick else None)
    model, base = build(weights, args.size)
    trainable = sum(w.numel() for w in model.trainable_weights)
    print(f"{len(x)} images; {trainable:,} trainable weights with the base frozen")
    epochs = (1, 1) if args.quick else (5, 3)
    head = train_head(model, x, y, epochs=epochs[0], batch_size=32)
    print(f"head trained: val_accuracy {head.history['val_accuracy'][-1]:.3f}")
    tuned = fine_tune(model, base, x, y, epochs=epochs[1], batch_size=32)
    print(f"fine-tuned: val_accuracy {tuned.history['val_accuracy'][-1]:.3f}")


if __name__ == "__main__":
    main()
