"""`Variable`: a `torch.nn.Parameter` that also speaks Keras's variable API.

`add_weight` (layers) and `add_variable` (metrics) create `Variable`s, so a
weight is both what torch expects (optimizers, `state_dict`, `deepcopy`,
tracing, DDP) and what a Keras user writes: `v.assign(...)`,
`v.assign_add(...)`, `v.numpy()`, `v.value`, `v.name`, `v.path`,
`v.trainable`.

The weight's metadata stays in its owner's `_weight_info` table (see
`plait.layers.weights_api`); the variable only keeps a weak reference to the
owner (a layer or a metric), carried through `copy.deepcopy` and pickling.

`dtype` and `shape` stay torch's (`torch.float32`, `torch.Size`): torch's
optimizers, DDP, FSDP and autocast read `p.dtype` from Python and need a
`torch.dtype`; `torch.Size` compares equal to the tuple Keras gives.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from plait.utils.shapes import format_shape, standardize_dtype

__all__ = ["Variable", "path_scope"]

# Names of the models building their layers now, outermost first (`path_scope`).
_SCOPES: list[str] = []


@contextlib.contextmanager
def path_scope(name: str) -> Iterator[None]:
    """Layers that create weights inside get `<name>/` in front of their paths.

    Keras 3 compat: a `Sequential` builds its layers inside its name scope, so
    their weights read `"seq/dense/kernel"` (the paths Keras's goldens list).
    """
    _SCOPES.append(name)
    try:
        yield
    finally:
        _SCOPES.pop()


def scope_prefix() -> str:
    """`"outer/inner/"` for the models building now; `""` outside any."""
    return "".join(f"{name}/" for name in _SCOPES)


class Variable(torch.nn.Parameter):
    """A layer's or metric's weight: a `torch.nn.Parameter` with Keras's methods.

    Made two ways: Keras 3's `Variable(initializer, shape=None, dtype=None,
    trainable=True, autocast=True, aggregation="none", synchronization="auto",
    name=None)`, where `initializer` is a value (array, tensor, number; its
    dtype is kept unless `dtype` is given) or an initializer (a name, class or
    callable, with `shape`; `floatx` by default); and torch's
    `Variable(data, requires_grad)`. A `Variable` set as an attribute of a layer
    becomes one of its weights (in `weights`, trained when trainable, saved), as
    in Keras. Integer variables are never trainable.

    Example:
        >>> v = Variable(torch.zeros(2), requires_grad=False)
        >>> v.assign_add(torch.ones(2))
        >>> v.assign_sub(0.5)
        >>> v.numpy().tolist()
        [0.5, 0.5]
        >>> w = Variable("ones", shape=(2, 2), name="scale", trainable=False)
        >>> w.name, w.trainable, w.numpy().sum().item()
        ('scale', False, 4.0)
    """

    _owner_ref: weakref.ref[Any] | None = None
    _name: str | None = None

    def __new__(
        cls,
        initializer: Any = None,
        shape: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
        *,
        requires_grad: bool | None = None,
    ) -> Variable:
        if requires_grad is not None or isinstance(shape, bool):
            # torch's form, `Variable(data, requires_grad)` (copies, pickling).
            grad = bool(shape) if requires_grad is None else requires_grad
            data = torch.empty(0) if initializer is None else initializer
            return super().__new__(cls, data, grad)
        value = _initial_value(initializer, shape, dtype)
        grad = bool(trainable) and (value.is_floating_point() or value.is_complex())
        variable = super().__new__(cls, value, grad)
        variable._name = name
        return variable

    # ------------------------------------------------------------ the owner
    @property
    def _owner(self) -> Any:
        ref = self._owner_ref
        return ref() if ref is not None else None

    @_owner.setter
    def _owner(self, owner: Any) -> None:
        # Also the way pickling restores the owner (torch sets each state key).
        self._owner_ref = weakref.ref(owner) if owner is not None else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_owner_ref", None)
        state["_owner"] = self._owner
        return state

    def __reduce_ex__(self, proto: Any) -> Any:
        # torch rebuilds every Parameter as a plain one; keep the class.
        return (_rebuild_variable, (self.data, self.requires_grad, self.__getstate__()))

    def __deepcopy__(self, memo: dict[int, Any]) -> Variable:
        if id(self) in memo:
            return memo[id(self)]  # type: ignore[no-any-return]
        result = type(self)(
            self.data.clone(memory_format=torch.preserve_format), self.requires_grad
        )
        memo[id(self)] = result
        result._name = self._name
        owner = self._owner
        # The owner being copied is in `memo` already (copy registers an object
        # before copying its attributes): the copy points at the copied owner.
        result._owner = memo.get(id(owner), owner)
        return result

    def _info(self) -> Any:
        owner = self._owner
        return None if owner is None else owner._weight_info.get(self)

    # ------------------------------------------------------------ Keras's API
    @property
    def name(self) -> str:  # type: ignore[override]
        """The name given to `add_weight` (`"kernel"`)."""
        info = self._info()
        if info is None:
            return self._name or "variable"
        return str(info.name)

    @property
    def path(self) -> str:
        """`"<owner name>/<name>"` (`"dense/kernel"`), as Keras 3.

        Keras 3 compat: a layer built by a `Sequential` has the model's name
        in front (`"seq/dense/kernel"`).
        """
        owner = self._owner
        if owner is None:
            return self.name
        return f"{getattr(owner, '_path_prefix', '')}{owner.name}/{self.name}"

    @property
    def trainable(self) -> bool:
        """Whether training updates it (False for statistics or a frozen layer)."""
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        info = self._info()
        if info is not None:
            self._owner._weight_info[self] = info._replace(trainable=bool(value))
        layer_trainable = getattr(self._owner, "trainable", True)
        self.requires_grad_(bool(value) and bool(layer_trainable))

    @property
    def value(self) -> Variable:
        """The live tensor (this variable): `v.value.grad` is its gradient."""
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """A NumPy copy of the value (in the layout it is stored in)."""
        return self.detach().cpu().numpy(force=force).copy()  # type: ignore[no-any-return]

    def _as_value(self, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            tensor = value.detach()
        else:
            tensor = torch.as_tensor(np.asarray(value))
        return tensor.to(device=self.device, dtype=self.dtype)

    def assign(self, value: Any) -> None:
        """Set the value in place; `value` has this shape (or is a scalar).

        A weight stored in torch's layout (conv kernels) also takes a value in
        Keras's layout, as `set_weights` does.
        """
        tensor = self._as_value(value)
        info = self._info()
        layout = None if info is None else info.layout
        shape = tuple(tensor.shape)
        if (
            layout is not None
            and shape != tuple(self.shape)
            and shape == tuple(layout[0](self.detach()).shape)
        ):
            tensor = layout[1](tensor)
        if tensor.dim() and tuple(tensor.shape) != tuple(self.shape):
            raise ValueError(
                f"Variable {self.path!r}: expected a value of shape "
                f"{format_shape(tuple(self.shape))}, got "
                f"{format_shape(tuple(tensor.shape))}."
            )
        with torch.no_grad():
            self.copy_(tensor)

    def assign_add(self, delta: Any) -> None:
        """Add `delta` in place (broadcast to this shape)."""
        with torch.no_grad():
            self.add_(self._as_value(delta))

    def assign_sub(self, delta: Any) -> None:
        """Subtract `delta` in place (broadcast to this shape)."""
        with torch.no_grad():
            self.sub_(self._as_value(delta))

    def _like_on_meta(self) -> Variable:
        """The same variable as a meta tensor (shape inference swaps it in)."""
        meta = Variable(
            torch.empty_like(self, device="meta"), requires_grad=self.requires_grad
        )
        meta._owner_ref = self._owner_ref
        return meta

    def __repr__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        shape = format_shape(tuple(self.shape))
        dtype = str(self.dtype).removeprefix("torch.")
        value = repr(self.data)
        return (
            f"<Variable path={self.path}, shape={shape}, dtype={dtype}, value={value}>"
        )


def _initial_value(initializer: Any, shape: Any, dtype: Any) -> torch.Tensor:
    """The first value of a Keras-style `Variable(initializer, shape, dtype)`."""
    from plait import initializers

    if isinstance(initializer, (str, type)) or (
        callable(initializer) and not isinstance(initializer, torch.Tensor)
    ):
        if shape is None:
            raise ValueError(
                f"Variable: an initializer ({initializer!r}) needs the `shape` "
                "argument; got shape=None."
            )
        init = initializers.get(initializer)
        dims = tuple(int(d) for d in shape)
        return init(dims, dtype=standardize_dtype(dtype)).detach().clone()
    if initializer is None:
        raise ValueError(
            "Variable: expected an initial value or an initializer, got None."
        )
    if isinstance(initializer, torch.Tensor):
        value = initializer.detach().clone()
    elif isinstance(initializer, (np.ndarray, np.generic)):
        value = torch.from_numpy(np.array(initializer))  # keeps NumPy's dtype
    else:
        value = torch.as_tensor(initializer)  # Python floats: the default dtype
    if dtype is not None:
        value = value.to(standardize_dtype(dtype))
    if shape is not None and tuple(value.shape) != tuple(int(d) for d in shape):
        raise ValueError(
            f"Variable: the initial value has shape {format_shape(tuple(value.shape))}, "
            f"but shape={format_shape(tuple(shape))} was given."
        )
    return value.contiguous()


def _rebuild_variable(
    data: torch.Tensor, requires_grad: bool, state: dict[str, Any]
) -> Variable:
    """Unpickle a `Variable` (its owner comes back through `_owner`'s setter)."""
    variable = Variable(data, requires_grad)
    for key, value in state.items():
        setattr(variable, key, value)
    return variable
