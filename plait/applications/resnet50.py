"""Keras's `resnet50` module: `ResNet50` and its input scaling, from `resnet`."""

from __future__ import annotations

from plait.applications.resnet import ResNet50 as ResNet50
from plait.applications.resnet import decode_predictions as decode_predictions
from plait.applications.resnet import preprocess_input as preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
