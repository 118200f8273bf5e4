"""The optimizer base class: Keras's arguments around a `torch.optim` optimizer.

An `Optimizer` is created from hyperparameters alone, like a Keras optimizer;
`build(params)` then creates the `torch.optim` optimizer that does the work
(fused or multi-tensor kernels where torch has them). `step()` adds what Keras
does around the update: gradient clipping, decoupled weight decay, and a
learning-rate schedule evaluated at the step count. The concrete optimizers
live in `plait.optimizers.optimizers` and `plait.optimizers.adaptive`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor
from torch.autograd import profiler as _profiler
from torch.optim import optimizer as _torch_optim

from plait.distribution import sharding, sync
from plait.optimizers import schedules
from plait.optimizers.apply_api import ApplyAPI
from plait.optimizers.schedules import LearningRateSchedule
from plait.utils import guard

__all__ = ["Arg", "LearningRate", "Optimizer", "Spec"]

LearningRate = float | Callable[..., float]


def _serialize_lr(learning_rate: LearningRate) -> float | dict[str, Any]:
    if isinstance(learning_rate, LearningRateSchedule):
        return schedules.serialize(learning_rate)
    if callable(learning_rate):
        return float(learning_rate())  # a plain callable is saved by its value
    return float(learning_rate)


def _torch_step(opt: torch.optim.Optimizer) -> None:
    """`opt.step()`, minus torch's per-call profiling wrapper when nothing uses it.

    `torch.optim` wraps every optimizer class's `step` in a function that opens
    a `record_function` profiler range and runs the step hooks, ~10-25 µs a
    call on a CPU even when no profiler runs and no hook is registered: a
    tenth of a small model's whole train step. The unwrapped step does the
    same update; the wrapper still runs when a profiler is active or a hook is
    registered.
    """
    step = type(opt).step
    inner = getattr(step, "__wrapped__", None)
    if (
        inner is None
        or "step" in vars(opt)  # patched on the instance (an lr_scheduler's counter)
        or not getattr(step, "hooked", False)
        or opt._optimizer_step_pre_hooks
        or opt._optimizer_step_post_hooks
        or _torch_optim._global_optimizer_pre_hooks
        or _torch_optim._global_optimizer_post_hooks
        or _profiler._is_profiler_enabled
    ):
        opt.step()
    else:
        inner(opt)


class Arg(NamedTuple):
    """One argument of an optimizer: its valid range and torch's keyword for it.

    Two arguments with the same `torch` keyword reach torch as a tuple, in
    order (`beta_1`, `beta_2` -> `betas`). A flag (`nesterov`) has no range.
    """

    low: float | None = None
    high: float = math.inf
    torch: str | None = None


class Spec(NamedTuple):
    """How a Keras optimizer maps onto torch: one row of `optimizers.table._TABLE`.

    Attributes:
        torch_class: The `torch.optim` class's name, or the class itself.
        args: The optimizer's own arguments (after `learning_rate`, besides
            the common ones), in signature order; `get_config` lists them so.
        fused_devices: Devices where torch's `fused=True` kernel works.
        torch_extra: Constant keywords for the torch class.
        native_weight_decay: torch applies Keras's decoupled decay itself.
    """

    torch_class: str | Callable[..., torch.optim.Optimizer] | None
    args: dict[str, Arg]
    fused_devices: frozenset[str] = frozenset()
    torch_extra: tuple[tuple[str, Any], ...] = ()
    native_weight_decay: bool = False


def keras_init(
    learning_rate: float,
    check: Callable[[], None] | None = None,
    **own: Any,
) -> Callable[..., None]:
    """An `__init__` with a Keras optimizer's signature, made from its defaults.

    The signature is `(learning_rate, *own, weight_decay, clipnorm, clipvalue,
    global_clipnorm, name, **kwargs)`, each common argument placed after
    `own` unless `own` already names it (AdamW's `weight_decay`). The
    arguments go to `Optimizer.__init__` by keyword, so the common ones are
    handled in one place. `check`, if given, runs first (Lion's torch check).

    Example:
        >>> class Plain(Optimizer):
        ...     __init__ = keras_init(0.1)
        >>> import inspect
        >>> list(inspect.signature(Plain).parameters)[:2]
        ['learning_rate', 'weight_decay']
    """
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("self", kind)]
    params.append(
        inspect.Parameter(
            "learning_rate", kind, default=learning_rate, annotation="LearningRate"
        )
    )
    for key, default in own.items():
        annotation = "bool" if isinstance(default, bool) else "float"
        params.append(
            inspect.Parameter(key, kind, default=default, annotation=annotation)
        )
    for key in _COMMON:
        if key not in own:
            params.append(
                inspect.Parameter(key, kind, default=None, annotation="float | None")
            )
    params.append(
        inspect.Parameter("name", kind, default=None, annotation="str | None")
    )
    params.append(
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation="Any")
    )
    signature = inspect.Signature(params, return_annotation="None")

    def __init__(self: Optimizer, *args: Any, **kwargs: Any) -> None:
        if check is not None:
            check()
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        extra = arguments.pop("kwargs")
        Optimizer.__init__(self, **arguments, **extra)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__


_COMMON = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")


def _check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{owner}: expected `{name}` to be a float, got {name}={value!r}."
        )
    if not low <= value <= high:
        raise ValueError(
            f"{owner}: expected `{name}` in [{low}, {high}], got {name}={value!r}."
        )


class Optimizer(ApplyAPI):
    """Base class: Keras's optimizer arguments around a `torch.optim` optimizer.

    Args:
        learning_rate: A float, a `LearningRateSchedule` (called with the step
            count before each update), or a callable of no arguments.
        weight_decay: If set, each update first does `w -= lr * weight_decay * w`
            (decoupled decay, as Keras does for every optimizer).
        clipnorm: Clip each gradient tensor to this L2 norm.
        clipvalue: Clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: Clip all gradients together to this global L2 norm.
            At most one of the three clipping arguments may be set.
        name: Defaults to the class name in lower case (`"adam"`).

    Attributes:
        torch_optimizer: The `torch.optim.Optimizer` made by `build`, or None.

    Example:
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> from plait.optimizers.optimizers import SGD
        >>> opt = SGD(learning_rate=0.1)
        >>> opt.build([w])
        >>> w.grad = torch.ones(2)
        >>> opt.step()
        >>> w.data, opt.iterations
        (tensor([0.9000, 0.9000]), 1)
    """

    _spec: ClassVar[Spec] = Spec(None, {})  # a subclass's row of table._TABLE

    def __init__(
        self,
        learning_rate: LearningRate,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        missing = [key for key in self._spec.args if key not in kwargs]
        if missing:
            raise TypeError(f"{owner}: missing argument(s) {missing}.")
        own = {key: kwargs.pop(key) for key in self._spec.args}
        if kwargs:
            raise ValueError(
                f"{owner}: argument(s) not recognized: {sorted(kwargs)} "
                "(plait does not support Keras's EMA, loss scaling or gradient "
                "accumulation options)."
            )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue}
        clips["global_clipnorm"] = global_clipnorm
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(
                f"{owner}: expected at most one of `clipnorm`, `clipvalue` and "
                f"`global_clipnorm`, got clipnorm={clipnorm!r}, "
                f"clipvalue={clipvalue!r}, global_clipnorm={global_clipnorm!r}."
            )
        for key, value in clips.items():
            if value is not None:
                _check_range(owner, key, value, 0.0, math.inf)
        if weight_decay is not None:
            _check_range(owner, "weight_decay", weight_decay, 0.0, math.inf)
        self.name = name or owner.lower()
        self.weight_decay, self.clipnorm = weight_decay, clipnorm
        self.clipvalue, self.global_clipnorm = clipvalue, global_clipnorm
        self._learning_rate = self._check_lr(learning_rate)
        for key, value in own.items():
            spec = self._spec.args[key]
            if spec.low is not None:
                _check_range(owner, key, value, spec.low, spec.high)
            setattr(self, key, value)
        self._iterations = 0
        self._params: list[torch.nn.Parameter] = []
        self._pending_state: dict[str, Any] | None = None
        self.built = False
        self.torch_optimizer: torch.optim.Optimizer | None = None

    def _check_lr(self, learning_rate: Any) -> LearningRate:
        if callable(learning_rate):
            return learning_rate  # type: ignore[no-any-return]
        if isinstance(learning_rate, bool) or not isinstance(
            learning_rate, (int, float)
        ):
            raise TypeError(
                f"{type(self).__name__}: expected `learning_rate` to be a float, a "
                "LearningRateSchedule or a callable, got "
                f"learning_rate={learning_rate!r}."
            )
        return float(learning_rate)

    def _torch_kwargs(self) -> dict[str, Any]:
        """Keywords for the torch class (besides `lr`), mapped by `_spec`."""
        grouped: dict[str, list[Any]] = {}
        for key, spec in self._spec.args.items():
            if spec.torch is not None:
                grouped.setdefault(spec.torch, []).append(getattr(self, key))
        kwargs = {k: v[0] if len(v) == 1 else tuple(v) for k, v in grouped.items()}
        if self._spec.native_weight_decay:
            kwargs["weight_decay"] = self.weight_decay or 0.0
        return {**kwargs, **dict(self._spec.torch_extra)}

    def _hyperparameters(self) -> dict[str, Any]:
        """The class's own constructor arguments, for `get_config`."""
        return {key: getattr(self, key) for key in self._spec.args}

    def build(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Creates `torch_optimizer` for the parameters that require gradients.

        Building again with the same parameters keeps the optimizer state;
        with other parameters it starts afresh.

        Args:
            params: The model's parameters (duplicates and frozen ones skipped).
        """
        unique = {id(p): p for p in params if p.requires_grad}
        if self.built and list(unique) == [id(p) for p in self._params]:
            return  # same parameters (a second compile): keep the state
        self._params = list(unique.values())
        self.torch_optimizer = None
        torch_cls = self._torch_class()
        if self._params and torch_cls is not None:
            kwargs = {**self._torch_kwargs(), **self._impl_kwargs()}
            lr = self._current_lr()
            self.torch_optimizer = torch_cls(self._params, lr=lr, **kwargs)
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    def _torch_class(self) -> Callable[..., torch.optim.Optimizer] | None:
        """The class `build` instantiates: `_spec.torch_class`."""
        torch_class = self._spec.torch_class
        if isinstance(torch_class, str):
            return getattr(torch.optim, torch_class)  # type: ignore[no-any-return]
        return torch_class

    def _impl_kwargs(self) -> dict[str, Any]:
        """The fastest torch implementation for where the parameters live."""
        devices = {p.device.type for p in self._params}
        if len(devices) != 1 or not all(p.is_floating_point() for p in self._params):
            return {}
        if any(sharding.is_sharded(p) for p in self._params):
            return {}  # FSDP's DTensors: no fused kernel; torch picks one that works
        if devices <= self._spec.fused_devices:
            return {"fused": True}
        return {"foreach": True}

    def _current_lr(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        if self.torch_optimizer is not None:
            return float(self.torch_optimizer.param_groups[0]["lr"])
        return float(lr)

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step; settable unless it is a schedule."""
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule) and not callable(
            value
        ):
            raise TypeError(
                f"{type(self).__name__}: the learning rate is a "
                f"{type(self._learning_rate).__name__} schedule, so it cannot be set "
                "to a number; create the optimizer with a float learning_rate instead."
            )
        self._learning_rate = self._check_lr(value)
        if not callable(value):
            self._set_group_lr(float(value))

    def _set_group_lr(self, lr: float) -> None:
        if self.torch_optimizer is not None:
            for group in self.torch_optimizer.param_groups:
                group["lr"] = lr

    @property
    def iterations(self) -> int:
        """Number of steps taken."""
        return self._iterations

    @property
    def variables(self) -> list[Tensor]:
        """The optimizer's state tensors (empty before the first step)."""
        if self.torch_optimizer is None:
            return []
        state = self.torch_optimizer.state.values()
        return [v for s in state for v in s.values() if isinstance(v, Tensor)]

    @torch.no_grad()
    def _clip(self, grads: list[Tensor]) -> None:
        """Clips gradients in place, as Keras's `_clip_gradients` does."""
        if self.clipnorm:
            norms = torch._foreach_norm(grads)
            torch._foreach_mul_(
                grads, [self.clipnorm / n.clamp(min=self.clipnorm) for n in norms]
            )
        elif self.global_clipnorm:
            norms = torch._foreach_norm(grads)
            total = torch.linalg.vector_norm(
                torch.stack([n.to(norms[0].device) for n in norms])
            )
            # Keras compat: a NaN or inf global norm makes every gradient NaN.
            scale = self.global_clipnorm / total.clamp(min=self.global_clipnorm)
            scale = scale + (total - total)
            torch._foreach_mul_(grads, [scale.to(g.device) for g in grads])
        elif self.clipvalue:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)

    def step(self) -> None:
        """Applies one update from the parameters' `.grad`.

        In order: in a custom `train_step` across processes, the gradients
        averaged over them (`plait.distribution.sync.user_gradients`); the
        learning rate of this step (schedules are evaluated at `iterations`),
        gradient clipping, decoupled weight decay, the torch
        update; then `iterations` advances. No host synchronisation.
        """
        if not self.built:
            raise ValueError(
                f"{type(self).__name__}: call build(params) before step(); the "
                "trainer does this in compile()/fit()."
            )
        # A custom train_step's own backward() across processes: average first.
        sync.average_gradients(self._params)
        lr = self._current_lr()
        if callable(self._learning_rate):
            self._set_group_lr(lr)
        decay = None if self._spec.native_weight_decay else self.weight_decay
        if self.clipnorm or self.global_clipnorm or self.clipvalue or decay:
            with_grad = [p for p in self._params if p.grad is not None]
            if with_grad:
                self._clip([p.grad for p in with_grad if p.grad is not None])
                if decay:
                    with torch.no_grad():
                        params: list[Tensor] = list(with_grad)
                        torch._foreach_mul_(params, 1.0 - lr * decay)
        with guard.HELD:  # the update and its count, whole (guard.py)
            if self.torch_optimizer is not None:
                _torch_step(self.torch_optimizer)
            self._iterations += 1

    def _takes_gradients(self) -> bool:
        """Whether `_apply_gradients` can run inside a compiled train step.

        True for a rule that takes gradients as values (`KerasRMSprop`) with
        hyperparameters that stay constant from step to step: a schedule, or
        a subclass that sets torch's hyperparameters per step (Adam's
        epsilon), would make `torch.compile` recompile at every step.
        """
        return (
            type(self).step is Optimizer.step
            and not callable(self._learning_rate)
            and hasattr(self.torch_optimizer, "step_with_gradients")
        )

    def _apply_gradients(self, grads: list[Tensor | None]) -> None:
        """`step()` from `grads` (one per parameter given to `build`, in order).

        Clipping, decoupled weight decay and the update, without touching
        `.grad` or `iterations` (the caller counts the step), so that the
        whole of it can be traced into a compiled train step.
        """
        present = [g for g in grads if g is not None]
        if present:
            self._clip(present)
            decay = None if self._spec.native_weight_decay else self.weight_decay
            if decay:
                with torch.no_grad():
                    params: list[Tensor] = [
                        p for p, g in zip(self._params, grads) if g is not None
                    ]
                    torch._foreach_mul_(params, 1.0 - self._current_lr() * decay)
        opt = self.torch_optimizer
        if opt is not None:
            opt.step_with_gradients([grads])  # type: ignore[attr-defined]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of the parameters given to `build`."""
        opt = self.torch_optimizer
        if opt is None:
            return
        if not set_to_none:
            opt.zero_grad(set_to_none=False)
            return
        # What torch's `zero_grad()` does, minus its profiler range (~10 µs).
        for group in opt.param_groups:
            for p in group["params"]:
                p.grad = None

    def state_dict(self) -> dict[str, Any]:
        """The step count and the torch optimizer's `state_dict()`."""
        torch_state = (
            None if self.torch_optimizer is None else self.torch_optimizer.state_dict()
        )
        if torch_state is not None:  # FSDP: whole tensors, not this rank's rows
            torch_state["state"] = {
                index: {key: sharding.full(value) for key, value in entry.items()}
                for index, entry in torch_state["state"].items()
            }
        return {"iterations": self._iterations, "optimizer": torch_state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores `state_dict()`'s output; before `build`, it waits for it."""
        if set(state_dict) != {"iterations", "optimizer"}:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected keys "
                f"['iterations', 'optimizer'], got {sorted(state_dict)}."
            )
        iterations = state_dict["iterations"]
        if (
            not isinstance(iterations, int)
            or isinstance(iterations, bool)
            or iterations < 0
        ):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected 'iterations' to be "
                f"a non-negative int, got {iterations!r}."
            )
        if not self.built:
            self._pending_state = state_dict
            return
        self._iterations = iterations
        if self.torch_optimizer is not None and state_dict["optimizer"] is not None:
            self.torch_optimizer.load_state_dict(
                self._keep_impl(state_dict["optimizer"])
            )
            self._shard_state()
            if not callable(self._learning_rate):  # a rate set since (a callback)
                self._learning_rate = float(self.torch_optimizer.param_groups[0]["lr"])

    def _keep_impl(self, saved: dict[str, Any]) -> dict[str, Any]:
        """`saved` with this build's kernel choice (`fused`/`foreach`) in its groups.

        The choice follows where the parameters live now (`_impl_kwargs`): a state
        saved by a fused optimizer on plain tensors must not turn fused on for
        FSDP's sharded ones, which torch's fused kernels cannot take.
        """
        opt = self.torch_optimizer
        groups = saved.get("param_groups")
        current = [] if opt is None else opt.param_groups
        if not isinstance(groups, list) or len(groups) != len(current):
            return saved  # torch's own load_state_dict reports the mismatch
        impl = ("fused", "foreach")
        kept = [
            {**g, **{k: now[k] for k in impl if k in now}}
            for g, now in zip(groups, current)
        ]
        return {**saved, "param_groups": kept}

    def _shard_state(self) -> None:
        """FSDP: keep this rank's rows of a whole state loaded for sharded weights."""
        opt = self.torch_optimizer
        for param, entry in [] if opt is None else opt.state.items():
            if sharding.is_sharded(param):
                for key, value in entry.items():
                    if (
                        isinstance(value, Tensor)
                        and not sharding.is_sharded(value)
                        and value.shape == param.shape
                    ):
                        entry[key] = sharding.shard_like(value, param)

    def get_config(self) -> dict[str, Any]:
        """Returns the JSON-able constructor arguments."""
        return {
            "name": self.name,
            "learning_rate": _serialize_lr(self._learning_rate),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            **self._hyperparameters(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Creates an optimizer (without state) from `get_config()`'s output."""
        config = dict(config)
        if "learning_rate" in config:
            lr = config["learning_rate"]
            config["learning_rate"] = (
                schedules.deserialize(lr) if isinstance(lr, dict) else lr
            )
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
