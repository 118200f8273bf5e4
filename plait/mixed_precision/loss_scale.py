"""`LossScaleOptimizer`: dynamic loss scaling for `mixed_float16` training.

float16 gradients underflow to zero below ~6e-8. The train step multiplies
the loss by `dynamic_scale` before backpropagating (`scale_loss`), so small
gradients survive in float16; `step()` divides the float32 gradients by the
scale again and checks them: if any is inf or NaN the update is skipped and
the scale halved, otherwise the inner optimizer steps, and after
`dynamic_growth_steps` good steps in a row the scale doubles. This is Keras's
`LossScaleOptimizer` (and `torch.amp.GradScaler`'s rule, with Keras's
defaults: initial scale 2**15, growth every 2000 steps). `mixed_bfloat16`
needs none: bfloat16 has float32's exponent range.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from plait.optimizers import optimizers as optimizers_mod
from plait.optimizers.base import LearningRate, Optimizer

__all__ = ["LossScaleOptimizer", "scale_for"]


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss and skips steps with non-finite gradients.

    `Model.compile` wraps the optimizer in one when the model's policy is
    `mixed_float16` (`auto_scale_loss=True`); wrap it yourself to choose the
    arguments.

    Args:
        inner_optimizer: The optimizer that does the updates (an instance or
            anything `plait.optimizers.get` takes).
        initial_scale: The loss scale to start with.
        dynamic_growth_steps: Good steps in a row after which the scale doubles.
        name: Defaults to `"loss_scale_optimizer"`.

    Attributes:
        inner_optimizer: The wrapped optimizer.
        dynamic_scale: The current loss scale (a float32 tensor on the
            parameters' device, updated in place).
        step_counter: Good steps since the scale last changed.

    Example:
        >>> from plait.optimizers.optimizers import SGD
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=4.0)
        >>> opt.build([w])
        >>> opt.scale_loss((w * 1.0).sum()).backward()
        >>> opt.step()  # gradients 4.0 / 4.0 = 1.0
        >>> w.data
        tensor([0.9000, 0.9000])
        >>> w.grad = torch.tensor([float("inf"), 1.0])
        >>> opt.step()  # skipped; the scale halves
        >>> w.data, opt.loss_scale, opt.iterations
        (tensor([0.9000, 0.9000]), 2.0, 1)
    """

    def __init__(
        self,
        inner_optimizer: Any,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        inner = optimizers_mod.get(inner_optimizer)
        if isinstance(inner, LossScaleOptimizer):
            raise TypeError(
                "LossScaleOptimizer: expected an optimizer to wrap, got a "
                "LossScaleOptimizer (it would scale the loss twice)."
            )
        super().__init__(
            learning_rate=0.0, name=name or "loss_scale_optimizer", **kwargs
        )
        if (
            isinstance(initial_scale, bool)
            or not isinstance(initial_scale, (int, float))
            or not 0 < initial_scale < math.inf
        ):
            raise ValueError(
                "LossScaleOptimizer: expected `initial_scale` to be a positive "
                f"finite float, got initial_scale={initial_scale!r}."
            )
        if (
            isinstance(dynamic_growth_steps, bool)
            or not isinstance(dynamic_growth_steps, int)
            or dynamic_growth_steps < 1
        ):
            raise ValueError(
                "LossScaleOptimizer: expected `dynamic_growth_steps` to be a positive "
                f"int, got dynamic_growth_steps={dynamic_growth_steps!r}."
            )
        self.inner_optimizer = inner
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self.dynamic_scale = torch.tensor(self.initial_scale, dtype=torch.float32)
        self.step_counter = 0

    # ------------------------------------------------------------------ delegation
    def build(self, params: Any) -> None:
        """Builds the inner optimizer; the scale moves to the parameters' device."""
        params = list(params)
        self.inner_optimizer.build(params)
        self._params = self.inner_optimizer._params
        self.torch_optimizer = self.inner_optimizer.torch_optimizer
        if self._params:
            device = self._params[0].device
            self.dynamic_scale = self.dynamic_scale.to(device)
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    def _current_lr(self) -> float:
        return self.inner_optimizer._current_lr()

    @property
    def learning_rate(self) -> float:
        """The inner optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> int:
        """Updates applied (skipped steps do not count), as the inner optimizer's."""
        return self.inner_optimizer.iterations

    @property
    def variables(self) -> list[torch.Tensor]:
        """The inner optimizer's state tensors and the loss scale."""
        return [*self.inner_optimizer.variables, self.dynamic_scale]

    @property
    def loss_scale(self) -> float:
        """The current loss scale as a float (tf.keras's name)."""
        return float(self.dynamic_scale)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients."""
        self.inner_optimizer.zero_grad(set_to_none)

    def _takes_gradients(self) -> bool:
        return False  # the finite check decides on the host whether to step

    # ------------------------------------------------------------------ scaling
    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """`loss * dynamic_scale`: what the train step backpropagates."""
        return loss * self.dynamic_scale.to(loss.device)

    @torch.no_grad()
    def step(self) -> None:
        """Unscales the gradients; steps, or skips and halves the scale on inf/NaN."""
        if not self.built:
            raise ValueError(
                "LossScaleOptimizer: call build(params) before step(); the trainer "
                "does this in compile()/fit()."
            )
        grads = [p.grad for p in self._params if p.grad is not None]
        finite = True
        if grads:
            found = torch.zeros(1, device=grads[0].device)
            inv = self.dynamic_scale.to(grads[0].device).reciprocal()
            by_device: dict[torch.device, list[torch.Tensor]] = {}
            for g in grads:
                by_device.setdefault(g.device, []).append(g)
            for device, group in by_device.items():
                here = (
                    found if device == found.device else torch.zeros(1, device=device)
                )
                torch._amp_foreach_non_finite_check_and_unscale_(
                    group, here, inv.to(device)
                )
                if here is not found:
                    found += here.to(found.device)
            finite = not bool(found.item())  # one host sync, as GradScaler's
        if finite:
            self.inner_optimizer.step()
            self.step_counter += 1
            if self.step_counter >= self.dynamic_growth_steps:
                self.dynamic_scale.mul_(2.0)
                self.step_counter = 0
        else:
            self.dynamic_scale.mul_(0.5)
            self.step_counter = 0
            self.zero_grad()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The inner optimizer's state plus the loss scale and the step counter."""
        return {
            **self.inner_optimizer.state_dict(),
            "loss_scale": float(self.dynamic_scale),
            "step_counter": self.step_counter,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores `state_dict()`'s output (before `build`, it waits for it)."""
        state = dict(state_dict)
        scale = state.pop("loss_scale", None)
        counter = state.pop("step_counter", None)
        if not isinstance(scale, (int, float)) or not isinstance(counter, int):
            raise ValueError(
                "LossScaleOptimizer.load_state_dict: expected a float 'loss_scale' "
                f"and an int 'step_counter', got {scale!r} and {counter!r}."
            )
        if not self.built:
            self._pending_state = state_dict
            return
        self.inner_optimizer.load_state_dict(state)
        self.dynamic_scale.fill_(float(scale))
        self.step_counter = counter

    def get_config(self) -> dict[str, Any]:
        """The inner optimizer's config and the scaling arguments."""
        return {
            "name": self.name,
            "inner_optimizer": optimizers_mod.serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossScaleOptimizer:
        """The optimizer of `get_config()`'s output (no state)."""
        return cls(**config)


def scale_for(model: Any, optimizer: Optimizer) -> Optimizer:
    """`optimizer` wrapped in a `LossScaleOptimizer` if `model` computes in mixed_float16.

    That is, if the model or any of its layers has the `mixed_float16` policy
    (float16 computation on float32 weights); otherwise `optimizer` unchanged.
    """
    if isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    layers = [model, *model._all_sublayers()]
    if any(
        getattr(layer, "_compute_dtype", None) == torch.float16
        and getattr(layer, "_variable_dtype", None) == torch.float32
        for layer in layers
    ):
        return LossScaleOptimizer(optimizer)
    return optimizer


# Saved models name it as their optimizer's class; a name alone cannot build it
# (it wraps another optimizer), so only its config resolves.
optimizers_mod._REGISTRY.add(LossScaleOptimizer, named=False)
