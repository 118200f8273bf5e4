"""The optimizer hyperparameter table: each Keras optimizer's torch class and arguments.

One `Spec` per optimizer (see `plait.optimizers.base.Spec`): the classes in
`plait.optimizers.optimizers` and `plait.optimizers.adaptive` take their row
as `_spec`, and `keras_init` their signature's defaults.
"""

from __future__ import annotations

import math

from plait.optimizers.base import Arg, Spec
from plait.optimizers.keras_rmsprop import KerasRMSprop

__all__: list[str] = []

_UNIT, _POSITIVE = (0.0, 1.0), (0.0, math.inf)
_BETAS = {
    "beta_1": Arg(*_UNIT, torch="betas"),
    "beta_2": Arg(*_UNIT, torch="betas"),
    "epsilon": Arg(*_POSITIVE, torch="eps"),
}
_ADAM = {**_BETAS, "amsgrad": Arg(torch="amsgrad")}
_ON_CPU_CUDA = frozenset({"cpu", "cuda"})

# Keras optimizer -> its torch class, and the range and torch keyword of each
# of its own arguments. The common arguments (weight_decay, clipping, name)
# are `Optimizer`'s; the Keras defaults are the classes' signatures.
_TABLE: dict[str, Spec] = {
    "SGD": Spec(
        "SGD",
        {"momentum": Arg(*_UNIT, torch="momentum"), "nesterov": Arg()},
        fused_devices=_ON_CPU_CUDA,
    ),
    "RMSprop": Spec(  # Keras's epsilon placement: see RMSprop
        KerasRMSprop,
        {
            "rho": Arg(*_UNIT, torch="rho"),
            "momentum": Arg(*_UNIT, torch="momentum"),
            "epsilon": Arg(*_POSITIVE, torch="eps"),
            "centered": Arg(torch="centered"),
        },
    ),
    "Adam": Spec("Adam", _ADAM, fused_devices=_ON_CPU_CUDA),
    "AdamW": Spec("AdamW", _ADAM, fused_devices=_ON_CPU_CUDA, native_weight_decay=True),
    "Adagrad": Spec(
        "Adagrad",
        {
            "initial_accumulator_value": Arg(
                *_POSITIVE, torch="initial_accumulator_value"
            ),
            "epsilon": Arg(*_POSITIVE, torch="eps"),
        },
        fused_devices=frozenset({"cpu"}),
    ),
    "Adadelta": Spec(
        "Adadelta",
        {"rho": Arg(*_UNIT, torch="rho"), "epsilon": Arg(*_POSITIVE, torch="eps")},
    ),
    "Adamax": Spec("Adamax", _BETAS),
    # Keras's momentum schedule is torch's with momentum_decay=1 (see Nadam).
    "Nadam": Spec("NAdam", _BETAS, torch_extra=(("momentum_decay", 1.0),)),
    "Lion": Spec(
        "Lion",
        {"beta_1": Arg(*_UNIT, torch="betas"), "beta_2": Arg(*_UNIT, torch="betas")},
    ),
}
