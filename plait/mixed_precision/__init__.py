"""Mixed precision, with Keras's API on torch's autocast and loss scaling.

`set_global_policy("mixed_float16")` (or `"mixed_bfloat16"`) makes the layers
created afterwards compute in half precision on `torch.autocast` while their
weights stay float32; `Model.compile` then wraps the optimizer in a
`LossScaleOptimizer` under `mixed_float16`. See `plait.dtype_policies.policy`
for the policies and `plait.dtype_policies.autocast` for how layers run.

Example:
    >>> from plait import mixed_precision
    >>> mixed_precision.set_global_policy("mixed_bfloat16")
    >>> mixed_precision.global_policy()
    <DTypePolicy "mixed_bfloat16">
    >>> mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from plait.dtype_policies.policy import (
    DTypePolicy,
    Policy,
    global_policy,
    set_global_policy,
)
from plait.mixed_precision.loss_scale import LossScaleOptimizer

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "global_policy",
    "set_global_policy",
]
