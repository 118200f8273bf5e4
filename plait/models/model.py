"""`Model`: a layer with training and inference methods; `Model(inputs, outputs)`."""

from __future__ import annotations

from typing import Any

from plait.layers.base import Layer
from plait.training.trainer import Trainer

__all__ = ["Model"]


def _is_functional_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return (
        (len(args) >= 2)
        or ("inputs" in kwargs and "outputs" in kwargs)
        or (len(args) == 1 and "outputs" in kwargs)
    )


def _inject_functional(cls: type, functional: type) -> None:
    """Rebase the class(es) of `cls`'s MRO that derive from `Model` onto `functional`."""
    for klass in cls.__mro__:
        if Model in klass.__bases__ and klass is not functional:
            klass.__bases__ = tuple(
                functional if base is Model else base for base in klass.__bases__
            )


class Model(Trainer, Layer):
    """A graph of layers that trains and predicts: `Model(inputs, outputs)`.

    `Model(inputs=..., outputs=...)` builds a functional model from symbolic
    tensors: the layers called between them form the model. Subclass `Model`
    and define `call` instead for imperative models. Either way a model is a
    layer (callable on symbolic or real tensors, nestable) and a
    `torch.nn.Module`.

    Args:
        inputs: A symbolic tensor from `plait.Input()`, or a list or dict of them.
        outputs: Tensor(s) computed from `inputs` by calling layers; a list or a
            dict (keys become the output names).
        name: Model name.

    Example:
        >>> import plait
        >>> from plait.layers import Dense, Input
        >>> inputs = Input(shape=(784,))
        >>> x = Dense(64, activation="relu")(inputs)
        >>> model = plait.Model(inputs=inputs, outputs=Dense(10, activation="softmax")(x))
        >>> model.output_shape
        (None, 10)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _is_functional_call(args, kwargs):
            from plait.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self) is Model and _is_functional_call(args, kwargs):
            raise TypeError("Model(inputs, outputs) must construct a Functional model.")
        if _is_functional_call(args, kwargs):
            # Keras compat: a subclass calling `super().__init__(inputs, outputs)`
            # becomes a functional model: Functional takes Model's place in its bases.
            from plait.models.functional import Functional

            if not isinstance(self, Functional):
                _inject_functional(type(self), Functional)
            Functional.__init__(self, *args, **kwargs)  # type: ignore[arg-type]
            return
        if args:
            raise TypeError(
                f"{type(self).__name__}: unexpected positional arguments; a subclassed "
                "Model takes keyword arguments such as name=..."
            )
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self) -> list[Layer]:
        """The model's layers (for a subclassed model: its direct sub-layers)."""
        return self._sublayers()

    def _loss_layers(self) -> list[Layer]:
        """The model, then each of its layers once (the trainer's contract)."""
        every = [self, *self._all_sublayers()]
        return list({id(layer): layer for layer in every}.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"Model {self.name!r}: no layer named {name!r}; its layers are "
            f"{[layer.name for layer in layers]}."
        )

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print a table of the layers: name and type, output shape, params, inputs.

        Args:
            line_length: Table width in characters.
            positions: Accepted for Keras compatibility; ignored.
            print_fn: Called with each line of text instead of printing it.
            expand_nested: Also list the layers of nested models, indented.
            show_trainable: Add a column saying whether each layer is trainable.
            layer_range: Accepted for Keras compatibility; ignored.
        """
        from plait.models.summary import print_summary

        print_summary(
            self,
            line_length=line_length,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
        )

    # ------------------------------------------------------------------ saving
    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Any:
        """A model from `get_config()`: `Model.from_config` builds a functional one."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config:
            from plait.models.functional import Functional

            return Functional.from_config(config, custom_objects)
        return super().from_config(config)

    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Save architecture and weights to one file (see `plait.saving.save_model`)."""
        from plait.saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights to a `.safetensors` file (see `plait.saving`)."""
        from plait.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(
        self, filepath: Any, skip_mismatch: bool = False, by_name: bool = False
    ) -> Any:
        """Load weights saved by `save_weights` (see `plait.saving.load_weights`)."""
        from plait.saving import load_weights

        return load_weights(
            self, filepath, skip_mismatch=skip_mismatch, by_name=by_name
        )

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as a JSON string (`plait.models.model_from_json`)."""
        from plait.saving import model_to_json

        return model_to_json(self, **kwargs)

    def export(self, filepath: Any, format: str | None = None) -> None:  # noqa: A002
        """Export for inference: `'m.onnx'` (ONNX) or `'m.pt2'` (`torch.export`)."""
        from plait.saving import export_model

        export_model(self, filepath, format=format)
